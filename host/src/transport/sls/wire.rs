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
//! (after image; the before image for deletes), `_old_<col>` per column for updates (a column
//! absent from an image, `Value::Absent` under `binlog_row_image=MINIMAL`, has no key, as
//! service_canal logs only the columns the image has), `Query` for
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

use crate::event::codec::EventDecoder;
use crate::event::{ChangeEvent, Column, EventPosition, Op, Value};
use crate::sls::Log;
use crate::sls::proto_view::LogView;

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

/// Encodes one event as an SLS log (see the module docs). `host` becomes `_host_`. The
/// allocating form of [`LogEncoder::encode`], for tests and tools.
pub fn encode_event(event: &ChangeEvent, host: Option<&str>) -> Log {
    let mut body = Vec::new();
    LogEncoder::default().encode(event, host, &mut body);
    // `body` is one length-delimited field 1 (a LogGroup with one log): decode that.
    crate::sls::proto::decode_log_group(&body)
        .ok()
        .and_then(|mut g| g.logs.pop())
        .unwrap_or_default()
}

/// Serializes events straight into a LogGroup body (protobuf field 1, one per log), without
/// building `Log`/`Content` values: the capture hot path. Holds scratch buffers; reuse it.
#[derive(Debug, Default)]
pub struct LogEncoder {
    log: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
    typed: Vec<u8>,
}

impl LogEncoder {
    /// Appends the log of `event` to the LogGroup body `group`; returns the bytes appended.
    pub fn encode(
        &mut self,
        event: &ChangeEvent,
        host: Option<&str>,
        group: &mut Vec<u8>,
    ) -> usize {
        let log = &mut self.log;
        log.clear();
        // time (1, varint), then contents (2), then time_ns (4, fixed32), as prost orders them.
        let secs = u32::try_from(event.ts_ms / 1000).unwrap_or(u32::MAX);
        log.push(0x08);
        prost::encoding::encode_varint(u64::from(secs), log);
        put_content(log, b"_db_", event.db.as_bytes());
        if !event.table.is_empty() || event.op != Op::Ddl {
            put_content(log, b"_table_", event.table.as_bytes());
        }
        put_content(log, b"_event_", event_name(event.op).as_bytes());
        let gtid = event.pos.gtid.as_deref().unwrap_or(CANAL_ZERO_GTID);
        put_content(log, b"_gtid_", gtid.as_bytes());
        put_content(log, b"_filename_", event.pos.file.as_bytes());
        put_content(
            log,
            b"_offset_",
            itoa::Buffer::new().format(event.pos.offset).as_bytes(),
        );
        if let Some(host) = host {
            put_content(log, b"_host_", host.as_bytes());
        }
        let shown = match event.op {
            Op::Delete => event.before.as_deref(),
            _ => event.after.as_deref(),
        };
        if let Some(image) = shown {
            for (column, value) in event.columns.iter().zip(image) {
                if value.is_absent() {
                    continue;
                }
                self.value.clear();
                write_canal_text(column, value, &mut self.value);
                put_content(log, column.name.as_bytes(), &self.value);
            }
        }
        if event.op == Op::Update
            && let Some(image) = event.before.as_deref()
        {
            for (column, value) in event.columns.iter().zip(image) {
                if value.is_absent() {
                    continue;
                }
                self.key.clear();
                self.key.extend_from_slice(OLD_PREFIX.as_bytes());
                self.key.extend_from_slice(column.name.as_bytes());
                self.value.clear();
                write_canal_text(column, value, &mut self.value);
                put_content(log, &self.key, &self.value);
            }
        }
        if let Some(sql) = &event.sql {
            put_content(log, b"Query", sql.as_bytes());
        }
        // `1:` + base64(postcard(event)). Serializing in-memory data into a Vec cannot fail
        // for these types.
        self.typed.clear();
        let typed = postcard::to_extend(event, std::mem::take(&mut self.typed)).unwrap_or_default();
        self.value.clear();
        self.value.extend_from_slice(TYPED_PREFIX.as_bytes());
        let at = self.value.len();
        self.value
            .resize(at + base64::encoded_len(typed.len(), true).unwrap_or(0), 0);
        let written = BASE64
            .encode_slice(&typed, &mut self.value[at..])
            .unwrap_or(0);
        self.value.truncate(at + written);
        self.typed = typed;
        put_content(log, TYPED_KEY.as_bytes(), &self.value);
        log.push(0x25);
        log.extend_from_slice(&(((event.ts_ms % 1000) * 1_000_000) as u32).to_le_bytes());

        let before = group.len();
        group.push(0x0a);
        prost::encoding::encode_varint(log.len() as u64, group);
        group.extend_from_slice(log);
        group.len() - before
    }
}

/// Appends field 2 of a Log: a Content `{1: key, 2: value}`.
fn put_content(log: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    use prost::encoding::{encode_varint, encoded_len_varint};
    let inner = 2
        + encoded_len_varint(key.len() as u64)
        + key.len()
        + encoded_len_varint(value.len() as u64)
        + value.len();
    log.push(0x12);
    encode_varint(inner as u64, log);
    log.push(0x0a);
    encode_varint(key.len() as u64, log);
    log.extend_from_slice(key);
    log.push(0x12);
    encode_varint(value.len() as u64, log);
    log.extend_from_slice(value);
}

/// A value as service_canal prints it (see `docs/sls-wire-format.md` for the table).
pub fn canal_text(column: &Column, value: &Value) -> String {
    let mut out = Vec::new();
    write_canal_text(column, value, &mut out);
    // Every arm writes UTF-8 (text values are `String`s, bytes go through a lossy conversion).
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends [`canal_text`] of a value to `out`. [`Value::Absent`] appends nothing: the encoder
/// writes no key at all for a column absent from the image.
pub fn write_canal_text(column: &Column, value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Absent => {}
        Value::Null => out.extend_from_slice(CANAL_NULL.as_bytes()),
        Value::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Value::UInt(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Value::Float(v) => out.extend_from_slice(go_float(&format!("{v:e}")).as_bytes()),
        Value::Double(v) => out.extend_from_slice(go_float(&format!("{v:e}")).as_bytes()),
        Value::Decimal(s) | Value::Json(s) => out.extend_from_slice(s.as_bytes()),
        Value::String(s) if column.sql_type.starts_with("set") => {
            out.push(b'[');
            for (i, label) in s.split(',').enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(label.as_bytes());
            }
            out.push(b']');
        }
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => out.extend_from_slice(s.as_bytes()),
            Err(_) => out.extend_from_slice(String::from_utf8_lossy(b).as_bytes()),
        },
        Value::Date { year, month, day } => write_date(out, *year, *month, *day),
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
            fsp,
        } => {
            write_date(out, *year, *month, *day);
            out.push(b' ');
            write_clock(out, u32::from(*hour), *minute, *second, *micros, *fsp);
        }
        Value::Timestamp {
            seconds,
            micros,
            fsp,
        } => match DateTime::from_timestamp(*seconds, 0) {
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
        },
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micros,
            fsp,
        } => {
            if *negative {
                out.push(b'-');
            }
            write_clock(out, *hours, *minutes, *seconds, *micros, *fsp);
        }
        Value::Year(y) => out.extend_from_slice(itoa::Buffer::new().format(*y).as_bytes()),
    }
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
    /// Shares table metadata between typed events.
    events: EventDecoder,
    /// Scratch space for the base64-decoded typed value.
    scratch: Vec<u8>,
    /// Buffer of the decompressed PullLogs body, reused between pulls by the consumer.
    pub(crate) pulled: Vec<u8>,
}

impl WireDecoder {
    /// A decoder at the start of a shard range.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one log (see the module docs).
    pub fn decode(&mut self, log: &Log) -> Result<ChangeEvent, WireError> {
        if let Some(typed) = log.contents.iter().rev().find(|c| c.key == TYPED_KEY) {
            return self.decode_typed(&typed.value);
        }
        self.decode_canal(log)
    }

    /// Decodes one log of a PullLogs body read in place; returns the event and whether it
    /// carried the typed key (so its position is exact and comparable).
    pub fn decode_view(&mut self, log: &LogView<'_>) -> Result<(ChangeEvent, bool), WireError> {
        match log.get(TYPED_KEY.as_bytes()) {
            Some(typed) => Ok((self.decode_typed(typed)?, true)),
            None => Ok((self.decode_canal(&log.to_log())?, false)),
        }
    }

    fn decode_typed(&mut self, value: &[u8]) -> Result<ChangeEvent, WireError> {
        let err = |reason: String| WireError::Typed { reason };
        let b64 = value
            .strip_prefix(TYPED_PREFIX.as_bytes())
            .ok_or_else(|| err(format!("does not start with {TYPED_PREFIX:?}")))?;
        self.scratch.clear();
        BASE64
            .decode_vec(b64, &mut self.scratch)
            .map_err(|e| err(format!("base64: {e}")))?;
        self.events
            .decode(&self.scratch)
            .map_err(|e| err(format!("postcard: {e}")))
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

/// Whether a decoded log carried the typed key (so its position is exact and comparable).
pub fn is_typed(log: &Log) -> bool {
    log.contents.iter().any(|c| c.key == TYPED_KEY)
}

#[cfg(test)]
pub(crate) fn go_float_for_test(sci: &str) -> String {
    go_float(sci)
}
