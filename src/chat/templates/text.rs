//! Text helpers every platform's renderer shares: character-count truncation that never
//! splits a character or a platform's `open…close` sequence, and JSON string content.

/// `s` as it appears between the quotes of a JSON string.
pub fn json_string_content(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_string()
}

/// The byte index of the `n`th character of `s` (its length when `s` is shorter).
pub fn byte_index_of_char(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The byte index at which to cut `s` to keep at most `keep` characters, moved back so that
/// no `open…close` sequence (an entity, a mention) is left open.
pub fn cut_point(s: &str, keep: usize, pairs: &[(char, char)]) -> usize {
    let mut end = byte_index_of_char(s, keep);
    for (open, close) in pairs {
        let head = &s[..end];
        if let Some(at) = head.rfind(*open)
            && !head[at..].contains(*close)
        {
            end = at;
        }
    }
    end
}

/// At most `max` characters (not bytes: chat platforms' limits count characters) of `s`;
/// when `s` is longer, the start that `cut(s, n)` keeps of its first `n` characters, then
/// `suffix`, the whole within `max`.
pub fn truncate_with(
    s: &str,
    max: usize,
    suffix: &str,
    cut: impl Fn(&str, usize) -> usize,
) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let suffix_len = suffix.chars().count();
    if suffix_len >= max {
        return suffix.chars().take(max).collect();
    }
    let end = cut(s, max - suffix_len);
    format!("{}{suffix}", &s[..end])
}

/// [`truncate_with`] cutting anywhere between characters.
pub fn truncate_chars(s: &str, max: usize, suffix: &str) -> String {
    truncate_with(s, max, suffix, byte_index_of_char)
}

/// The end of a cut text: `… (truncated — full text: `remedybot show F-12`)`, the id as
/// `show_id` writes it in a code span.
pub fn truncated_pointer(id: Option<&str>, show_id: fn(&str) -> String) -> String {
    match id {
        Some(id) => format!(
            "… (truncated — full text: `remedybot show {}`)",
            show_id(id)
        ),
        None => "… (truncated)".into(),
    }
}

/// ` Full text: `remedybot show F-12`.` after a note that something was left out.
pub fn full_text_pointer(id: Option<&str>, show_id: fn(&str) -> String) -> String {
    id.map_or(String::new(), |id| {
        format!(" Full text: `remedybot show {}`.", show_id(id))
    })
}

/// What a message says when no template renders: a pointer at the CLI.
pub fn unrenderable_text(id: Option<&str>, show_id: fn(&str) -> String) -> String {
    match id {
        Some(id) => format!(
            "remedybot could not render this message; see `remedybot show {}`",
            show_id(id)
        ),
        None => "remedybot could not render this message".into(),
    }
}
