//! Projects columns: keeps a subset (or drops some), then renames.
//!
//! Config (JSON):
//! ```json
//! {"tables": ["shop.users"], "keep": ["id", "name", "email"], "rename": {"name": "full_name"}}
//! {"drop": ["password_hash", "internal_notes"]}
//! ```
//! - `keep`: only these columns stay (in table order); or
//! - `drop`: these columns go (`keep` and `drop` are exclusive);
//! - `rename`: `old: new` pairs, applied after `keep`/`drop` (use the old names there).
//!
//! `tables` limits the projection to matching tables; other events and DDL pass unchanged.
//! Edits are sent as column edits: no whole record crosses the component boundary. Only
//! `keep` needs each event's column names (one host call per event).

use std::collections::BTreeMap;

use serde::Deserialize;
use wproc_sdk::{Batch, Error, Op, Output, Result, Transform};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    tables: Vec<String>,
    #[serde(default)]
    keep: Vec<String>,
    #[serde(default)]
    drop: Vec<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
}

/// The project transform.
pub struct Project {
    config: Config,
}

impl Transform for Project {
    fn init(config: &str) -> Result<Self> {
        let config: Config = wproc_sdk::config::json(config)?;
        if !config.keep.is_empty() && !config.drop.is_empty() {
            return Err(Error::InvalidInput(
                "config: use `keep` or `drop`, not both".into(),
            ));
        }
        if config.keep.is_empty() && config.drop.is_empty() && config.rename.is_empty() {
            return Err(Error::InvalidInput(
                "config: nothing to do (keep, drop, rename)".into(),
            ));
        }
        Ok(Project { config })
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        let c = &self.config;
        let in_scope: Vec<bool> = batch
            .tables()
            .iter()
            .map(|t| c.tables.is_empty() || c.tables.iter().any(|p| t.matches(p)))
            .collect();
        for e in batch.events() {
            let mut kept = out.keep(&e);
            if !in_scope[e.table_id()] || e.op() == Op::Ddl {
                continue;
            }
            if !c.keep.is_empty() {
                for name in e.column_names() {
                    if !c.keep.contains(&name) {
                        kept = kept.remove(name);
                    }
                }
            }
            for name in &c.drop {
                kept = kept.remove(name.as_str());
            }
            for (old, new) in &c.rename {
                kept = kept.rename(old.as_str(), new.as_str());
            }
        }
        Ok(())
    }
}

wproc_sdk::export_transform!(Project);

#[cfg(test)]
mod tests {
    use wproc_sdk::Value;
    use wproc_sdk::testing::Harness;

    use super::Project;

    const INPUT: &str = r#"{"op":"update","db":"shop","table":"users","before":{"id":1,"name":"Ann","pw":"x","email":"a@b"},"after":{"id":1,"name":"Anna","pw":"y","email":"a@b"}}
{"op":"insert","db":"shop","table":"orders","after":{"id":2,"pw":"keep me"}}
{"op":"ddl","db":"shop","table":"users","sql":"ALTER TABLE users DROP pw"}"#;

    fn run(config: &str) -> Vec<wproc_sdk::ChangeEvent> {
        let mut h = Harness::<Project>::new(config).unwrap();
        h.process_jsonl(INPUT).unwrap().into_events()
    }

    #[test]
    fn keep_and_rename() {
        let out = run(
            r#"{"tables": ["users"], "keep": ["id", "name"], "rename": {"name": "full_name"}}"#,
        );
        assert_eq!(out[0].columns, ["id", "full_name"]);
        assert_eq!(out[0].before, Some(vec![Value::Int(1), Value::from("Ann")]));
        assert_eq!(out[0].after, Some(vec![Value::Int(1), Value::from("Anna")]));
        assert_eq!(out[1].columns, ["id", "pw"], "orders not in scope");
        assert_eq!(out[2].sql.as_deref(), Some("ALTER TABLE users DROP pw"));
    }

    #[test]
    fn drop_everywhere() {
        let out = run(r#"{"drop": ["pw", "not_there"]}"#);
        assert_eq!(out[0].columns, ["id", "name", "email"]);
        assert_eq!(out[1].columns, ["id"]);
        out.iter().for_each(|e| e.check_shape().unwrap());
    }

    #[test]
    fn config_errors() {
        assert!(Harness::<Project>::new(r#"{"keep": ["a"], "drop": ["b"]}"#).is_err());
        assert!(Harness::<Project>::new("").is_err());
        assert!(Harness::<Project>::new(r#"{"rename": {"a": "b"}, "x": 1}"#).is_err());
    }
}
