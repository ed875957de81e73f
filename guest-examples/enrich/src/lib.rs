//! Adds computed columns to row events.
//!
//! Config (JSON): a list of columns to add, each with a `name` and a `kind`:
//! ```json
//! {"columns": [
//!   {"name": "_op", "kind": "op"},
//!   {"name": "_commit_time", "kind": "commit_time"},
//!   {"name": "_binlog", "kind": "position"},
//!   {"name": "_source", "kind": "const", "value": "eu-db-1"},
//!   {"name": "full_name", "kind": "concat", "of": ["first_name", "last_name"], "separator": " "}
//! ], "tables": ["shop.*"]}
//! ```
//! Kinds: `op` (`insert`/`update`/`delete`), `db`, `table`, `ts_ms` (commit time in ms, an
//! integer), `commit_time` (a TIMESTAMP(3)), `position` (`file:offset#row`), `const`
//! (`value`), `concat` (the text of the `of` columns joined by `separator`; NULL if any is
//! NULL or missing, like SQL `CONCAT`).
//!
//! Each column is set in every image the event has (`before` and `after` of an update get
//! their own `concat`). DDL events and tables outside `tables` pass unchanged.

use serde::Deserialize;
use wproc_sdk::{Batch, EventRef, Image, Op, Output, Result, Timestamp, Transform, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    columns: Vec<Column>,
    #[serde(default)]
    tables: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Column {
    name: String,
    #[serde(flatten)]
    kind: Kind,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Kind {
    Op,
    Db,
    Table,
    TsMs,
    CommitTime,
    Position,
    Const {
        value: String,
    },
    Concat {
        of: Vec<String>,
        #[serde(default)]
        separator: String,
    },
}

/// The enrich transform.
pub struct Enrich {
    config: Config,
}

fn concat(e: &EventRef<'_>, image: Image, of: &[String], separator: &str) -> Value {
    let mut text = String::new();
    for (i, name) in of.iter().enumerate() {
        match e.value(image, name) {
            None | Some(Value::Null) => return Value::Null,
            Some(v) => {
                if i > 0 {
                    text.push_str(separator);
                }
                text.push_str(&v.to_string());
            }
        }
    }
    Value::String(text)
}

impl Transform for Enrich {
    fn init(config: &str) -> Result<Self> {
        let config: Config = wproc_sdk::config::json(config)?;
        if config.columns.is_empty() {
            return Err(wproc_sdk::Error::InvalidInput(
                "config: `columns` is empty".into(),
            ));
        }
        Ok(Enrich { config })
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        let in_scope = batch.tables_matching(&self.config.tables);
        for e in batch.events() {
            let mut kept = out.keep(&e);
            if !in_scope[e.table_id()] || e.op() == Op::Ddl {
                continue;
            }
            for c in &self.config.columns {
                for &image in e.op().images() {
                    let value = match &c.kind {
                        Kind::Op => Value::from(e.op().as_str()),
                        Kind::Db => Value::from(e.db()),
                        Kind::Table => Value::from(e.table()),
                        Kind::TsMs => Value::UInt(e.ts_ms()),
                        Kind::CommitTime => Value::Timestamp(Timestamp {
                            seconds: (e.ts_ms() / 1000) as i64,
                            micros: (e.ts_ms() % 1000) as u32 * 1000,
                            fsp: 3,
                        }),
                        Kind::Position => Value::String(e.position().to_string()),
                        Kind::Const { value } => Value::from(value.as_str()),
                        Kind::Concat { of, separator } => concat(&e, image, of, separator),
                    };
                    kept = kept.set(image, c.name.as_str(), value);
                }
            }
        }
        Ok(())
    }
}

wproc_sdk::export_transform!(Enrich);

#[cfg(test)]
mod tests {
    use wproc_sdk::testing::Harness;
    use wproc_sdk::{Image, Value};

    use super::Enrich;

    const INPUT: &str = r#"{"op":"update","db":"crm","table":"people","ts_ms":1704164645123,"pos":{"file":"bin.7","offset":42,"gtid":null,"row":1},"before":{"id":1,"first_name":"Ada","last_name":null},"after":{"id":1,"first_name":"Ada","last_name":"Lovelace"}}
{"op":"ddl","db":"crm","table":"people","sql":"ALTER TABLE people ADD x INT"}
{"op":"insert","db":"other","table":"t","after":{"id":2}}"#;

    const CONFIG: &str = r#"{"columns": [
        {"name": "_op", "kind": "op"},
        {"name": "_ts", "kind": "commit_time"},
        {"name": "_ms", "kind": "ts_ms"},
        {"name": "_pos", "kind": "position"},
        {"name": "_src", "kind": "const", "value": "eu-1"},
        {"name": "full_name", "kind": "concat", "of": ["first_name", "last_name"], "separator": " "}
    ], "tables": ["crm.*"]}"#;

    #[test]
    fn adds_columns_to_every_image() {
        let out = Harness::<Enrich>::new(CONFIG)
            .unwrap()
            .process_jsonl(INPUT)
            .unwrap();
        let e = &out.events[0].event;
        e.check_shape().unwrap();
        assert_eq!(
            e.columns[3..],
            ["_op", "_ts", "_ms", "_pos", "_src", "full_name"]
        );
        assert_eq!(e.get("_op"), Some(&Value::from("update")));
        assert_eq!(
            e.get("_ts").unwrap().to_string(),
            "2024-01-02T03:04:05.123Z"
        );
        assert_eq!(e.get("_ms"), Some(&Value::UInt(1_704_164_645_123)));
        assert_eq!(e.get("_pos"), Some(&Value::from("bin.7:42#1")));
        assert_eq!(e.get("_src"), Some(&Value::from("eu-1")));
        assert_eq!(e.get("full_name"), Some(&Value::from("Ada Lovelace")));
        assert_eq!(
            e.value(Image::Before, "full_name"),
            Some(&Value::Null),
            "NULL part"
        );
        assert_eq!(out.events[1].event.columns.len(), 0, "DDL unchanged");
        assert_eq!(out.events[2].event.columns, ["id"], "table not in scope");
    }

    #[test]
    fn config_errors() {
        assert!(Harness::<Enrich>::new(r#"{"columns": []}"#).is_err());
        assert!(
            Harness::<Enrich>::new(r#"{"columns": [{"name": "x", "kind": "random"}]}"#).is_err()
        );
        assert!(
            Harness::<Enrich>::new(r#"{"columns": [{"name": "x", "kind": "const"}]}"#).is_err()
        );
    }
}
