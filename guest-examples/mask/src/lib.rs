//! Masks personal data: hashes, redacts, truncates or nulls configured columns.
//!
//! Config (JSON):
//! ```json
//! {"columns": {"email": "hash", "ssn": "redact", "phone": "last4", "birth_date": "null"},
//!  "salt": "change-me", "redact_with": "***", "tables": ["shop.users"]}
//! ```
//! Actions, applied to every image (before and after) that holds a non-NULL value:
//! - `hash`: hex SHA-256 of `salt` followed by the value's bytes (raw bytes for binary
//!   values, else the text form). Stable, so hashed columns still join across tables.
//! - `redact`: the string `redact_with` (default `***`).
//! - `last4`: the text form with all but the last 4 characters replaced by `*`.
//! - `null`: SQL NULL.
//!
//! `tables` limits masking to matching tables (`table`, `db.table`, `*` patterns); other
//! events, and DDL, pass unchanged. Events are kept and edited in place: only the masked
//! values cross the component boundary, never whole records.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use wproc_sdk::{Batch, Output, Result, Transform, Value};

/// What to do with a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Hash,
    Redact,
    Last4,
    Null,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    columns: BTreeMap<String, Action>,
    #[serde(default)]
    salt: String,
    #[serde(default = "default_redaction")]
    redact_with: String,
    #[serde(default)]
    tables: Vec<String>,
}

fn default_redaction() -> String {
    "***".to_owned()
}

/// The mask transform.
pub struct Mask {
    config: Config,
}

impl Mask {
    fn mask(&self, action: Action, v: &Value) -> Value {
        match action {
            Action::Null => Value::Null,
            Action::Redact => Value::String(self.config.redact_with.clone()),
            Action::Hash => {
                let mut h = Sha256::new();
                h.update(self.config.salt.as_bytes());
                match v.as_bytes() {
                    Some(b) => h.update(b),
                    None => h.update(v.to_string().as_bytes()),
                }
                let digest = h.finalize();
                Value::String(digest.iter().map(|b| format!("{b:02x}")).collect())
            }
            Action::Last4 => {
                let text = v.to_string();
                let n = text.chars().count();
                let masked = text
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i + 4 < n { '*' } else { c });
                Value::String(masked.collect())
            }
        }
    }
}

impl Transform for Mask {
    fn init(config: &str) -> Result<Self> {
        let config: Config = wproc_sdk::config::json(config)?;
        if config.columns.is_empty() {
            return Err(wproc_sdk::Error::InvalidInput(
                "config: `columns` is empty".into(),
            ));
        }
        if config.salt.is_empty() && config.columns.values().any(|a| *a == Action::Hash) {
            wproc_sdk::log::warn("mask: hashing without a salt: values can be guessed");
        }
        Ok(Mask { config })
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        let in_scope = batch.tables_matching(&self.config.tables);
        for e in batch.events() {
            let mut kept = out.keep(&e);
            if !in_scope[e.table_id()] {
                continue;
            }
            for (column, &action) in &self.config.columns {
                for &image in e.op().images() {
                    match e.value(image, column) {
                        Some(v) if !v.is_null() => {
                            kept = kept.set(image, column.as_str(), self.mask(action, &v));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}

wproc_sdk::export_transform!(Mask);

#[cfg(test)]
mod tests {
    use wproc_sdk::testing::Harness;
    use wproc_sdk::{Image, Value};

    use super::Mask;

    const INPUT: &str = r#"{"op":"update","db":"shop","table":"users","before":{"id":1,"email":"a@b.c","phone":"+31612345678","ssn":null},"after":{"id":1,"email":"new@b.c","phone":"+31612345678","ssn":"123-45-6789"}}
{"op":"insert","db":"shop","table":"orders","after":{"id":9,"email":"a@b.c"}}
{"op":"ddl","db":"shop","table":"users","sql":"ALTER TABLE users ADD x INT"}"#;

    const CONFIG: &str = r#"{"columns": {"email": "hash", "phone": "last4", "ssn": "redact", "id": "null"},
        "salt": "pepper", "tables": ["users"]}"#;

    #[test]
    fn masks_both_images_of_configured_tables_only() {
        let out = Harness::<Mask>::new(CONFIG)
            .unwrap()
            .process_jsonl(INPUT)
            .unwrap();
        assert_eq!(out.events.len(), 3, "nothing dropped");
        let users = &out.events[0].event;
        let get = |img, col| users.value(img, col).unwrap().clone();
        let hash_a = get(Image::Before, "email");
        assert_eq!(hash_a.as_str().map(str::len), Some(64));
        assert_ne!(hash_a, get(Image::After, "email"));
        assert_eq!(get(Image::After, "phone"), Value::from("********5678"));
        assert_eq!(get(Image::Before, "ssn"), Value::Null, "NULL stays NULL");
        assert_eq!(get(Image::After, "ssn"), Value::from("***"));
        assert_eq!(get(Image::After, "id"), Value::Null);
        let orders = &out.events[1].event;
        assert_eq!(
            orders.get("email"),
            Some(&Value::from("a@b.c")),
            "table not in scope"
        );
        assert_eq!(
            out.events[2].event.sql.as_deref(),
            Some("ALTER TABLE users ADD x INT")
        );
    }

    #[test]
    fn hash_is_stable_and_salted() {
        let one = |cfg: &str| {
            let out = Harness::<Mask>::new(cfg)
                .unwrap()
                .process_jsonl(INPUT)
                .unwrap();
            out.events[0]
                .event
                .value(Image::Before, "email")
                .unwrap()
                .clone()
        };
        let a = one(r#"{"columns": {"email": "hash"}, "salt": "s1"}"#);
        assert_eq!(a, one(r#"{"columns": {"email": "hash"}, "salt": "s1"}"#));
        assert_ne!(a, one(r#"{"columns": {"email": "hash"}, "salt": "s2"}"#));
    }

    #[test]
    fn config_errors() {
        assert!(Harness::<Mask>::new(r#"{"columns": {}}"#).is_err());
        assert!(Harness::<Mask>::new(r#"{"columns": {"a": "scramble"}}"#).is_err());
        assert!(Harness::<Mask>::new("").is_err(), "columns is required");
        Harness::<Mask>::new(r#"{"columns": {"a": "hash"}}"#).unwrap();
        let logs = wproc_sdk::testing::take_logs();
        assert!(logs.iter().any(|(_, m)| m.contains("without a salt")));
    }
}
