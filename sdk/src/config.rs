//! Parsing the config string that the host passes to [`crate::Transform::init`].
//!
//! The host passes the transform's `config` from the pipeline file as one string. Two
//! formats are supported, pick one per transform and document it in its README:
//!
//! - **JSON into a serde struct** ([`json`]): for structured config. An empty string parses
//!   as `{}`, so a struct whose fields all have `#[serde(default)]` needs no config at all.
//!   Use `#[serde(deny_unknown_fields)]` to catch typos.
//! - **`key=value` pairs** ([`KeyValues`]): for one or two scalar options, separated by
//!   commas, semicolons or newlines, e.g. `mode=panic, message=boom`.
//!
//! ```no_run
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     #[serde(default)]
//!     tables: Vec<String>,
//! }
//! let cfg: Config = wproc_sdk::config::json(r#"{"tables": ["shop.orders"]}"#)?;
//! # Ok::<(), wproc_sdk::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::Error;

/// Parses a JSON config into `T`; an empty (or blank) string is read as `{}`.
///
/// # Errors
/// [`Error::InvalidInput`] naming the JSON error (line, column, unknown field, ...).
pub fn json<T: DeserializeOwned>(config: &str) -> Result<T, Error> {
    let text = if config.trim().is_empty() {
        "{}"
    } else {
        config
    };
    serde_json::from_str(text).map_err(|e| Error::InvalidInput(format!("config: {e}")))
}

/// A config of `key=value` pairs, e.g. `mode=loop, after=3`.
///
/// Pairs are separated by `,`, `;` or newlines; keys and values are trimmed. A bare word
/// (no `=`) is stored with an empty value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyValues {
    map: BTreeMap<String, String>,
}

impl KeyValues {
    /// Parses the pairs.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty key or a key given twice.
    pub fn parse(config: &str) -> Result<Self, Error> {
        let mut map = BTreeMap::new();
        for item in config
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (k, v) = item.split_once('=').unwrap_or((item, ""));
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "config: empty key in {item:?}"
                )));
            }
            if map.insert(k.to_owned(), v.to_owned()).is_some() {
                return Err(Error::InvalidInput(format!(
                    "config: key {k:?} given twice"
                )));
            }
        }
        Ok(KeyValues { map })
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// The value of a key, or `default`.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// The value of a key parsed as `T` (`None` when absent).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the value does not parse.
    pub fn parse_value<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, Error> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| Error::InvalidInput(format!("config: bad value for {key}: {v:?}")))
            })
            .transpose()
    }

    /// Fails on any key not in `allowed` (to catch typos).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first unknown key.
    pub fn only(&self, allowed: &[&str]) -> Result<(), Error> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(Error::InvalidInput(format!(
                "config: unknown key {k:?} (expected one of {allowed:?})"
            ))),
            None => Ok(()),
        }
    }

    /// All pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        #[serde(default)]
        tables: Vec<String>,
    }

    #[test]
    fn json_config() {
        assert_eq!(json::<Cfg>("").unwrap(), Cfg { tables: vec![] });
        assert_eq!(json::<Cfg>(r#"{"tables":["a"]}"#).unwrap().tables, ["a"]);
        let err = json::<Cfg>(r#"{"table":["a"]}"#).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains("unknown field")),
            "{err}"
        );
    }

    #[test]
    fn key_values() {
        let kv = KeyValues::parse("mode = loop; after=3\nflag").unwrap();
        assert_eq!(kv.get("mode"), Some("loop"));
        assert_eq!(kv.parse_value::<u32>("after").unwrap(), Some(3));
        assert_eq!(kv.get("flag"), Some(""));
        assert_eq!(kv.get_or("x", "d"), "d");
        assert!(kv.parse_value::<u32>("mode").is_err());
        assert!(kv.only(&["mode", "after"]).is_err());
        assert!(KeyValues::parse("a=1,a=2").is_err());
        assert!(KeyValues::parse("=1").is_err());
        assert_eq!(KeyValues::parse("").unwrap(), KeyValues::default());
    }
}
