//! `${NAME}` substitution in configuration text, so secrets stay in the environment.

/// Replaces every `${NAME}` in `text` with `lookup(NAME)`. `$${` is a literal `${`.
/// Fails on an unset variable or an unterminated `${`, naming the variable or the line.
pub fn substitute_env(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let line = text[..text.len() - tail.len()].lines().count().max(1);
            let end = after.find('}').ok_or_else(|| {
                format!("line {line}: unterminated `${{` (write `$${{` for a literal)")
            })?;
            let name = &after[..end];
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!("line {line}: `${{{name}}}` is not a variable name"));
            }
            let value = lookup(name)
                .ok_or_else(|| format!("line {line}: environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}
