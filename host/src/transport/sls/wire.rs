//! The SLS wire format: one SLS log per row change, readable by everything that reads
//! ilogtail `service_canal` logs, plus one key that restores the typed event exactly.
//!
//! `docs/sls-wire-format.md` is the user-facing description; this module is the code.
//!
//! **Encoding** ([`encode_event`]), keys in this order:
//! `_db_`, `_table_` (omitted for a DDL statement without a table), `_event_` (`row_insert`,
//! `row_update`, `row_delete`, `ddl`), `_gtid_` (the zero GTID
//! `00000000-0000-0000-0000-000000000000:0` when the server has none, as service_canal writes),
//! `_filename_`, `_offset_` (the start offset of the rows event; service_canal writes the end
//! offset), `_host_` when configured, then one key per column with service_canal's rendering
//! (after image; the before image for deletes), `_old_<col>` per column for updates, `Query` for
//! DDL, and last `_wproc_`: `1:` + base64 (standard, padded) of the postcard encoding of the
//! whole [`ChangeEvent`] (types, NULLs, bytes, exact position with row index, commit time).
//! Log time is the commit time (seconds, with the milliseconds in `TimeNs`).
//!
//! **Decoding** ([`WireDecoder::decode`]): a log with `_wproc_` becomes exactly the event that
//! was encoded. A log without it (written by the real service_canal) becomes an event whose
//! values are all `Value::String`, except `<nil>`, which becomes `Value::Null` (service_canal
//! cannot tell NULL from the string `<nil>`); columns get an empty SQL type; the time is the log
//! time (service_canal's collection time); the row index counts consecutive logs of the same
//! `_filename_`/`_offset_` (the rows of one binlog event).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Datelike, Timelike};

use crate::event::jsonl::{write_clock, write_date};

use crate::event::{ChangeEvent, Column, EventPosition, Op, Value};
use crate::sls::{Content, Log};

/// The key holding the typed encoding of the event.
pub const TYPED_KEY: &str = "_wproc_";
/// Version prefix of the typed encoding.
const TYPED_PREFIX: &str = "1:";
/// What service_canal writes for NULL.
pub const CANAL_NULL: &str = "<nil>";
/// What service_canal writes as `_gtid_` when the server has no GTID.
pub const CANAL_ZERO_GTID: &str = "00000000-0000-0000-0000-000000000000:0";
/// Prefix of before-image keys.
const OLD_PREFIX: &str = "_old_";

/// Keys that are metadata, never columns (service_canal's, with `EnableEventMeta`, and ours).
const META_KEYS: &[&str] = &[
    "_host_",
    "_db_",
    "_table_",
    "_event_",
    "_id_",
    "_gtid_",
    "_filename_",
    "_offset_",
    "_event_time_",
    "_event_log_postion_",
    "_event_size_",
    "_event_server_id_",
    TYPED_KEY,
];

/// A log that is not a change event in either format.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The `_wproc_` value is not a typed encoding this version reads.
    #[error("`{TYPED_KEY}` value is invalid: {reason}")]
    Typed {
        /// What is wrong.
        reason: String,
    },
    /// A service_canal log lacks a key or has a value that cannot be read.
    #[error("log is not a service_canal change: {reason}")]
    Canal {
        /// What is wrong.
        reason: String,
    },
}

/// The `_event_` value of an operation.
pub const fn event_name(op: Op) -> &'static str {
    match op {
        Op::Insert => "row_insert",
        Op::Update => "row_update",
        Op::Delete => "row_delete",
        Op::Ddl => "ddl",
    }
}

fn content(key: &str, value: String) -> Content {
    Content {
        key: key.to_owned(),
        value: value.into_bytes(),
    }
}

/// Encodes one event as an SLS log (see the module docs). `host` becomes `_host_`.
pub fn encode_event(event: &ChangeEvent, host: Option<&str>) -> Log {
    let columns = event.columns.len();
    let mut contents = Vec::with_capacity(8 + columns * 2);
    contents.push(content("_db_", event.db.to_string()));
    if !event.table.is_empty() || event.op != Op::Ddl {
        contents.push(content("_table_", event.table.to_string()));
    }
    contents.push(content("_event_", event_name(event.op).to_owned()));
    let gtid = event.pos.gtid.as_deref().unwrap_or(CANAL_ZERO_GTID);
    contents.push(content("_gtid_", gtid.to_owned()));
    contents.push(content("_filename_", event.pos.file.to_string()));
    contents.push(content("_offset_", event.pos.offset.to_string()));
    if let Some(host) = host {
        contents.push(content("_host_", host.to_owned()));
    }
    let shown = match event.op {
        Op::Delete => event.before.as_deref(),
        _ => event.after.as_deref(),
    };
    if let Some(image) = shown {
        for (column, value) in event.columns.iter().zip(image) {
            contents.push(content(&column.name, canal_text(column, value)));
        }
    }
    if event.op == Op::Update
        && let Some(image) = event.before.as_deref()
    {
        for (column, value) in event.columns.iter().zip(image) {
            let key = format!("{OLD_PREFIX}{}", column.name);
            contents.push(content(&key, canal_text(column, value)));
        }
    }
    if let Some(sql) = &event.sql {
        contents.push(content("Query", sql.clone()));
    }
    contents.push(content(TYPED_KEY, typed_value(event)));
    let secs = event.ts_ms / 1000;
    Log {
        time: u32::try_from(secs).unwrap_or(u32::MAX),
        contents,
        time_ns: Some(((event.ts_ms % 1000) * 1_000_000) as u32),
    }
}

/// `1:` + base64(postcard(event)).
fn typed_value(event: &ChangeEvent) -> String {
    // Serializing owned, in-memory data into a Vec cannot fail for these types.
    let bytes = postcard::to_stdvec(event).unwrap_or_default();
    let mut out = String::with_capacity(TYPED_PREFIX.len() + bytes.len().div_ceil(3) * 4);
    out.push_str(TYPED_PREFIX);
    BASE64.encode_string(&bytes, &mut out);
    out
}

/// A value as service_canal prints it (see `docs/sls-wire-format.md` for the table).
pub fn canal_text(column: &Column, value: &Value) -> String {
    match value {
        Value::Null => CANAL_NULL.to_owned(),
        Value::Int(v) => v.to_string(),
        Value::UInt(v) => v.to_string(),
        Value::Float(v) => go_float(&format!("{v:e}")),
        Value::Double(v) => go_float(&format!("{v:e}")),
        Value::Decimal(s) | Value::Json(s) => s.clone(),
        Value::String(s) if column.sql_type.starts_with("set") => {
            format!("[{}]", s.split(',').collect::<Vec<_>>().join(" "))
        }
        Value::String(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Date { year, month, day } => text(|out| write_date(out, *year, *month, *day)),
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
            fsp,
        } => text(|out| {
            write_date(out, *year, *month, *day);
            out.push(b' ');
            write_clock(out, u32::from(*hour), *minute, *second, *micros, *fsp);
        }),
        Value::Timestamp {
            seconds,
            micros,
            fsp,
        } => text(|out| match DateTime::from_timestamp(*seconds, 0) {
            Some(t) if *seconds != 0 || *micros != 0 => {
                let year = u16::try_from(t.year().clamp(0, 9999)).unwrap_or(0);
                write_date(out, year, t.month() as u8, t.day() as u8);
                out.push(b' ');
                write_clock(
                    out,
                    t.hour(),
                    t.minute() as u8,
                    t.second() as u8,
                    *micros,
                    *fsp,
                );
            }
            _ => {
                out.extend_from_slice(b"0000-00-00 ");
                write_clock(out, 0, 0, 0, 0, *fsp);
            }
        }),
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micros,
            fsp,
        } => text(|out| {
            if *negative {
                out.push(b'-');
            }
            write_clock(out, *hours, *minutes, *seconds, *micros, *fsp);
        }),
        Value::Year(y) => y.to_string(),
    }
}

/// Text written by the JSON Lines digit writers (ASCII only).
fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::with_capacity(32);
    write(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Go's `%v` of a float (`strconv.FormatFloat(v, 'g', -1, bits)`), from Rust's shortest
/// round-trip scientific form (`{:e}`, e.g. `-1.2345e6`): exponent form when the decimal
/// exponent is below -4 or at least 6 (`1e+06`), plain digits otherwise.
fn go_float(sci: &str) -> String {
    match sci {
        "NaN" => return "NaN".into(),
        "inf" => return "+Inf".into(),
        "-inf" => return "-Inf".into(),
        _ => {}
    }
    let (neg, body) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mantissa, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if neg { "-" } else { "" };
    if digits.bytes().all(|b| b == b'0') {
        return format!("{sign}0");
    }
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    let dp = exp + 1;
    let n = digits.len() as i32;
    if dp <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= n {
        format!("{sign}{digits}{}", "0".repeat((dp - n) as usize))
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// Decodes logs of one shard, in order. Keeps the state that gives service_canal rows their
/// row index.
#[derive(Debug, Default)]
pub struct WireDecoder {
    /// `_filename_`, `_offset_` of the previous service_canal log, and its row index.
    previous: Option<(String, u64, u32)>,
}

impl WireDecoder {
    /// A decoder at the start of a shard range.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one log (see the module docs).
    pub fn decode(&mut self, log: &Log) -> Result<ChangeEvent, WireError> {
        if let Some(typed) = log.contents.iter().rev().find(|c| c.key == TYPED_KEY) {
            return decode_typed(&typed.value);
        }
        self.decode_canal(log)
    }

    fn decode_canal(&mut self, log: &Log) -> Result<ChangeEvent, WireError> {
        let get = |key: &str| {
            log.contents
                .iter()
                .find(|c| c.key == key)
                .map(|c| String::from_utf8_lossy(&c.value).into_owned())
        };
        let missing = |key: &str| WireError::Canal {
            reason: format!("no `{key}` key"),
        };
        let event = get("_event_").ok_or_else(|| missing("_event_"))?;
        let op = match event.as_str() {
            "row_insert" => Op::Insert,
            "row_update" => Op::Update,
            "row_delete" => Op::Delete,
            "ddl" => Op::Ddl,
            other => {
                return Err(WireError::Canal {
                    reason: format!("unknown `_event_` {other:?}"),
                });
            }
        };
        let db = get("_db_").ok_or_else(|| missing("_db_"))?;
        let table = get("_table_").unwrap_or_default();
        let file = get("_filename_").unwrap_or_default();
        let offset = match get("_offset_") {
            Some(text) => text.trim().parse::<u64>().map_err(|_| WireError::Canal {
                reason: format!("`_offset_` {text:?} is not a number"),
            })?,
            None => 0,
        };
        let row = match &self.previous {
            Some((f, o, r)) if *f == file && *o == offset => r + 1,
            _ => 0,
        };
        self.previous = Some((file.clone(), offset, row));
        let ts_ms = u64::from(log.time) * 1000 + u64::from(log.time_ns.unwrap_or(0) / 1_000_000);
        let pos = EventPosition {
            file: file.into(),
            offset,
            row,
            gtid: get("_gtid_").map(Arc::from),
        };
        if op == Op::Ddl {
            return Ok(ChangeEvent {
                op,
                db: db.into(),
                table: table.into(),
                ts_ms,
                pos,
                columns: Arc::from(Vec::new()),
                before: None,
                after: None,
                sql: Some(get("Query").ok_or_else(|| missing("Query"))?),
            });
        }
        let mut columns = Vec::new();
        let mut values = Vec::new();
        for c in &log.contents {
            let key = c.key.as_str();
            if META_KEYS.contains(&key) || key.starts_with(OLD_PREFIX) || key.starts_with("__") {
                continue;
            }
            columns.push(Column {
                name: Arc::from(key),
                sql_type: Arc::from(""),
            });
            values.push(canal_value(&c.value));
        }
        let before = (op == Op::Update).then(|| {
            columns
                .iter()
                .map(|col| {
                    let key = format!("{OLD_PREFIX}{}", col.name);
                    log.contents
                        .iter()
                        .find(|c| c.key == key)
                        .map_or(Value::Null, |c| canal_value(&c.value))
                })
                .collect()
        });
        let (before, after) = match op {
            Op::Insert => (None, Some(values)),
            Op::Delete => (Some(values), None),
            _ => (before, Some(values)),
        };
        Ok(ChangeEvent {
            op,
            db: db.into(),
            table: table.into(),
            ts_ms,
            pos,
            columns: Arc::from(columns),
            before,
            after,
            sql: None,
        })
    }
}

fn canal_value(bytes: &[u8]) -> Value {
    if bytes == CANAL_NULL.as_bytes() {
        Value::Null
    } else {
        Value::String(String::from_utf8_lossy(bytes).into_owned())
    }
}

fn decode_typed(value: &[u8]) -> Result<ChangeEvent, WireError> {
    let err = |reason: String| WireError::Typed { reason };
    let b64 = value
        .strip_prefix(TYPED_PREFIX.as_bytes())
        .ok_or_else(|| err(format!("does not start with {TYPED_PREFIX:?}")))?;
    let bytes = BASE64
        .decode(b64)
        .map_err(|e| err(format!("base64: {e}")))?;
    postcard::from_bytes(&bytes).map_err(|e| err(format!("postcard: {e}")))
}

/// Whether a decoded log carried the typed key (so its position is exact and comparable).
pub fn is_typed(log: &Log) -> bool {
    log.contents.iter().any(|c| c.key == TYPED_KEY)
}

#[cfg(test)]
pub(crate) fn go_float_for_test(sci: &str) -> String {
    go_float(sci)
}
