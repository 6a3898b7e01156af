//! Discord text escaping. Everything a scanner or a user wrote goes through
//! [`escape_markdown`] before it reaches a Discord message; only [`mention`] (for validated
//! user ids) and the templates themselves produce `<…>` sequences or markdown.
//!
//! Discord has no HTML entities: text is markdown, and a `\` before a character shows it
//! literally. We escape the characters that format text anywhere (`\ * _ ~ ` |`), the
//! brackets of masked links (`[ ] ( )`), and `<`, so no finding text can form a user, role
//! or channel mention (`<@1>`, `<@!1>`, `<@&1>`, `<#1>`), a slash command (`</cmd:1>`), a
//! timestamp (`<t:…>`) or a custom emoji. At the start of a line, `>`, `#`, `-`, `+` and the
//! `.` of `1.` are escaped too (quotes, headings, subtext, lists). `@everyone` and `@here`
//! get a zero-width space after the `@`; every message also carries `allowed_mentions`, so
//! even a mention that formed could not ping anyone it was not meant for.

use crate::chat::templates::text::{cut_point, truncate_with};

/// The invisible character inserted after `@` in `@everyone` and `@here`.
pub const ZWSP: char = '\u{200B}';

/// Words that ping a whole server or channel.
const BROADCASTS: [&str; 2] = ["everyone", "here"];

/// Escaped wherever they are.
const ALWAYS: [char; 11] = ['\\', '*', '_', '~', '`', '|', '[', ']', '(', ')', '<'];

/// Escaped as the first character of a line (after indentation).
const LINE_START: [char; 4] = ['>', '#', '-', '+'];

/// Whether `rest` (the text after an `@`) starts with a broadcast word.
fn starts_broadcast(rest: &str) -> bool {
    BROADCASTS.iter().any(|b| {
        rest.get(..b.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(b))
    })
}

/// Escape text for Discord markdown (message content, embed descriptions, titles, field
/// names and values): see the module documentation.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut line_start = true;
    // The byte index of a `.` that would make the line a numbered list item.
    let mut list_dot = None;
    for (i, c) in s.char_indices() {
        if line_start && !matches!(c, ' ' | '\t') {
            line_start = false;
            if c.is_ascii_digit() {
                let digits = s[i..].find(|d: char| !d.is_ascii_digit()).map(|n| i + n);
                list_dot = digits.filter(|&d| s[d..].starts_with('.'));
            }
            if LINE_START.contains(&c) {
                out.push('\\');
            }
        }
        if ALWAYS.contains(&c) || list_dot == Some(i) {
            out.push('\\');
        }
        out.push(c);
        match c {
            '\n' => line_start = true,
            '@' if starts_broadcast(&s[i + 1..]) => out.push(ZWSP),
            _ => {}
        }
    }
    out
}

/// Text Discord shows as written (footers, button labels): unescaped, but `@everyone` and
/// `@here` still get their zero-width space.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        out.push(c);
        if c == '@' && starts_broadcast(&s[i + 1..]) {
            out.push(ZWSP);
        }
    }
    out
}

/// Text for a code span or block: shown as written, but a backtick cannot close it (it
/// becomes a look-alike, `ˋ`). Mentions do not form inside code.
pub fn code(s: &str) -> String {
    s.replace('`', "\u{02CB}")
}

/// At most `max` characters of escaped markdown (Discord's limits count characters): its
/// start then `suffix`. The cut never leaves half an escape (`\*`) or a `<…>` mention, and
/// closes a code block it cuts into.
pub fn truncate_markdown(s: &str, max: usize, suffix: &str) -> String {
    let cut = |s: &str, keep: usize| {
        let end = cut_point(s, keep, &[('<', '>')]);
        let slashes = s[..end].len() - s[..end].trim_end_matches('\\').len();
        end - slashes % 2
    };
    let t = truncate_with(s, max, suffix, cut);
    if t == s || t.matches("```").count() % 2 == 0 {
        return t;
    }
    truncate_with(s, max, &format!("\n```{suffix}"), cut)
}

/// Whether `id` looks like a Discord user id (a snowflake: up to 20 digits).
pub fn is_discord_user_id(id: &str) -> bool {
    (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// A mention (`<@123>`) for a valid Discord user id; anything else comes back as escaped
/// text, so a malformed id can never smuggle in a mention of something else.
pub fn mention(user_id: &str) -> String {
    if is_discord_user_id(user_id) {
        format!("<@{user_id}>")
    } else {
        escape_markdown(user_id)
    }
}

/// Whether `text` has a `c` that no backslash escapes (for tests: escaped text has none of
/// the characters [`escape_markdown`] always escapes).
#[cfg(test)]
pub(crate) fn has_unescaped(text: &str, c: char) -> bool {
    let mut slashes = 0;
    for ch in text.chars() {
        if ch == c && slashes % 2 == 0 {
            return true;
        }
        slashes = if ch == '\\' { slashes + 1 } else { 0 };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::chat::templates::testing;

    #[test]
    fn formatting_characters_are_escaped() {
        assert_eq!(
            escape_markdown("**bold** _it_ ~~x~~ `c` ||spoiler|| a\\b"),
            "\\*\\*bold\\*\\* \\_it\\_ \\~\\~x\\~\\~ \\`c\\` \\|\\|spoiler\\|\\| a\\\\b"
        );
        assert_eq!(
            escape_markdown("[click](https://evil.example)"),
            "\\[click\\]\\(https://evil.example\\)"
        );
        assert_eq!(escape_markdown("F-12 on 2026-01-31"), "F-12 on 2026-01-31");
    }

    #[test]
    fn line_starts_cannot_make_headings_lists_or_quotes() {
        assert_eq!(
            escape_markdown("# big\n> quote\n- item\n  + sub\n-# small\n12. twelve\n>>> all"),
            "\\# big\n\\> quote\n\\- item\n  \\+ sub\n\\-# small\n12\\. twelve\n\\>>> all"
        );
        assert_eq!(escape_markdown("a - b > c # d 1. e"), "a - b > c # d 1. e");
        assert_eq!(escape_markdown("2026 was"), "2026 was");
    }

    #[test]
    fn mentions_and_other_angle_sequences_cannot_form() {
        let s = escape_markdown("<@123> <@!123> <@&456> <#789> </cmd:1> <t:1700000000:R> <:e:1>");
        assert_eq!(
            s,
            "\\<@123> \\<@!123> \\<@&456> \\<#789> \\</cmd:1> \\<t:1700000000:R> \\<:e:1>"
        );
    }

    #[test]
    fn broadcasts_get_a_zero_width_space() {
        assert_eq!(escape_markdown("hey @everyone"), "hey @\u{200B}everyone");
        assert_eq!(escape_markdown("@HERE!"), "@\u{200B}HERE!");
        assert_eq!(
            escape_markdown("a@example.com @hermann"),
            "a@example.com @hermann"
        );
    }

    #[test]
    fn truncation_keeps_escapes_mentions_and_code_blocks_whole() {
        assert_eq!(truncate_markdown("héllo wörld", 20, "…"), "héllo wörld");
        assert_eq!(truncate_markdown("ab\\*cd", 4, "…"), "ab…");
        assert_eq!(truncate_markdown("a\\\\*cd", 4, "…"), "a\\\\…");
        assert_eq!(truncate_markdown("hi <@1234567> there", 9, "…"), "hi …");
        let t = truncate_markdown("```\nrow 1\nrow 2\nrow 3\n```", 16, "…");
        assert_eq!(t, "```\nrow 1\nr\n```…");
        assert_eq!(truncate_markdown("🙂🙂🙂🙂", 3, "…"), "🙂🙂…");
    }

    #[test]
    fn mentions_only_for_valid_user_ids() {
        assert_eq!(mention("80351110224678912"), "<@80351110224678912>");
        assert_eq!(mention("&123"), "&123");
        assert_eq!(mention("12>x"), "12>x");
        assert_eq!(mention("1<@2"), "1\\<@2");
        assert_eq!(mention("123456789012345678901"), "123456789012345678901");
        assert_eq!(mention(""), "");
    }

    #[test]
    fn plain_text_only_defuses_broadcasts() {
        assert_eq!(plain("*a* <@1> @everyone"), "*a* <@1> @\u{200B}everyone");
    }

    #[test]
    fn code_cannot_close_its_block() {
        assert_eq!(code("a ``` b `c`"), "a ˋˋˋ b ˋcˋ");
    }

    fn tricky() -> impl Strategy<Value = String> {
        testing::tricky(&[
            "<", ">", "\\", "@", "&", "#", "everyone", "HERE", "\n", "[x](y)", "```", "1.",
        ])
    }

    proptest! {
        #[test]
        fn escaped_text_never_forms_mentions_links_or_broadcasts(
            s in prop_oneof![any::<String>(), tricky()]
        ) {
            let e = escape_markdown(&s);
            for c in ALWAYS.into_iter().filter(|c| *c != '\\') {
                prop_assert!(!has_unescaped(&e, c), "unescaped {:?} in {:?}", c, e);
            }
            let lower = e.to_lowercase();
            prop_assert!(!lower.contains("@everyone") && !lower.contains("@here"));
            prop_assert_eq!(e.replace(['\\', ZWSP], ""), s.replace(['\\', ZWSP], ""));
        }

        #[test]
        fn truncation_never_exceeds_the_limit(
            s in prop_oneof![any::<String>(), tricky()],
            max in 0usize..60,
            suffix in prop_oneof![Just(""), Just("…"), Just("… (truncated)")],
        ) {
            let e = escape_markdown(&s);
            let t = truncate_markdown(&e, max, suffix);
            prop_assert!(t.chars().count() <= max, "{:?}", t);
            if t != e && max > 30 {
                let body = t.strip_suffix(suffix).unwrap_or(&t);
                for c in ALWAYS.into_iter().filter(|c| *c != '\\') {
                    prop_assert!(!has_unescaped(body, c), "unescaped {:?} in {:?}", c, body);
                }
            }
        }
    }
}
