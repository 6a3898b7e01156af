//! Slack text escaping. Everything a scanner or a user wrote goes through
//! [`escape_mrkdwn`] before it reaches a Slack message; only [`mention`] (for validated user
//! ids) and the templates themselves produce `<…>` control sequences.
//!
//! Slack's rule is short: `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`. With `<`
//! escaped, no finding text can form `<!channel>`, `<!here>`, `<!everyone>`,
//! `<!subteam^…>`, `<@U…>` or `<#C…>`, which are the only ways to ping people in text that
//! is posted without `link_names`/`parse=full`. We never set either, so bare `@channel` is
//! plain text today; the zero-width joiner we add after `@` in `@channel`, `@here` and
//! `@everyone` keeps it that way should a future template or API call turn parsing on.

use crate::chat::templates::text::{cut_point, truncate_with};

/// The invisible character inserted after `@` in broadcast words.
const ZWJ: char = '\u{200D}';

/// Words that ping a whole channel or workspace when Slack parses names.
const BROADCASTS: [&str; 3] = ["channel", "here", "everyone"];

/// Whether `rest` (the text after an `@`) starts with a broadcast word, possibly behind
/// zero-width joiners that are already there (so escaping stays reversible).
fn starts_broadcast(rest: &str) -> bool {
    let word = rest.trim_start_matches(ZWJ);
    BROADCASTS.iter().any(|b| {
        word.get(..b.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(b))
    })
}

/// Escape text for a Slack `mrkdwn` or `plain_text` field: `& < >` as Slack requires, plus a
/// zero-width joiner after `@` in `@channel`, `@here` and `@everyone`.
pub fn escape_mrkdwn(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => {
                out.push('@');
                if starts_broadcast(&s[i + 1..]) {
                    out.push(ZWJ);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape_mrkdwn`]: `unescape_mrkdwn(&escape_mrkdwn(s)) == s` for every `s`.
pub fn unescape_mrkdwn(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let entity = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e));
        if let Some((e, ch)) = entity {
            out.push(ch);
            rest = &rest[e.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        if c == '@'
            && let Some(after) = rest.strip_prefix(ZWJ)
            && starts_broadcast(after)
        {
            rest = after;
        }
    }
    out
}

pub use crate::chat::templates::text::truncate_chars;

/// [`truncate_chars`] for text that is already escaped: the cut also never splits an entity
/// (`&amp;`) or a control sequence (`<@U123>`), which Slack would otherwise show half-raw.
pub fn truncate_mrkdwn(s: &str, max: usize, suffix: &str) -> String {
    truncate_with(s, max, suffix, |s, keep| {
        cut_point(s, keep, &[('&', ';'), ('<', '>')])
    })
}

/// Whether `id` looks like a Slack user id (`U…` or, for Enterprise Grid, `W…`).
pub fn is_slack_user_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && id.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A mention (`<@U123>`) for a valid Slack user id; anything else comes back as escaped
/// text, so a malformed id can never smuggle in a control sequence.
pub fn mention(user_id: &str) -> String {
    if is_slack_user_id(user_id) {
        format!("<@{user_id}>")
    } else {
        escape_mrkdwn(user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::chat::templates::testing;

    #[test]
    fn slack_control_sequences_are_escaped() {
        let s = escape_mrkdwn("<!channel> please look & fix <@U123> <#C1|x> <!subteam^S1>");
        assert_eq!(
            s,
            "&lt;!channel&gt; please look &amp; fix &lt;@U123&gt; &lt;#C1|x&gt; &lt;!subteam^S1&gt;"
        );
    }

    #[test]
    fn bare_broadcast_words_get_a_zero_width_joiner() {
        assert_eq!(escape_mrkdwn("hey @here!"), "hey @\u{200D}here!");
        assert_eq!(escape_mrkdwn("@Channel"), "@\u{200D}Channel");
        assert_eq!(escape_mrkdwn("@everyone"), "@\u{200D}everyone");
        assert_eq!(
            escape_mrkdwn("a@example.com @hermann"),
            "a@example.com @hermann"
        );
        assert_eq!(unescape_mrkdwn(&escape_mrkdwn("@here")), "@here");
    }

    #[test]
    fn truncation_counts_characters_and_keeps_them_whole() {
        assert_eq!(truncate_chars("héllo wörld", 20, "…"), "héllo wörld");
        assert_eq!(truncate_chars("héllo wörld", 6, "…"), "héllo…");
        assert_eq!(truncate_chars("🙂🙂🙂🙂", 3, "…"), "🙂🙂…");
        assert_eq!(truncate_chars("abcdef", 2, "[cut]"), "[c");
    }

    #[test]
    fn escaped_truncation_does_not_split_entities_or_mentions() {
        assert_eq!(truncate_mrkdwn("ab &amp; cd", 6, "…"), "ab …");
        assert_eq!(truncate_mrkdwn("hi <@U12345> there", 9, "…"), "hi …");
        assert_eq!(truncate_mrkdwn("hi <@U1> there", 10, "…"), "hi <@U1> …");
    }

    #[test]
    fn mentions_only_for_valid_user_ids() {
        assert_eq!(mention("U123ABC"), "<@U123ABC>");
        assert_eq!(mention("W0ABC"), "<@W0ABC>");
        assert_eq!(mention("U1"), "U1");
        assert_eq!(mention("U12>x"), "U12&gt;x");
        assert_eq!(mention("!channel"), "!channel");
        assert_eq!(mention("u123"), "u123");
    }

    fn tricky() -> impl Strategy<Value = String> {
        testing::tricky(&[
            "<", ">", "&", "@", "!", "#", "channel", "HERE", "everyone", "\u{200D}", "amp;", "lt;",
        ])
    }

    proptest! {
        #[test]
        fn escaped_text_never_forms_control_sequences_and_round_trips(
            s in prop_oneof![any::<String>(), tricky()]
        ) {
            let e = escape_mrkdwn(&s);
            prop_assert!(!e.contains("<!") && !e.contains("<@") && !e.contains("<#"));
            prop_assert!(!e.contains('<') && !e.contains('>'));
            prop_assert_eq!(unescape_mrkdwn(&e), s);
        }

        #[test]
        fn truncation_never_exceeds_the_limit(
            s in prop_oneof![any::<String>(), tricky()],
            max in 0usize..60,
            suffix in prop_oneof![Just(""), Just("…"), Just("… (truncated)")],
        ) {
            let t = truncate_chars(&s, max, suffix);
            prop_assert!(t.chars().count() <= max);
            let e = escape_mrkdwn(&s);
            let t = truncate_mrkdwn(&e, max, suffix);
            prop_assert!(t.chars().count() <= max);
            if t != e {
                let body = t.strip_suffix(suffix).unwrap_or(&t);
                // Any `&` left is the start of a whole entity.
                for (i, _) in body.match_indices('&') {
                    let tail = &body[i..];
                    prop_assert!(
                        ["&amp;", "&lt;", "&gt;"].iter().any(|x| tail.starts_with(x)),
                        "split entity in {:?}", body
                    );
                }
            }
        }
    }
}
