//! The change-event model: one row change (or one DDL statement) read from the binlog.
//!
//! A [`ChangeEvent`] carries the operation, the table, the commit time, the exact source position
//! and the before/after row images as typed [`Value`]s, aligned with the table's [`Column`]s.
//! Column metadata is shared (`Arc`) between all events of one table map, so an event costs one
//! `Vec<Value>` per image.
//!
//! The canonical external form is JSON Lines ([`jsonl`]); `docs/jsonl-format.md` documents it.
//! Inside the local transport events travel as postcard, which keeps every value typed.

pub mod codec;
pub mod jsonl;
pub mod jsonl_read;
mod value;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::position::EventPosition;
pub use value::Value;

/// What happened to the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A row was inserted: only `after` is set.
    Insert,
    /// A row was updated: `before` and `after` are set.
    Update,
    /// A row was deleted: only `before` is set.
    Delete,
    /// A schema change: `sql` holds the statement, no row images.
    Ddl,
}

impl Op {
    /// The lower-case name used in JSON Lines (`insert`, `update`, `delete`, `ddl`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Ddl => "ddl",
        }
    }
}

/// One column of a table as the binlog describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name (`@1`, `@2`, … when the server logs no column names).
    pub name: Arc<str>,
    /// SQL type as far as the binlog tells it, e.g. `bigint unsigned`, `decimal(12,2)`.
    pub sql_type: Arc<str>,
}

/// One row change or DDL statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Operation.
    pub op: Op,
    /// Database (schema) name.
    pub db: Arc<str>,
    /// Table name (empty for a DDL statement that names no single table).
    pub table: Arc<str>,
    /// Commit time of the transaction, milliseconds since the Unix epoch (second precision:
    /// binlog event timestamps are whole seconds).
    pub ts_ms: u64,
    /// Where in the binlog this change is.
    pub pos: EventPosition,
    /// The table's columns, aligned with `before` and `after`.
    pub columns: Arc<[Column]>,
    /// Row image before the change (update, delete).
    pub before: Option<Vec<Value>>,
    /// Row image after the change (insert, update).
    pub after: Option<Vec<Value>>,
    /// The statement, for DDL events.
    pub sql: Option<String>,
}

impl ChangeEvent {
    /// Looks a value up by column name in the after image (or the before image for deletes).
    pub fn value(&self, column: &str) -> Option<&Value> {
        let idx = self.columns.iter().position(|c| &*c.name == column)?;
        self.after.as_ref().or(self.before.as_ref())?.get(idx)
    }
}
