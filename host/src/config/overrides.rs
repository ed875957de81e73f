//! Command-line overrides of configuration values: `--set key.path=value` and the named flags.
//!
//! An override replaces one value of the file after `${ENV}` substitution and before parsing,
//! so it is parsed and validated exactly like the file (unknown keys rejected, with the key's
//! path). The value is read as a TOML value when it is one (`8`, `true`, `"x"`, `[1, 2]`) and
//! as a string otherwise (`500ms`, `127.0.0.1:9184`, `mariadb-bin.000003:4`). Precedence, low
//! to high: the file, `--set` in command-line order, the named flags (`--start`, `--out-dir`,
//! `--metrics-listen`, `--drain-timeout`). Secrets cannot be set on the command line (other
//! users see it in `ps`): keys that name a password, key or token are refused; use `${ENV}` in
//! the file or the documented environment variables.

use std::str::FromStr;

/// Key names that hold secrets and are refused as overrides.
const SECRET_KEY_WORDS: [&str; 5] = ["password", "secret", "token", "access_key", "credential"];

/// One `key.path=value` override.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Dotted path, e.g. `sink.files.max_wait`.
    pub key: String,
    /// The value.
    pub value: toml::Value,
}

impl Override {
    /// An override of `key` with a string value.
    pub fn string(key: &str, value: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            value: toml::Value::String(value.into()),
        }
    }
}

impl FromStr for Override {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (key, raw) = text.split_once('=').ok_or_else(|| {
            format!("`{text}`: expected KEY=VALUE, e.g. sink.files.max_wait=500ms")
        })?;
        let key = key.trim();
        let valid = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !valid {
            return Err(format!(
                "`{key}` is not a dotted key such as sink.files.dir"
            ));
        }
        let lower = key.to_ascii_lowercase();
        if SECRET_KEY_WORDS.iter().any(|w| lower.contains(w)) {
            return Err(format!(
                "`{key}` holds a secret and cannot be set on the command line; write \
                 \"${{SOME_VAR}}\" in the file and set the variable"
            ));
        }
        let value = parse_value(raw.trim());
        Ok(Self {
            key: key.to_owned(),
            value,
        })
    }
}

/// A TOML value when `raw` is one, else the string itself.
pub(crate) fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

/// Sets `o.key` in `table`, creating tables on the way. Fails when a prefix of the key is a
/// value that is not a table.
pub fn apply(table: &mut toml::Table, o: &Override) -> Result<(), String> {
    let mut parts: Vec<&str> = o.key.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut current = table;
    let mut path = String::new();
    for part in parts {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(part);
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("--set {}: `{path}` is not a table", o.key))?;
    }
    current.insert(last.to_owned(), o.value.clone());
    Ok(())
}
