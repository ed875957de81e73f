//! Reads JSON Lines change events back into [`ChangeEvent`]s: the inverse of [`super::jsonl`],
//! used by `wproc transform test` and for replaying dead letters.
//!
//! The canonical format carries no column types, so values are typed by their JSON shape:
//! integers are `Int` (`UInt` above `i64::MAX`), other numbers `Double`, strings `String`,
//! `{"base64": …}` `Bytes`, other objects and arrays `Json`, `true`/`false` `Int(1)`/`Int(0)`.
//! For a lossless read a line may carry an optional **input-only** key `"types"`, an object
//! from column name to SQL type (`{"amount": "decimal(10,2)", "at": "datetime(3)"}`); the
//! writer never emits it. With it, strings become `Decimal`, `Date`, `DateTime`, `Timestamp`,
//! `Time` and numbers `Float`, `Year`, `UInt` as the type says. `ts_ms`, `pos`, `db` and
//! `table` default to zero or empty when absent; keys are read in document order, `before`
//! columns missing from `after` are appended (`null` in the other image).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{ChangeEvent, Column, EventPosition, Op, Value};

/// A line that is not a change event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReadError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
struct Line<'a> {
    op: Op,
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
    types: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct Pos {
    #[serde(default)]
    file: String,
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    row: u32,
    #[serde(default)]
    gtid: Option<String>,
}

/// A JSON object in document order, values unparsed.
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

/// A column's name and SQL type.
type ColumnKey = (Arc<str>, Arc<str>);

/// Reads events, one per non-blank line. Events of one table with the same columns share
/// their column list, as captured events do.
pub fn read_events(text: &str) -> Result<Vec<ChangeEvent>, ReadError> {
    let mut shared: HashMap<Vec<ColumnKey>, Arc<[Column]>> = HashMap::new();
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut e = read_event(line).map_err(|message| ReadError {
            line: i + 1,
            message,
        })?;
        let key: Vec<_> = e
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.sql_type.clone()))
            .collect();
        e.columns = shared
            .entry(key)
            .or_insert_with(|| e.columns.clone())
            .clone();
        events.push(e);
    }
    Ok(events)
}

/// Reads one event line.
pub fn read_event(line: &str) -> Result<ChangeEvent, String> {
    let l: Line<'_> = serde_json::from_str(line.trim()).map_err(|e| e.to_string())?;
    let mut names: Vec<&str> = Vec::new();
    for row in [&l.after, &l.before].into_iter().flatten() {
        for (name, _) in &row.0 {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let read_row = |row: &Option<Row<'_>>| -> Result<Option<Vec<Value>>, String> {
        let Some(row) = row else { return Ok(None) };
        let mut values = vec![Value::Null; names.len()];
        for (name, raw) in &row.0 {
            let sql_type = l.types.get(name).map(String::as_str);
            let v = to_value(raw.get(), sql_type).map_err(|m| format!("column {name}: {m}"))?;
            if let Some(slot) = names.iter().position(|n| n == name) {
                values[slot] = v;
            }
        }
        Ok(Some(values))
    };
    let before = read_row(&l.before)?;
    let after = read_row(&l.after)?;
    let columns: Arc<[Column]> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let sql_type = match l.types.get(*name) {
                Some(t) => t.clone(),
                None => {
                    let v = after.as_ref().or(before.as_ref()).and_then(|r| r.get(i));
                    v.map_or("null", Value::type_name).to_owned()
                }
            };
            Column {
                name: (*name).into(),
                sql_type: sql_type.into(),
            }
        })
        .collect();
    let p = l.pos.unwrap_or_default();
    Ok(ChangeEvent {
        op: l.op,
        db: l.db.into(),
        table: l.table.into(),
        ts_ms: l.ts_ms,
        pos: EventPosition {
            file: p.file.into(),
            offset: p.offset,
            row: p.row,
            gtid: p.gtid.map(Arc::from),
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

fn num<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim_matches('"')
        .parse()
        .map_err(|_| format!("expected {what}, got {text}"))
}

/// One JSON value as a [`Value`], typed by `sql_type` when given, else by its JSON shape.
fn to_value(text: &str, sql_type: Option<&str>) -> Result<Value, String> {
    if text == "null" {
        return Ok(Value::Null);
    }
    let first = text.as_bytes().first().copied().unwrap_or(b' ');
    let Some(sql_type) = sql_type else {
        return match first {
            b'"' => json_string(text).map(Value::String),
            b'{' => base64_object(text)
                .map_or_else(|| Ok(Value::Json(text.to_owned())), |b| b.map(Value::Bytes)),
            b'[' => Ok(Value::Json(text.to_owned())),
            b't' => Ok(Value::Int(1)),
            b'f' => Ok(Value::Int(0)),
            _ => text
                .parse::<i64>()
                .map(Value::Int)
                .or_else(|_| text.parse::<u64>().map(Value::UInt))
                .or_else(|_| text.parse::<f64>().map(Value::Double))
                .map_err(|_| format!("not a number: {text}")),
        };
    };
    let t = sql_type.to_ascii_lowercase();
    let base = t.split(['(', ' ']).next().unwrap_or("");
    let fsp = t
        .split_once('(')
        .and_then(|(_, r)| r.split(')').next())
        .and_then(|d| d.parse::<u8>().ok());
    Ok(match base {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "bit"
            if t.contains("unsigned") || base == "bit" =>
        {
            Value::UInt(num(text, "an unsigned integer")?)
        }
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
            Value::Int(num(text, "an integer")?)
        }
        "float" => Value::Float(num(text, "a number")?),
        "double" | "real" => Value::Double(num(text, "a number")?),
        "decimal" | "numeric" => Value::Decimal(text.trim_matches('"').to_owned()),
        "year" => Value::Year(num(text, "a year")?),
        "json" => Value::Json(text.to_owned()),
        "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "geometry" => {
            match base64_object(text) {
                Some(b) => Value::Bytes(b?),
                None => Value::Bytes(json_string(text)?.into_bytes()),
            }
        }
        "date" => {
            let s = json_string(text)?;
            let (year, month, day) = parse_date(&s).ok_or(format!("bad DATE {s:?}"))?;
            Value::Date { year, month, day }
        }
        "datetime" => {
            let s = json_string(text)?;
            let bad = || format!("bad DATETIME {s:?}");
            let (d, c) = s.split_once(' ').ok_or_else(bad)?;
            let (year, month, day) = parse_date(d).ok_or_else(bad)?;
            let (hour, minute, second, micros, digits) = parse_clock(c).ok_or_else(bad)?;
            Value::DateTime {
                year,
                month,
                day,
                hour: u8::try_from(hour).map_err(|_| bad())?,
                minute,
                second,
                micros,
                fsp: fsp.unwrap_or(digits),
            }
        }
        "timestamp" => {
            let s = json_string(text)?;
            let bad = || format!("bad TIMESTAMP {s:?}");
            let body = s.strip_suffix('Z').ok_or_else(bad)?;
            let (d, c) = body.split_once('T').ok_or_else(bad)?;
            let (year, month, day) = parse_date(d).ok_or_else(bad)?;
            let (hour, minute, second, micros, digits) = parse_clock(c).ok_or_else(bad)?;
            let seconds = if year == 0 {
                0
            } else {
                chrono::NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())
                    .and_then(|d| d.and_hms_opt(hour, minute.into(), second.into()))
                    .ok_or_else(bad)?
                    .and_utc()
                    .timestamp()
            };
            Value::Timestamp {
                seconds,
                micros,
                fsp: fsp.unwrap_or(digits),
            }
        }
        "time" => {
            let s = json_string(text)?;
            let (negative, body) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s.as_str()),
            };
            let (hours, minutes, seconds, micros, digits) =
                parse_clock(body).ok_or(format!("bad TIME {s:?}"))?;
            Value::Time {
                negative,
                hours,
                minutes,
                seconds,
                micros,
                fsp: fsp.unwrap_or(digits),
            }
        }
        _ => match first {
            b'"' => Value::String(json_string(text)?),
            _ => to_value(text, None)?,
        },
    })
}

fn parse_date(s: &str) -> Option<(u16, u8, u8)> {
    let mut it = s.splitn(3, '-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    (m <= 12 && d <= 31).then_some((y, m, d))
}

/// `H[HH]:MM:SS[.f…]` → hours, minutes, seconds, microseconds, fraction digits.
fn parse_clock(s: &str) -> Option<(u32, u8, u8, u32, u8)> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    };
    let mut it = hms.splitn(3, ':');
    let h = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let sec: u8 = it.next()?.parse().ok()?;
    if m > 59 || sec > 59 || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = frac.len() as u8;
    let micros = if frac.is_empty() {
        0
    } else {
        frac.parse::<u32>().ok()? * 10u32.pow(6 - u32::from(digits))
    };
    Some((h, m, sec, micros, digits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::jsonl::to_line;

    #[test]
    fn round_trips_the_writer() {
        let line = r#"{"op":"update","db":"shop","table":"t","ts_ms":1000,"pos":{"file":"b.000001","offset":42,"row":1,"gtid":"0-1-5"},"before":{"id":1,"name":null},"after":{"id":1,"name":"x"}}"#;
        let e = read_event(line).unwrap();
        assert_eq!(to_line(&e), line);
        assert_eq!(e.pos.gtid.as_deref(), Some("0-1-5"));
    }

    #[test]
    fn types_make_the_read_lossless() {
        let line = r#"{"op":"insert","db":"d","table":"t","after":{"amount":"-12.50","born":"0000-00-00","at":"2024-02-29 23:59:58.123","ts":"2038-01-19T03:14:07.999Z","dur":"-838:59:59","f":1.5,"y":2024,"u":18446744073709551615,"bin":{"base64":"AP8B"},"doc":{"a":[1,2]}},"types":{"amount":"decimal(10,2)","born":"date","at":"datetime(3)","ts":"timestamp(3)","dur":"time","f":"float","y":"year","u":"bigint unsigned","bin":"varbinary(3)","doc":"json"}}"#;
        let e = read_event(line).unwrap();
        let a = e.after.clone().unwrap();
        assert_eq!(a[0], Value::Decimal("-12.50".into()));
        assert_eq!(
            a[1],
            Value::Date {
                year: 0,
                month: 0,
                day: 0
            }
        );
        assert!(matches!(
            a[2],
            Value::DateTime {
                micros: 123_000,
                fsp: 3,
                ..
            }
        ));
        assert_eq!(
            a[3],
            Value::Timestamp {
                seconds: 2_147_483_647,
                micros: 999_000,
                fsp: 3
            }
        );
        assert!(matches!(
            a[4],
            Value::Time {
                negative: true,
                hours: 838,
                ..
            }
        ));
        assert_eq!(a[5], Value::Float(1.5));
        assert_eq!(a[6], Value::Year(2024));
        assert_eq!(a[7], Value::UInt(u64::MAX));
        assert_eq!(a[8], Value::Bytes(vec![0, 255, 1]));
        assert_eq!(a[9], Value::Json(r#"{"a":[1,2]}"#.into()));
        assert_eq!(&*e.columns[0].sql_type, "decimal(10,2)");
        let written = to_line(&e);
        assert!(written.contains(r#""at":"2024-02-29 23:59:58.123","ts":"2038-01-19T03:14:07.999Z","dur":"-838:59:59""#), "{written}");
    }

    #[test]
    fn shapes_without_types_and_errors() {
        let events = read_events(
            "\n{\"op\":\"insert\",\"table\":\"t\",\"after\":{\"a\":1,\"b\":\"x\"}}\n{\"op\":\"delete\",\"table\":\"t\",\"before\":{\"a\":2,\"b\":\"y\"}}\n",
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        assert!(Arc::ptr_eq(&events[0].columns, &events[1].columns));
        let err = read_events("{\"op\":\"insert\"}\n{\"op\":\"upsert\"}").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
