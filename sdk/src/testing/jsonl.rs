//! JSON Lines in the host's canonical change-event format.
//!
//! One event per line:
//! ```json
//! {"op":"update","db":"shop","table":"orders","ts_ms":1700000000000,
//!  "pos":{"file":"mysql-bin.000003","offset":1234,"row":0,"gtid":null},
//!  "before":{"id":1,"amount":"9.90"},"after":{"id":1,"amount":"12.50"}}
//! ```
//! - `op`: `insert`, `update`, `delete` or `ddl`; `sql` holds the statement of a DDL event.
//! - `before` / `after`: objects keyed by column name (column order = key order), or `null`.
//!   Columns only in `before` are appended after `after`'s, with `Null` in the missing image.
//!   An optional `columns` array gives the column order explicitly.
//! - `ts_ms`, `pos`, `db`, `table` default to zero/empty when absent (handy in tests).
//!
//! Values: `null` is SQL NULL; integers are JSON integers; DECIMAL is a string; DATE
//! `"YYYY-MM-DD"`; DATETIME `"YYYY-MM-DD HH:MM:SS[.ffffff]"`; TIMESTAMP RFC 3339 in UTC
//! (`"...Z"`); TIME `"[-]HHH:MM:SS[.ffffff]"`; binary `{"base64":"..."}`; JSON columns nested.
//!
//! The format carries no column types, so without hints a JSON string is read as
//! [`Value::String`], an integer as [`Value::Int`] (or `UInt` above `i64::MAX`), another number
//! as [`Value::Double`], `true`/`false` as `Int(1)`/`Int(0)`, `{"base64":..}` as
//! [`Value::Bytes`] and any other object or array as [`Value::Json`]. [`TypeHints`] name the
//! columns that are DECIMAL, DATE, TIMESTAMP, FLOAT, JSON, and so on.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{ChangeEvent, Op, Position, Value};

/// Column type for reading JSON values (see [`TypeHints`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`Value::Int`].
    Int,
    /// [`Value::UInt`].
    UInt,
    /// [`Value::Float`].
    Float,
    /// [`Value::Double`].
    Double,
    /// [`Value::Decimal`], from a string or a number.
    Decimal,
    /// [`Value::String`].
    String,
    /// [`Value::Bytes`], from `{"base64":..}` or a string's UTF-8 bytes.
    Bytes,
    /// [`Value::Date`].
    Date,
    /// [`Value::DateTime`].
    DateTime,
    /// [`Value::Timestamp`].
    Timestamp,
    /// [`Value::Time`].
    Time,
    /// [`Value::Year`].
    Year,
    /// [`Value::Json`]: the JSON text as written.
    Json,
}

/// Column types for the JSON Lines reader, by `column`, `table.column` or `db.table.column`
/// (the most specific wins).
///
/// ```no_run
/// use wproc_sdk::testing::{Kind, TypeHints};
/// let hints = TypeHints::new()
///     .column("amount", Kind::Decimal)
///     .column("shop.orders.created", Kind::Timestamp);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TypeHints {
    map: HashMap<String, Kind>,
}

impl TypeHints {
    /// No hints.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a hint.
    pub fn column(mut self, key: impl Into<String>, kind: Kind) -> Self {
        self.map.insert(key.into(), kind);
        self
    }

    /// The hint for a column, if any.
    pub fn get(&self, db: &str, table: &str, column: &str) -> Option<Kind> {
        if self.map.is_empty() {
            return None;
        }
        let full = format!("{db}.{table}.{column}");
        let short = &full[db.len() + 1..];
        self.map
            .get(&full)
            .or_else(|| self.map.get(short))
            .or_else(|| self.map.get(column))
            .copied()
    }
}

/// A JSON Lines error, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Deserialize)]
struct Line<'a> {
    op: String,
    #[serde(default)]
    db: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    ts_ms: u64,
    #[serde(default)]
    pos: Option<Pos>,
    #[serde(default, borrow)]
    before: Option<Row<'a>>,
    #[serde(default, borrow)]
    after: Option<Row<'a>>,
    #[serde(default)]
    sql: Option<String>,
    #[serde(default)]
    columns: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct Pos {
    #[serde(default)]
    file: String,
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    gtid: Option<String>,
    #[serde(default)]
    row: u32,
}

/// A JSON object kept in document order, values unparsed.
struct Row<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Row<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Row<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object keyed by column name")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Row<'a>, M::Error> {
                let mut cols = Vec::new();
                while let Some(entry) = m.next_entry::<String, &'a RawValue>()? {
                    cols.push(entry);
                }
                Ok(Row(cols))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Parses JSON Lines (blank lines are skipped).
///
/// # Errors
/// The first line that is not a valid event.
pub fn parse_jsonl(text: &str, hints: &TypeHints) -> Result<Vec<ChangeEvent>, ParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            parse_event(l, hints).map_err(|message| ParseError {
                line: i + 1,
                message,
            })
        })
        .collect()
}

/// Parses one event line.
///
/// # Errors
/// What is wrong with the line.
pub fn parse_event(line: &str, hints: &TypeHints) -> Result<ChangeEvent, String> {
    let l: Line<'_> = serde_json::from_str(line.trim()).map_err(|e| e.to_string())?;
    let op = Op::parse(&l.op).ok_or_else(|| format!("unknown op {:?}", l.op))?;
    let mut columns: Vec<String> = l.columns.unwrap_or_default();
    for row in [&l.after, &l.before].into_iter().flatten() {
        for (name, _) in &row.0 {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let read = |row: Option<Row<'_>>| -> Result<Option<Vec<Value>>, String> {
        let Some(row) = row else { return Ok(None) };
        let mut values = vec![Value::Null; columns.len()];
        for (name, raw) in row.0 {
            let idx = columns
                .iter()
                .position(|c| *c == name)
                .unwrap_or(usize::MAX);
            let kind = hints.get(&l.db, &l.table, &name);
            let v = to_value(raw.get(), kind).map_err(|m| format!("column {name}: {m}"))?;
            if let Some(slot) = values.get_mut(idx) {
                *slot = v;
            }
        }
        Ok(Some(values))
    };
    let before = read(l.before)?;
    let after = read(l.after)?;
    let p = l.pos.unwrap_or_default();
    Ok(ChangeEvent {
        op,
        db: l.db,
        table: l.table,
        ts_ms: l.ts_ms,
        position: Position {
            file: p.file,
            offset: p.offset,
            gtid: p.gtid,
            row: p.row,
        },
        columns,
        before,
        after,
        sql: l.sql,
    })
}

fn json_string(text: &str) -> Result<String, String> {
    serde_json::from_str::<String>(text).map_err(|_| format!("expected a string, got {text}"))
}

fn base64_object(text: &str) -> Option<Result<Vec<u8>, String>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct B64 {
        base64: String,
    }
    let b: B64 = serde_json::from_str(text).ok()?;
    Some(
        BASE64
            .decode(b.base64)
            .map_err(|e| format!("bad base64: {e}")),
    )
}

fn parse_num<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("expected {what}, got {text}"))
}

/// Converts one JSON value to a [`Value`], guided by an optional [`Kind`].
fn to_value(text: &str, kind: Option<Kind>) -> Result<Value, String> {
    if text == "null" {
        return Ok(Value::Null);
    }
    let first = text.as_bytes().first().copied().unwrap_or(b' ');
    let Some(kind) = kind else {
        return match first {
            b'"' => json_string(text).map(Value::String),
            b'{' => base64_object(text)
                .map_or_else(|| Ok(Value::Json(text.to_owned())), |b| b.map(Value::Bytes)),
            b'[' => Ok(Value::Json(text.to_owned())),
            b't' => Ok(Value::Int(1)),
            b'f' => Ok(Value::Int(0)),
            _ => Ok(text
                .parse::<i64>()
                .map(Value::Int)
                .or_else(|_| text.parse::<u64>().map(Value::UInt))
                .or_else(|_| text.parse::<f64>().map(Value::Double))
                .map_err(|_| format!("not a number: {text}"))?),
        };
    };
    let string = || json_string(text);
    // Non-finite floats are written as strings ("NaN", "inf", "-inf").
    let float_text = if first == b'"' {
        string()?
    } else {
        text.to_owned()
    };
    Ok(match kind {
        Kind::Int => Value::Int(parse_num(text, "a signed integer")?),
        Kind::UInt => Value::UInt(parse_num(text, "an unsigned integer")?),
        Kind::Float => Value::Float(parse_num(&float_text, "a number")?),
        Kind::Double => Value::Double(parse_num(&float_text, "a number")?),
        Kind::Year => Value::Year(parse_num(text, "a year")?),
        Kind::Decimal if first == b'"' => Value::Decimal(string()?),
        Kind::Decimal => {
            parse_num::<f64>(text, "a decimal")?;
            Value::Decimal(text.to_owned())
        }
        Kind::String => Value::String(string()?),
        Kind::Bytes if first == b'{' => {
            Value::Bytes(base64_object(text).ok_or("expected {\"base64\": ...}")??)
        }
        Kind::Bytes => Value::Bytes(string()?.into_bytes()),
        Kind::Date => Value::Date(string()?.parse().map_err(|e: crate::Error| e.to_string())?),
        Kind::DateTime => {
            Value::DateTime(string()?.parse().map_err(|e: crate::Error| e.to_string())?)
        }
        Kind::Timestamp => {
            Value::Timestamp(string()?.parse().map_err(|e: crate::Error| e.to_string())?)
        }
        Kind::Time => Value::Time(string()?.parse().map_err(|e: crate::Error| e.to_string())?),
        Kind::Json => Value::Json(text.to_owned()),
    })
}

fn push_str(out: &mut String, s: &str) {
    // Serializing a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn push_value(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    match v {
        Value::Null => out.push_str("null"),
        Value::Int(x) => {
            let _ = write!(out, "{x}");
        }
        Value::UInt(x) => {
            let _ = write!(out, "{x}");
        }
        Value::Year(x) => {
            let _ = write!(out, "{x}");
        }
        Value::Float(x) if x.is_finite() => {
            out.push_str(&serde_json::to_string(x).unwrap_or_default())
        }
        Value::Double(x) if x.is_finite() => {
            out.push_str(&serde_json::to_string(x).unwrap_or_default())
        }
        // MySQL stores no NaN or infinity; written as strings ("NaN", "inf"), as the host does.
        Value::Float(x) => push_str(out, &f64::from(*x).to_string()),
        Value::Double(x) => push_str(out, &x.to_string()),
        Value::Decimal(s) | Value::String(s) => push_str(out, s),
        Value::Bytes(b) => {
            out.push_str(r#"{"base64":""#);
            out.push_str(&BASE64.encode(b));
            out.push_str("\"}");
        }
        Value::Json(s) if serde_json::from_str::<&RawValue>(s).is_ok() => out.push_str(s.trim()),
        Value::Json(s) => push_str(out, s),
        Value::Date(_) | Value::DateTime(_) | Value::Timestamp(_) | Value::Time(_) => {
            push_str(out, &v.to_string());
        }
    }
}

fn push_row(out: &mut String, columns: &[String], row: Option<&Vec<Value>>) {
    let Some(row) = row else {
        out.push_str("null");
        return;
    };
    out.push('{');
    for (i, (name, v)) in columns.iter().zip(row).enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push(':');
        push_value(out, v);
    }
    out.push('}');
}

/// Writes an event as one line of canonical JSON (no trailing newline); [`parse_event`]
/// reads it back.
pub fn to_json(e: &ChangeEvent) -> String {
    to_json_with_partition(e, None)
}

pub(super) fn to_json_with_partition(e: &ChangeEvent, partition: Option<&str>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"op":"#);
    push_str(&mut out, e.op.as_str());
    out.push_str(r#","db":"#);
    push_str(&mut out, &e.db);
    out.push_str(r#","table":"#);
    push_str(&mut out, &e.table);
    let _ = write!(out, r#","ts_ms":{},"pos":{{"file":"#, e.ts_ms);
    push_str(&mut out, &e.position.file);
    let (offset, row) = (e.position.offset, e.position.row);
    let _ = write!(out, r#","offset":{offset},"row":{row},"gtid":"#);
    match &e.position.gtid {
        Some(g) => push_str(&mut out, g),
        None => out.push_str("null"),
    }
    out.push_str(r#"},"before":"#);
    push_row(&mut out, &e.columns, e.before.as_ref());
    out.push_str(r#","after":"#);
    push_row(&mut out, &e.columns, e.after.as_ref());
    if let Some(sql) = &e.sql {
        out.push_str(r#","sql":"#);
        push_str(&mut out, sql);
    }
    if let Some(p) = partition {
        out.push_str(r#","partition":"#);
        push_str(&mut out, p);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Date, Image, Timestamp};

    const ALL_TYPES: &str = r#"{"op":"update","db":"d","table":"t","ts_ms":1700000000000,"pos":{"file":"bin.000001","offset":99,"row":2,"gtid":"3E11FA47-71CA-11E1-9E33-C80AA9429562:23"},"before":{"id":1,"big":18446744073709551615,"f":1.5,"dbl":2.25,"amount":"-12.3400","name":"Zoë","bin":{"base64":"AAEC/w=="},"born":"0000-00-00","at":"2024-01-02 03:04:05.120","ts":"2024-01-02T03:04:05.123456Z","dur":"-838:59:59","y":2024,"doc":{"b":[1,2],"a":null}},"after":{"id":1,"big":null,"f":null,"dbl":null,"amount":"0.0000","name":"","bin":null,"born":"2024-02-29","at":null,"ts":null,"dur":null,"y":null,"doc":null}}"#;

    fn hints() -> TypeHints {
        TypeHints::new()
            .column("f", Kind::Float)
            .column("amount", Kind::Decimal)
            .column("t.born", Kind::Date)
            .column("d.t.at", Kind::DateTime)
            .column("ts", Kind::Timestamp)
            .column("dur", Kind::Time)
            .column("y", Kind::Year)
            .column("doc", Kind::Json)
    }

    #[test]
    fn parses_every_type_with_hints_and_round_trips() {
        let e = parse_event(ALL_TYPES, &hints()).unwrap();
        assert_eq!(e.op, Op::Update);
        assert_eq!(e.position.row, 2);
        assert_eq!(e.columns.len(), 13);
        let b = |n: &str| e.value(Image::Before, n).unwrap().clone();
        assert_eq!(b("big"), Value::UInt(u64::MAX));
        assert_eq!(b("f"), Value::Float(1.5));
        assert_eq!(b("dbl"), Value::Double(2.25));
        assert_eq!(b("amount"), Value::Decimal("-12.3400".into()));
        assert_eq!(b("name"), Value::from("Zoë"));
        assert_eq!(b("bin"), Value::Bytes(vec![0, 1, 2, 255]));
        assert_eq!(b("born"), Value::Date(Date::default()));
        assert_eq!(
            b("ts"),
            Value::Timestamp(Timestamp {
                seconds: 1_704_164_645,
                micros: 123_456,
                fsp: 6
            })
        );
        assert_eq!(b("y"), Value::Year(2024));
        assert_eq!(b("doc"), Value::Json(r#"{"b":[1,2],"a":null}"#.into()));
        assert_eq!(e.get("big"), Some(&Value::Null));
        assert_eq!(
            to_json(&e),
            ALL_TYPES,
            "canonical output is the canonical input"
        );
        assert_eq!(parse_event(&to_json(&e), &hints()).unwrap(), e);
    }

    #[test]
    fn matches_the_host_writer() {
        // Lines as the host's `event::jsonl` writes them.
        let host = r#"{"op":"update","db":"shop","table":"t","ts_ms":1000,"pos":{"file":"b.000001","offset":42,"row":1,"gtid":null},"before":{"id":1,"name":null},"after":{"id":1,"name":"x"}}"#;
        assert_eq!(
            to_json(&parse_event(host, &TypeHints::new()).unwrap()),
            host
        );
        let hints = TypeHints::new()
            .column("ts", Kind::Timestamp)
            .column("f", Kind::Float);
        let zero = r#"{"op":"insert","db":"d","table":"t","ts_ms":0,"pos":{"file":"","offset":0,"row":0,"gtid":null},"before":null,"after":{"ts":"0000-00-00T00:00:00Z","f":"NaN"}}"#;
        let e = parse_event(zero, &hints).unwrap();
        assert!(matches!(e.get("f"), Some(Value::Float(x)) if x.is_nan()));
        assert_eq!(to_json(&e), zero);
    }

    #[test]
    fn defaults_without_hints() {
        let e = parse_event(
            r#"{"op":"insert","db":"d","table":"t","after":{"s":"2024-01-01","n":-3,"x":1e3,"b":true,"j":[1],"o":{"k":1}}}"#,
            &TypeHints::new(),
        )
        .unwrap();
        let a = e.after.unwrap();
        assert_eq!(a[0], Value::from("2024-01-01"));
        assert_eq!(a[1], Value::Int(-3));
        assert_eq!(a[2], Value::Double(1000.0));
        assert_eq!(a[3], Value::Int(1));
        assert_eq!(a[4], Value::Json("[1]".into()));
        assert_eq!(a[5], Value::Json(r#"{"k":1}"#.into()));
        assert_eq!(e.before, None);
        assert_eq!(e.ts_ms, 0);
    }

    #[test]
    fn column_union_and_ddl() {
        let e = parse_event(
            r#"{"op":"update","db":"d","table":"t","before":{"a":1,"z":2},"after":{"a":3}}"#,
            &TypeHints::new(),
        )
        .unwrap();
        assert_eq!(e.columns, ["a", "z"]);
        assert_eq!(e.after, Some(vec![Value::Int(3), Value::Null]));
        let ddl = parse_event(
            r#"{"op":"ddl","db":"d","table":"t","sql":"DROP TABLE t"}"#,
            &TypeHints::new(),
        )
        .unwrap();
        assert_eq!(ddl.sql.as_deref(), Some("DROP TABLE t"));
        assert!(to_json(&ddl).ends_with(r#""before":null,"after":null,"sql":"DROP TABLE t"}"#));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = parse_jsonl(
            "\n{\"op\":\"insert\",\"after\":{}}\n{\"op\":\"upsert\"}",
            &TypeHints::new(),
        )
        .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("upsert"));
        let bad_date = TypeHints::new().column("d", Kind::Date);
        let err =
            parse_jsonl(r#"{"op":"insert","after":{"d":"2024-13-01"}}"#, &bad_date).unwrap_err();
        assert!(err.to_string().contains("column d"), "{err}");
    }
}
