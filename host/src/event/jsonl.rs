//! The canonical JSON Lines encoding of [`ChangeEvent`]s: one JSON object per line.
//!
//! ```text
//! {"op":"update","db":"shop","table":"orders","ts_ms":1732406400000,
//!  "pos":{"file":"mariadb-bin.000001","offset":1234,"row":0,"gtid":"0-1-5"},
//!  "before":{"id":1,"total":"9.90"},"after":{"id":1,"total":"12.50"}}
//! ```
//! (one line in the files). Keys come in this order: `op`, `db`, `table`, `ts_ms`, `pos`,
//! `before`, `after`, and `sql` for `ddl` events. Row images are objects keyed by column name in
//! table order, or `null` when the operation has none. Values:
//!
//! | type | JSON |
//! |---|---|
//! | integers, signed and unsigned up to 2^64-1, BIT | integer |
//! | FLOAT, DOUBLE | number (shortest form that reads back to the same float) |
//! | DECIMAL | string with the exact digits, `"-12.50"` |
//! | CHAR, VARCHAR, TEXT, ENUM, SET | string (SET as `"a,b"`) |
//! | BINARY, VARBINARY, BLOB, GEOMETRY | `{"base64":"…"}` (standard alphabet, padded) |
//! | DATE | `"YYYY-MM-DD"` (`"0000-00-00"` stays) |
//! | DATETIME | `"YYYY-MM-DD HH:MM:SS[.ffffff]"`, as many fraction digits as the column has |
//! | TIMESTAMP | RFC 3339 in UTC, `"2024-11-24T08:00:00.123Z"`; the zero timestamp is `"0000-00-00T00:00:00Z"` |
//! | TIME | `"[-]HH:MM:SS[.ffffff]"`, hours may have three digits |
//! | YEAR | integer |
//! | JSON | the JSON value itself, nested |
//! | NULL | `null` |
//!
//! A column absent from a row image ([`Value::Absent`]: `binlog_row_image=MINIMAL` or `NOBLOB`,
//! an update whose two images log different columns) has no key in that image's object; a
//! present key with `null` is SQL NULL. A MySQL partial JSON update whose before image lacks
//! the JSON column carries the change as a string expression (see `docs/jsonl-format.md`).
//!
//! Binary values are wrapped in an object so that no string is ever ambiguous between text and
//! base64; a JSON column whose value is exactly `{"base64": …}` can only be told apart with the
//! column's type, which the SLS wire format and the transform API carry.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{Datelike, Timelike};

use super::{ChangeEvent, Column, Value};

/// Appends one event as a JSON line (with the trailing `\n`) to `out`.
pub fn write_event(out: &mut Vec<u8>, event: &ChangeEvent) {
    out.extend_from_slice(b"{\"op\":\"");
    out.extend_from_slice(event.op.as_str().as_bytes());
    out.extend_from_slice(b"\",\"db\":");
    write_str(out, &event.db);
    out.extend_from_slice(b",\"table\":");
    write_str(out, &event.table);
    out.extend_from_slice(b",\"ts_ms\":");
    write_u64(out, event.ts_ms);
    out.extend_from_slice(b",\"pos\":{\"file\":");
    write_str(out, &event.pos.file);
    out.extend_from_slice(b",\"offset\":");
    write_u64(out, event.pos.offset);
    out.extend_from_slice(b",\"row\":");
    write_u64(out, u64::from(event.pos.row));
    out.extend_from_slice(b",\"gtid\":");
    match &event.pos.gtid {
        Some(gtid) => write_str(out, gtid),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"},\"before\":");
    write_image(out, &event.columns, event.before.as_deref());
    out.extend_from_slice(b",\"after\":");
    write_image(out, &event.columns, event.after.as_deref());
    if let Some(sql) = &event.sql {
        out.extend_from_slice(b",\"sql\":");
        write_str(out, sql);
    }
    out.extend_from_slice(b"}\n");
}

/// Appends one event as a JSON line like [`write_event`], with one more string key at the end
/// (`"route"` in `wproc transform test`, `"error"` in dead letters). Not part of the file format.
pub fn write_event_with(out: &mut Vec<u8>, event: &ChangeEvent, key: &str, value: &str) {
    write_event(out, event);
    out.truncate(out.len() - 2);
    out.push(b',');
    write_str(out, key);
    out.push(b':');
    write_str(out, value);
    out.extend_from_slice(b"}\n");
}

/// Encodes one event as a JSON line without the trailing newline.
pub fn to_line(event: &ChangeEvent) -> String {
    let mut out = Vec::with_capacity(256);
    write_event(&mut out, event);
    out.pop();
    // write_event only emits valid UTF-8: literals, serde_json strings and digits.
    String::from_utf8(out).unwrap_or_default()
}

/// The rendered object keys (`"name":`, the first without a leading comma) of one column
/// list, kept for the next event: rows of one table share their `Arc<[Column]>`, so each
/// table's keys are escaped once instead of once per value. Holding the `Arc` keeps the
/// pointer from being reused, so pointer equality identifies the list.
struct RenderedKeys {
    columns: Arc<[Column]>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

thread_local! {
    static KEYS: RefCell<Option<RenderedKeys>> = const { RefCell::new(None) };
}

fn write_image(out: &mut Vec<u8>, columns: &Arc<[Column]>, image: Option<&[Value]>) {
    let Some(values) = image else {
        out.extend_from_slice(b"null");
        return;
    };
    KEYS.with_borrow_mut(|cache| {
        let keys = match cache {
            Some(keys) if Arc::ptr_eq(&keys.columns, columns) => keys,
            _ => {
                let mut bytes = Vec::new();
                let mut ends = Vec::with_capacity(columns.len());
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        bytes.push(b',');
                    }
                    write_str(&mut bytes, &column.name);
                    bytes.push(b':');
                    ends.push(bytes.len());
                }
                cache.insert(RenderedKeys {
                    columns: columns.clone(),
                    bytes,
                    ends,
                })
            }
        };
        out.push(b'{');
        let mut start = 0;
        let mut first = true;
        for (end, value) in keys.ends.iter().zip(values) {
            let key = &keys.bytes[start..*end];
            start = *end;
            // A column absent from the image (binlog_row_image=MINIMAL) has no key at all.
            if value.is_absent() {
                continue;
            }
            // Every key but the table's first starts with the separating comma.
            let key = match key.first() {
                Some(b',') if first => &key[1..],
                _ => key,
            };
            first = false;
            out.extend_from_slice(key);
            write_value(out, value);
        }
        out.push(b'}');
    });
}

/// Appends one value in its canonical JSON form.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Value::UInt(v) => write_u64(out, *v),
        Value::Float(v) => write_float(out, *v, v.is_finite()),
        Value::Double(v) => write_float(out, *v, v.is_finite()),
        Value::Decimal(s) | Value::String(s) => write_str(out, s),
        Value::Bytes(b) => {
            out.extend_from_slice(b"{\"base64\":\"");
            let start = out.len();
            out.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
            let written = BASE64.encode_slice(b, &mut out[start..]).unwrap_or(0);
            out.truncate(start + written);
            out.extend_from_slice(b"\"}");
        }
        Value::Date { year, month, day } => {
            out.push(b'"');
            write_date(out, *year, *month, *day);
            out.push(b'"');
        }
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
            out.push(b'"');
            write_date(out, *year, *month, *day);
            out.push(b' ');
            write_clock(out, u32::from(*hour), *minute, *second, *micros, *fsp);
            out.push(b'"');
        }
        Value::Timestamp {
            seconds,
            micros,
            fsp,
        } => {
            out.push(b'"');
            match chrono::DateTime::from_timestamp(*seconds, 0) {
                Some(t) if *seconds != 0 || *micros != 0 => {
                    let (y, m, d) = (t.year(), t.month() as u8, t.day() as u8);
                    write_date(out, y.clamp(0, 9999) as u16, m, d);
                    out.push(b'T');
                    let (h, mi, s) = (t.hour(), t.minute() as u8, t.second() as u8);
                    write_clock(out, h, mi, s, *micros, *fsp);
                }
                _ => {
                    out.extend_from_slice(b"0000-00-00T");
                    write_clock(out, 0, 0, 0, 0, *fsp);
                }
            }
            out.extend_from_slice(b"Z\"");
        }
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micros,
            fsp,
        } => {
            out.push(b'"');
            if *negative {
                out.push(b'-');
            }
            write_clock(out, *hours, *minutes, *seconds, *micros, *fsp);
            out.push(b'"');
        }
        Value::Year(y) => write_u64(out, u64::from(*y)),
        Value::Json(text) => out.extend_from_slice(text.as_bytes()),
        // Image writers skip absent columns; a lone absent value is written as null.
        Value::Absent => out.extend_from_slice(b"null"),
    }
}

/// The shortest decimal that reads back to the same float, without allocating.
fn write_float<F: ryu::Float>(out: &mut Vec<u8>, v: F, finite: bool) {
    let mut buf = ryu::Buffer::new();
    if finite {
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else {
        // MySQL cannot store NaN or infinity; keep them readable rather than invalid JSON.
        write_str(out, buf.format(v));
    }
}

fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Whether `bytes` holds a control character, `"` or `\\`: eight bytes at a time (the classic
/// "has a byte less than / equal to" bit tricks, which never miss one; a rare false alarm only
/// takes the escaping path).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
        if control
            || has_zero(x ^ (ONES * u64::from(b'"')))
            || has_zero(x ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most strings (names, positions, plain text) need no escape: copy them at once.
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

pub(crate) fn write_date(out: &mut Vec<u8>, year: u16, month: u8, day: u8) {
    write_padded(out, u32::from(year), 4);
    out.push(b'-');
    write_padded(out, u32::from(month), 2);
    out.push(b'-');
    write_padded(out, u32::from(day), 2);
}

pub(crate) fn write_clock(
    out: &mut Vec<u8>,
    hours: u32,
    minutes: u8,
    seconds: u8,
    micros: u32,
    fsp: u8,
) {
    write_padded(out, hours, 2);
    out.push(b':');
    write_padded(out, u32::from(minutes), 2);
    out.push(b':');
    write_padded(out, u32::from(seconds), 2);
    let digits = match fsp {
        0 if micros != 0 => 6,
        d => d.min(6),
    };
    if digits > 0 {
        out.push(b'.');
        let scaled = micros / 10u32.pow(6 - u32::from(digits));
        write_padded(out, scaled, usize::from(digits));
    }
}

/// Writes `v` in decimal, left-padded with zeros to at least `width` digits.
fn write_padded(out: &mut Vec<u8>, v: u32, width: usize) {
    // Dates, clocks and fractions: at most 10 digits, written directly (a profile hot spot).
    let mut digits = [b'0'; 10];
    let width = width.clamp(1, 10);
    let mut rest = v;
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    if rest == 0 {
        out.extend_from_slice(&digits[..width]);
        return;
    }
    // Wider than `width`: all its digits, as the old formatter did.
    let _ = out.write_all(itoa::Buffer::new().format(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{EventPosition, Op};

    fn render(v: Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, &v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escape_detection_never_misses() {
        for b in 0u8..=255 {
            let expected = b < 0x20 || b == b'"' || b == b'\\';
            for at in 0..17 {
                let mut text = vec![b'a'; 17];
                text[at] = b;
                assert_eq!(needs_escape(&text), expected, "byte {b:#x} at {at}");
            }
        }
        let mut out = Vec::new();
        write_padded(&mut out, 7, 3);
        write_padded(&mut out, 12345, 2);
        assert_eq!(out, b"00712345");
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(render(Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(render(Value::Int(i64::MIN)), "-9223372036854775808");
    }

    #[test]
    fn temporal_values() {
        let dt = |micros, fsp| Value::DateTime {
            year: 2024,
            month: 2,
            day: 29,
            hour: 23,
            minute: 59,
            second: 58,
            micros,
            fsp,
        };
        assert_eq!(render(dt(123_000, 3)), "\"2024-02-29 23:59:58.123\"");
        assert_eq!(render(dt(0, 0)), "\"2024-02-29 23:59:58\"");
        assert_eq!(render(dt(5, 6)), "\"2024-02-29 23:59:58.000005\"");
        assert_eq!(
            render(Value::Date {
                year: 0,
                month: 0,
                day: 0
            }),
            "\"0000-00-00\""
        );
        let ts = Value::Timestamp {
            seconds: 2_147_483_647,
            micros: 999_000,
            fsp: 3,
        };
        assert_eq!(render(ts), "\"2038-01-19T03:14:07.999Z\"");
        let zero = Value::Timestamp {
            seconds: 0,
            micros: 0,
            fsp: 0,
        };
        assert_eq!(render(zero), "\"0000-00-00T00:00:00Z\"");
        let t = Value::Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 100,
            fsp: 4,
        };
        assert_eq!(render(t), "\"-838:59:59.0001\"");
    }

    #[test]
    fn strings_binary_json_and_floats() {
        assert_eq!(render(Value::String("a\"b\n☃".into())), r#""a\"b\n☃""#);
        assert_eq!(
            render(Value::Bytes(vec![0, 255, 1])),
            r#"{"base64":"AP8B"}"#
        );
        assert_eq!(
            render(Value::Json(r#"{"a":[1,2]}"#.into())),
            r#"{"a":[1,2]}"#
        );
        assert_eq!(render(Value::Double(0.1)), "0.1");
        assert_eq!(render(Value::Float(1.1)), "1.1");
        assert_eq!(render(Value::Decimal("-0.50".into())), "\"-0.50\"");
    }

    #[test]
    fn whole_event_line() {
        let columns: Arc<[Column]> = vec![
            Column {
                name: "id".into(),
                sql_type: "int".into(),
            },
            Column {
                name: "name".into(),
                sql_type: "varchar(10)".into(),
            },
        ]
        .into();
        let event = ChangeEvent {
            op: Op::Update,
            db: "shop".into(),
            table: "t".into(),
            ts_ms: 1000,
            pos: EventPosition {
                file: "b.000001".into(),
                offset: 42,
                row: 1,
                gtid: None,
            },
            columns,
            before: Some(vec![Value::Int(1), Value::Null]),
            after: Some(vec![Value::Int(1), Value::String("x".into())]),
            sql: None,
        };
        let line = to_line(&event);
        assert_eq!(
            line,
            r#"{"op":"update","db":"shop","table":"t","ts_ms":1000,"pos":{"file":"b.000001","offset":42,"row":1,"gtid":null},"before":{"id":1,"name":null},"after":{"id":1,"name":"x"}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["after"]["name"], "x");
    }

    #[test]
    fn absent_columns_have_no_key() {
        let columns: Arc<[Column]> = ["id", "doc", "n"]
            .into_iter()
            .map(|name| Column {
                name: name.into(),
                sql_type: "int".into(),
            })
            .collect();
        let event = ChangeEvent {
            op: Op::Update,
            db: "shop".into(),
            table: "t".into(),
            ts_ms: 1000,
            pos: EventPosition {
                file: "b.000001".into(),
                offset: 42,
                row: 0,
                gtid: None,
            },
            columns,
            // The first column absent (no leading comma), a middle one absent, all absent.
            before: Some(vec![Value::Int(1), Value::Absent, Value::Null]),
            after: Some(vec![
                Value::Absent,
                Value::Json("[1]".into()),
                Value::Int(2),
            ]),
            sql: None,
        };
        let line = to_line(&event);
        assert!(
            line.ends_with(r#""before":{"id":1,"n":null},"after":{"doc":[1],"n":2}}"#),
            "{line}"
        );
        let all_absent = ChangeEvent {
            after: Some(vec![Value::Absent; 3]),
            ..event
        };
        assert!(to_line(&all_absent).ends_with(r#""after":{}}"#));
        // The reader takes the line back; a key missing from one image reads as null there.
        let back = crate::event::jsonl_read::read_event(&line).unwrap();
        let names: Vec<&str> = back.columns.iter().map(|c| &*c.name).collect();
        assert_eq!(names, ["doc", "n", "id"]);
        assert_eq!(
            back.before.unwrap(),
            [Value::Null, Value::Null, Value::Int(1)]
        );
    }
}
