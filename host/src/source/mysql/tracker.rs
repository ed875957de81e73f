//! The schema tracker: column names and types read from `information_schema`, for TABLE_MAP
//! events that do not carry them.
//!
//! **When it is used.** With `binlog_row_metadata=FULL` the TABLE_MAP names every column and
//! gives signedness, charsets and ENUM/SET labels; the binlog is then the truth and the tracker
//! only adds what the binlog never says: that a MariaDB column is JSON (MariaDB's JSON is a
//! LONGTEXT with a `json_valid()` check; such columns are emitted as JSON values, not strings).
//! Without FULL metadata (`NO_LOG`, MariaDB's default, or `MINIMAL`) the names, signedness and
//! labels missing from the TABLE_MAP come from the tracker.
//!
//! **When it is read.** Once when the replication session starts (every table outside the
//! system schemas), then again for each table a DDL statement names (or the whole database for
//! `CREATE/DROP DATABASE`, or everything when the statement names nothing parseable), right after
//! that DDL event and before the next event is decoded.
//!
//! **Policy when a row cannot be mapped (never a guess).** The tracker holds the schema as it is
//! *now* on the server; the binlog being read may be older. A tracked table is used only when it
//! has exactly the TABLE_MAP's number of columns and every column's type agrees with the
//! TABLE_MAP's type. When names are missing from the TABLE_MAP and there is no tracked table, or
//! it disagrees, decoding stops with a definite error naming the table, the position and what
//! disagrees; the fix is `binlog_row_metadata=FULL` (or starting after the DDL). The offline
//! `wproc binlog dump` has no server to ask: it names such columns `@1`, `@2`, … and decodes
//! integers as signed, exactly as the binlog describes them.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

/// The system schemas, never tracked.
const SYSTEM_SCHEMAS: &str = "'mysql','information_schema','performance_schema','sys'";

/// One column as `information_schema.COLUMNS` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TrackedColumn {
    pub name: Arc<str>,
    /// `DATA_TYPE`, lower case: `int`, `varchar`, `enum`, `longtext`, `json`, …
    pub data_type: String,
    /// `COLUMN_TYPE` contains `unsigned`.
    pub unsigned: bool,
    /// MariaDB JSON (a LONGTEXT with a `json_valid` check) or MySQL JSON.
    pub json: bool,
    /// ENUM or SET labels, in order.
    pub labels: Vec<String>,
    /// Collation name (`utf8mb4_general_ci`), for character columns.
    pub collation: Option<String>,
}

/// Tracked tables by `(db, table)`.
#[derive(Debug, Default)]
pub(crate) struct SchemaTracker {
    tables: HashMap<(String, String), Arc<[TrackedColumn]>>,
}

/// What to reload after a DDL statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    Table(String, String),
    Database(String),
    All,
}

impl SchemaTracker {
    pub fn get(&self, db: &str, table: &str) -> Option<&Arc<[TrackedColumn]>> {
        self.tables.get(&(db.to_owned(), table.to_owned()))
    }

    /// Reloads what `refresh` names from the server.
    pub async fn load(&mut self, conn: &mut Conn, refresh: &Refresh) -> mysql_async::Result<()> {
        let (condition, params): (&str, Vec<String>) = match refresh {
            Refresh::All => ("", vec![]),
            Refresh::Database(db) => (" AND c.TABLE_SCHEMA = ?", vec![db.clone()]),
            Refresh::Table(db, table) => (
                " AND c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ?",
                vec![db.clone(), table.clone()],
            ),
        };
        // MariaDB keeps JSON's `json_valid` check in CHECK_CONSTRAINTS, named after the column;
        // MySQL has no such view before 8.0.16 and no JSON-as-text, so the join is optional.
        let mariadb: Option<String> = conn.query_first("SELECT VERSION()").await?;
        let mariadb = mariadb.is_some_and(|v| v.contains("MariaDB"));
        let json_check = if mariadb {
            "EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k \
              WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME \
              AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)'))"
        } else {
            "0"
        };
        let sql = format!(
            "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, LOWER(c.DATA_TYPE), \
             LOWER(c.COLUMN_TYPE), c.COLLATION_NAME, {json_check} \
             FROM information_schema.COLUMNS c \
             WHERE c.TABLE_SCHEMA NOT IN ({SYSTEM_SCHEMAS}){condition} \
             ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
        );
        type Row = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> = conn.exec(sql, params).await?;
        match refresh {
            Refresh::All => self.tables.clear(),
            Refresh::Database(db) => self.tables.retain(|(d, _), _| d != db),
            Refresh::Table(db, table) => {
                self.tables.remove(&(db.clone(), table.clone()));
            }
        }
        let mut grouped: HashMap<(String, String), Vec<TrackedColumn>> = HashMap::new();
        for (db, table, name, data_type, column_type, collation, json) in rows {
            let json = data_type == "json" || json.unwrap_or(0) != 0;
            grouped.entry((db, table)).or_default().push(TrackedColumn {
                name: name.as_str().into(),
                unsigned: column_type.contains("unsigned"),
                labels: if data_type == "enum" || data_type == "set" {
                    parse_labels(&column_type)
                } else {
                    Vec::new()
                },
                data_type,
                json,
                collation,
            });
        }
        for (key, columns) in grouped {
            self.tables.insert(key, columns.into());
        }
        Ok(())
    }
}

/// The labels of `enum('a','b''c')` or `set(...)`.
fn parse_labels(column_type: &str) -> Vec<String> {
    let Some(open) = column_type.find('(') else {
        return Vec::new();
    };
    let body = &column_type[open + 1..];
    let mut labels = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut label = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(next) = chars.next() {
                        label.push(next);
                    }
                }
                other => label.push(other),
            }
        }
        labels.push(label);
    }
    labels
}

/// Whether a tracked `DATA_TYPE` can be the column the binlog describes with `binlog_type`
/// (the `ColumnKind` family name used in `schema.rs`).
pub(crate) fn type_agrees(binlog_family: &str, data_type: &str) -> bool {
    match binlog_family {
        "tinyint" => matches!(data_type, "tinyint" | "bool" | "boolean"),
        "smallint" | "mediumint" | "int" | "bigint" | "float" | "double" | "date" | "time"
        | "datetime" | "timestamp" | "year" | "json" | "enum" | "set" | "bit" | "vector" => {
            data_type == binlog_family || (binlog_family == "int" && data_type == "integer")
        }
        "decimal" => matches!(data_type, "decimal" | "numeric"),
        "varchar" => matches!(data_type, "varchar" | "varbinary"),
        // CHAR, BINARY, and ENUM/SET as MySQL 5.x logs them (type STRING).
        "char" => matches!(data_type, "char" | "binary" | "enum" | "set"),
        "blob" => matches!(
            data_type,
            "tinyblob"
                | "blob"
                | "mediumblob"
                | "longblob"
                | "tinytext"
                | "text"
                | "mediumtext"
                | "longtext"
                | "json"
        ),
        "geometry" => matches!(
            data_type,
            "geometry"
                | "point"
                | "linestring"
                | "polygon"
                | "multipoint"
                | "multilinestring"
                | "multipolygon"
                | "geometrycollection"
                | "geomcollection"
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_and_set_labels() {
        assert_eq!(parse_labels("enum('a','b''c','')"), ["a", "b'c", ""]);
        assert_eq!(parse_labels("set('x','y,z')"), ["x", "y,z"]);
    }

    #[test]
    fn type_agreement() {
        assert!(type_agrees("blob", "longtext"));
        assert!(type_agrees("int", "int"));
        assert!(!type_agrees("int", "bigint"));
        assert!(type_agrees("char", "enum"));
        assert!(!type_agrees("varchar", "text"));
    }
}
