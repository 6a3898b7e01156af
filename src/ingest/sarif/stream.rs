//! The log, its runs and their results, read as serde visitors so that each result becomes a
//! draft finding while it is parsed and is then dropped. Only a run's small tables (tool,
//! artifacts, logical locations, provenance, base URIs) are kept whole.
//!
//! JSON does not order keys. Tools write `tool` before `results`, and then results stream;
//! a run that gives `results` first has them buffered as structs until its `tool` arrives.
//! Whatever a result's place and asset need from the run (`artifacts`, `originalUriBaseIds`,
//! `versionControlProvenance` often come after `results`) is looked up when the run ends.
//!
//! Errors in the JSON's shape are serde errors (with path and position). Errors in its
//! meaning (an unknown level, a rule index out of range) are kept in [`Collected`] and
//! reported once the whole log has been read, so a shape error anywhere still wins, as with
//! a parse into structs.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::locations::RunTables;
use super::model::{SarifResult, Tool};
use super::results::{Collected, Draft, RunContext};

/// What the log says about its runs.
pub(crate) enum Runs {
    /// No `runs` property: not a SARIF log.
    Absent,
    /// `"runs": null`: the tool did not run.
    Null,
    /// An array, read into the [`Collected`] the seed was given.
    Read,
}

/// The log's top level: `version`, and whether `runs` was there.
pub(crate) struct Head {
    pub version: Option<String>,
    pub runs: Runs,
}

const LOG_FIELDS: &[&str] = &["version", "runs"];
const RUN_FIELDS: &[&str] = &[
    "tool",
    "results",
    "artifacts",
    "logicalLocations",
    "versionControlProvenance",
    "originalUriBaseIds",
];

/// Reads a whole log, collecting its findings (or the first error in their meaning).
pub(crate) struct LogSeed<'c>(pub &'c mut Collected);

impl<'de> DeserializeSeed<'de> for LogSeed<'_> {
    type Value = Head;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_struct("Log", LOG_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_> {
    type Value = Head;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Log")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let mut seen = Seen::new(LOG_FIELDS);
        let mut version = None;
        let mut runs = Runs::Absent;
        while let Some(key) = map.next_key_seed(Key(LOG_FIELDS))? {
            match seen.first(key)? {
                Some(0) => version = map.next_value::<Option<String>>()?,
                Some(_) => {
                    let read = map.next_value_seed(RunsSeed(&mut *self.0))?;
                    runs = if read { Runs::Read } else { Runs::Null };
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Head { version, runs })
    }
    /// Serde's derive also reads a struct from an array of its fields in order; so does this,
    /// so that such input gets the same errors as before.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Head, A::Error> {
        let version = seq
            .next_element::<Option<String>>()?
            .ok_or_else(|| de::Error::invalid_length(0, &"struct Log with 2 elements"))?;
        let runs = match seq.next_element_seed(RunsSeed(self.0))? {
            None => Runs::Absent,
            Some(false) => Runs::Null,
            Some(true) => Runs::Read,
        };
        Ok(Head { version, runs })
    }
}

/// `runs`: `null` (false) or an array of runs (true).
struct RunsSeed<'c>(&'c mut Collected);

impl<'de> DeserializeSeed<'de> for RunsSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for RunsSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut r = 0;
        while seq
            .next_element_seed(RunSeed {
                r,
                log: &mut *self.0,
            })?
            .is_some()
        {
            r += 1;
        }
        Ok(true)
    }
}

/// `runs[r]`.
struct RunSeed<'c> {
    r: usize,
    log: &'c mut Collected,
}

impl<'de> DeserializeSeed<'de> for RunSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("Run", RUN_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Run")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let RunSeed { r, log } = self;
        let mut seen = Seen::new(RUN_FIELDS);
        let mut tool: Option<Tool> = None;
        // Results that came before `tool`: kept whole until it is known.
        let mut early: Option<Vec<SarifResult>> = None;
        let mut drafts = Vec::new();
        let mut tables = RunTables::default();
        while let Some(key) = map.next_key_seed(Key(RUN_FIELDS))? {
            match seen.first(key)? {
                Some(0) => {
                    let t: Tool = map.next_value()?;
                    log.check_tool(r, &t);
                    tool = Some(t);
                }
                Some(1) => match &tool {
                    Some(t) => map.next_value_seed(ResultsSeed {
                        ctx: &RunContext::new(r, t),
                        drafts: &mut drafts,
                        log: &mut *log,
                    })?,
                    None => early = map.next_value()?,
                },
                Some(2) => tables.artifacts = map.next_value()?,
                Some(3) => tables.logical_locations = map.next_value()?,
                Some(4) => tables.version_control_provenance = map.next_value()?,
                Some(_) => tables.original_uri_base_ids = map.next_value()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let tool = tool.ok_or_else(|| de::Error::missing_field("tool"))?;
        let ctx = RunContext::new(r, &tool);
        for (i, res) in early.into_iter().flatten().enumerate() {
            log.read(&ctx, i, res, &mut drafts);
        }
        log.finish_run(&ctx, drafts, &tables);
        Ok(())
    }
    /// The array form of a run (see [`LogSeed`]'s): `tool` comes first, so results stream.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let RunSeed { r, log } = self;
        let len = |i| de::Error::invalid_length(i, &"struct Run with 6 elements");
        let tool: Tool = seq.next_element()?.ok_or_else(|| len(0))?;
        log.check_tool(r, &tool);
        let ctx = RunContext::new(r, &tool);
        let mut drafts = Vec::new();
        let results = ResultsSeed {
            ctx: &ctx,
            drafts: &mut drafts,
            log: &mut *log,
        };
        seq.next_element_seed(results)?.ok_or_else(|| len(1))?;
        let tables = RunTables {
            artifacts: seq.next_element()?.ok_or_else(|| len(2))?,
            logical_locations: seq.next_element()?.ok_or_else(|| len(3))?,
            version_control_provenance: seq.next_element()?.ok_or_else(|| len(4))?,
            original_uri_base_ids: seq.next_element()?.ok_or_else(|| len(5))?,
        };
        log.finish_run(&ctx, drafts, &tables);
        Ok(())
    }
}

/// `runs[r].results`: `null` or an array, each result read into a draft as it is parsed.
struct ResultsSeed<'a, 'c> {
    ctx: &'a RunContext<'a>,
    drafts: &'a mut Vec<Draft>,
    log: &'c mut Collected,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(res) = seq.next_element::<SarifResult>()? {
            self.log.read(self.ctx, i, res, self.drafts);
            i += 1;
        }
        Ok(())
    }
}

/// An object key: its index in the known field names, or `None` for any other key.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|k| *k == v))
    }
}

/// The known fields met so far: a repeated one is an error, as serde's derive makes it.
struct Seen {
    names: &'static [&'static str],
    seen: Vec<bool>,
}

impl Seen {
    fn new(names: &'static [&'static str]) -> Self {
        Seen {
            names,
            seen: vec![false; names.len()],
        }
    }

    /// `key` again, or a `duplicate field` error if it was met before.
    fn first<E: de::Error>(&mut self, key: Option<usize>) -> Result<Option<usize>, E> {
        if let Some(i) = key
            && std::mem::replace(&mut self.seen[i], true)
        {
            return Err(E::duplicate_field(self.names[i]));
        }
        Ok(key)
    }
}
