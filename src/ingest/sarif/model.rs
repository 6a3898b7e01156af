//! The subset of the SARIF 2.1.0 object model remedybot reads, as serde types. Unknown
//! fields are ignored. A run and the log around it are read by `stream`, which builds
//! findings while the results go by; everything inside a run's `tool` and inside one result
//! is an ordinary derived type here.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

#[derive(Deserialize)]
pub(crate) struct Tool {
    pub driver: Component,
    pub extensions: Option<Vec<Component>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Component {
    pub name: String,
    pub guid: Option<String>,
    pub rules: Option<Vec<Rule>>,
    pub global_message_strings: Option<HashMap<String, Text>>,
}

/// A `reportingDescriptor`: one rule's metadata.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rule {
    pub id: String,
    pub name: Option<String>,
    pub short_description: Option<Text>,
    pub full_description: Option<Text>,
    pub help: Option<Text>,
    pub help_uri: Option<String>,
    pub message_strings: Option<HashMap<String, Text>>,
    pub default_configuration: Option<Configuration>,
    pub relationships: Option<Vec<Relationship>>,
    #[serde(default)]
    pub properties: Properties,
}

/// A `message` or `multiformatMessageString`: only the plain text is read.
#[derive(Deserialize)]
pub(crate) struct Text {
    pub text: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Configuration {
    pub level: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Relationship {
    pub target: Option<Reference>,
}

/// A `reportingDescriptorReference` (`result.rule`, `result.taxa[]`, relationship targets).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reference {
    pub id: Option<String>,
    pub index: Option<i64>,
    pub tool_component: Option<ComponentReference>,
}

#[derive(Deserialize)]
pub(crate) struct ComponentReference {
    pub name: Option<String>,
    pub index: Option<i64>,
    pub guid: Option<String>,
}

/// The property bag keys remedybot reads. Property bags are free-form, so values of an
/// unexpected type are ignored rather than rejected.
#[derive(Deserialize, Default)]
pub(crate) struct Properties {
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub precision: Scalar,
    #[serde(default, rename = "security-severity")]
    pub security_severity: Scalar,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SarifResult {
    pub rule_id: Option<String>,
    pub rule_index: Option<i64>,
    pub rule: Option<Reference>,
    pub kind: Option<String>,
    pub level: Option<String>,
    pub message: Option<Message>,
    pub locations: Option<Vec<Location>>,
    pub analysis_target: Option<ArtifactLocation>,
    pub fingerprints: Option<BTreeMap<String, String>>,
    pub partial_fingerprints: Option<BTreeMap<String, String>>,
    pub baseline_state: Option<String>,
    pub suppressions: Option<Vec<Suppression>>,
    pub taxa: Option<Vec<Reference>>,
    #[serde(default)]
    pub properties: Properties,
}

#[derive(Deserialize)]
pub(crate) struct Message {
    pub text: Option<String>,
    pub id: Option<String>,
    pub arguments: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub(crate) struct Suppression {
    pub status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Location {
    pub physical_location: Option<PhysicalLocation>,
    pub logical_locations: Option<Vec<LogicalLocation>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhysicalLocation {
    pub artifact_location: Option<ArtifactLocation>,
    pub region: Option<Region>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactLocation {
    pub uri: Option<String>,
    pub uri_base_id: Option<String>,
    pub index: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Region {
    pub start_line: Option<i64>,
    pub start_column: Option<i64>,
    pub snippet: Option<Text>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogicalLocation {
    pub name: Option<String>,
    pub fully_qualified_name: Option<String>,
    pub index: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct Artifact {
    pub location: Option<ArtifactLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionControl {
    pub repository_uri: Option<String>,
}

/// A property-bag value read as text: strings and numbers (`"8.8"` or `8.8`) are kept;
/// null, booleans, arrays and objects are skipped.
#[derive(Default)]
pub(crate) struct Scalar(pub Option<String>);

/// A property-bag `tags` array; non-string elements and a non-array value are skipped.
#[derive(Default)]
pub(crate) struct Tags(pub Vec<String>);

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor).map(Scalar)
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TagsVisitor;
        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(Scalar(t)) = seq.next_element::<Scalar>()? {
                    tags.extend(t);
                }
                Ok(Tags(tags))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Tags::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }
        }
        d.deserialize_any(TagsVisitor)
    }
}
