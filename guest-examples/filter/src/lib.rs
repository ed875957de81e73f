//! Keeps events by table and operation.
//!
//! Config (JSON, every key optional):
//! ```json
//! {"tables": ["shop.orders", "users", "crm.*"], "exclude_tables": ["*.audit_log"],
//!  "ops": ["insert", "update", "delete", "ddl"]}
//! ```
//! An event is kept when its table matches one of `tables` (all tables when empty), none
//! of `exclude_tables`, and its op is in `ops` (all ops when empty). Patterns are `table`,
//! `db.table`, with `*` for any db or table.
//!
//! Fast path: the decision is made once per distinct table of the batch, then applied to
//! the batch headers (op and table id of every event, fetched in one host call).

use serde::Deserialize;
use wproc_sdk::{Batch, Error, Op, Output, Result, TableName, Transform};

/// The filter's config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    tables: Vec<String>,
    #[serde(default)]
    exclude_tables: Vec<String>,
    #[serde(default)]
    ops: Vec<String>,
}

/// The filter transform.
pub struct Filter {
    tables: Vec<String>,
    exclude: Vec<String>,
    /// Allowed ops; all when empty.
    ops: Vec<Op>,
}

impl Filter {
    fn table_ok(&self, t: &TableName) -> bool {
        (self.tables.is_empty() || self.tables.iter().any(|p| t.matches(p)))
            && !self.exclude.iter().any(|p| t.matches(p))
    }

    fn op_ok(&self, op: Op) -> bool {
        self.ops.is_empty() || self.ops.contains(&op)
    }
}

impl Transform for Filter {
    fn init(config: &str) -> Result<Self> {
        let c: Config = wproc_sdk::config::json(config)?;
        let ops = c
            .ops
            .iter()
            .map(|o| {
                Op::parse(o).ok_or_else(|| Error::InvalidInput(format!("config: unknown op {o:?}")))
            })
            .collect::<Result<Vec<Op>>>()?;
        wproc_sdk::log::info(format!(
            "filter: tables={:?} exclude_tables={:?} ops={:?}",
            c.tables, c.exclude_tables, c.ops
        ));
        Ok(Filter {
            tables: c.tables,
            exclude: c.exclude_tables,
            ops,
        })
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        let table_ok: Vec<bool> = batch.tables().iter().map(|t| self.table_ok(t)).collect();
        for (i, h) in batch.headers().iter().enumerate() {
            if table_ok[h.table as usize] && self.op_ok(h.op) {
                out.keep_index(i as u32);
            }
        }
        Ok(())
    }
}

wproc_sdk::export_transform!(Filter);

#[cfg(test)]
mod tests {
    use wproc_sdk::testing::Harness;

    use super::Filter;

    const INPUT: &str = r#"{"op":"insert","db":"shop","table":"orders","after":{"id":1}}
{"op":"update","db":"shop","table":"orders","before":{"id":1},"after":{"id":1}}
{"op":"delete","db":"shop","table":"users","before":{"id":2}}
{"op":"insert","db":"crm","table":"users","after":{"id":3}}
{"op":"insert","db":"shop","table":"audit_log","after":{"id":4}}
{"op":"ddl","db":"shop","table":"orders","sql":"ALTER TABLE orders ADD x INT"}"#;

    fn run(config: &str) -> Vec<String> {
        let mut h = Harness::<Filter>::new(config).unwrap();
        let out = h.process_jsonl(INPUT).unwrap();
        out.events
            .iter()
            .map(|o| format!("{}:{}.{}", o.event.op, o.event.db, o.event.table))
            .collect()
    }

    #[test]
    fn empty_config_keeps_everything() {
        assert_eq!(run("").len(), 6);
    }

    #[test]
    fn by_table_patterns() {
        assert_eq!(
            run(r#"{"tables": ["shop.*"], "exclude_tables": ["audit_log"]}"#),
            [
                "insert:shop.orders",
                "update:shop.orders",
                "delete:shop.users",
                "ddl:shop.orders"
            ]
        );
        assert_eq!(
            run(r#"{"tables": ["users"]}"#),
            ["delete:shop.users", "insert:crm.users"]
        );
    }

    #[test]
    fn by_operation() {
        assert_eq!(
            run(r#"{"tables": ["orders", "crm.users"], "ops": ["insert", "DDL"]}"#),
            ["insert:shop.orders", "insert:crm.users", "ddl:shop.orders"]
        );
    }

    #[test]
    fn bad_config_is_a_typed_error() {
        let err = Harness::<Filter>::new(r#"{"ops": ["upsert"]}"#)
            .err()
            .unwrap();
        assert!(matches!(err, wproc_sdk::Error::InvalidInput(m) if m.contains("upsert")));
        assert!(
            Harness::<Filter>::new(r#"{"table": ["x"]}"#).is_err(),
            "unknown key"
        );
        assert!(wproc_sdk::testing::take_logs().is_empty());
        Harness::<Filter>::new("").unwrap();
        assert_eq!(wproc_sdk::testing::take_logs().len(), 1);
    }
}
