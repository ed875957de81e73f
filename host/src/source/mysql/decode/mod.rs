//! Row-image decoding: binlog bytes to typed [`Value`]s, driven by a [`TableInfo`] plan.
//!
//! Written by hand rather than through `mysql_common`'s `BinlogRow`, for two reasons found in
//! `shared/docs/binlog-notes.md`: that path rebuilds the column metadata for every row (5-6x
//! slower), and it decodes signed MEDIUMINT without sign extension and YEAR 0 as 1900.
//! `mysql_common` still does the parts that are easy to get wrong: DECIMAL (`Decimal::read_bin`)
//! and MySQL binary JSON (`jsonb`).
//!
//! Every read is bounds-checked: a short or malformed image is an error naming the column, never
//! a panic.

use mysql_common::binlog::decimal::decimal_bin_size;

use super::schema::{ColumnKind, ColumnPlan, TableInfo, TextEncoding};

/// `binlog_row_value_options` bit: JSON columns may be logged as diffs.
const PARTIAL_JSON_UPDATES: u64 = 1;
use crate::event::Value;

/// Why a row image could not be decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("row image ends inside column `{column}`")]
    Truncated { column: String },
    #[error("column `{column}`: {message}")]
    Invalid { column: String, message: String },
}

/// A cursor over the rows data of one rows event.
pub(crate) struct RowReader<'a> {
    buf: &'a [u8],
}

impl<'a> RowReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Decodes one row image whose present columns are `present` (one flag per column; an
    /// empty or short list counts the missing flags as present); the values of every column,
    /// excluded ones included (see [`TableInfo::keep`]), with [`Value::Absent`] for the columns
    /// the image does not log (`binlog_row_image=MINIMAL`/`NOBLOB`).
    pub fn read_image(
        &mut self,
        table: &TableInfo,
        present: &[bool],
    ) -> Result<Vec<Value>, DecodeError> {
        self.read_image_with(table, present, |reader, _, plan| reader.read_value(plan))
    }

    fn read_image_with(
        &mut self,
        table: &TableInfo,
        present: &[bool],
        mut read: impl FnMut(&mut Self, usize, &ColumnPlan) -> Result<Value, ValueError>,
    ) -> Result<Vec<Value>, DecodeError> {
        let name = |i: usize| {
            table
                .all_columns
                .get(i)
                .map_or_else(String::new, |c| c.name.to_string())
        };
        let count = table.plans.len();
        let is_present = |i: usize| present.get(i).copied().unwrap_or(true);
        // The NULL bitmap has one bit per column the image logs.
        let logged = (0..count).filter(|i| is_present(*i)).count();
        let nulls = self
            .take(logged.div_ceil(8))
            .ok_or_else(|| DecodeError::Truncated { column: name(0) })?;
        let mut values = Vec::with_capacity(count);
        let mut bit = 0;
        for (i, plan) in table.plans.iter().enumerate() {
            if !is_present(i) {
                values.push(Value::Absent);
                continue;
            }
            let null = nulls[bit / 8] >> (bit % 8) & 1 == 1;
            bit += 1;
            if null {
                values.push(Value::Null);
                continue;
            }
            let value = read(self, i, plan).map_err(|e| match e {
                ValueError::Truncated => DecodeError::Truncated { column: name(i) },
                ValueError::Invalid(message) => DecodeError::Invalid {
                    column: name(i),
                    message,
                },
            })?;
            values.push(value);
        }
        Ok(values)
    }

    /// Decodes the after image of a PARTIAL_UPDATE_ROWS row: the shared image (value options
    /// and, with PARTIAL_JSON_UPDATES, one bit per JSON column of the table), then an image in
    /// which partial JSON columns hold diffs. They are applied to the same column of `before`;
    /// when `before` does not log the column (`binlog_row_image=MINIMAL`), the value is the
    /// equivalent MySQL expression as a JSON string (see [`json_diff::expression`]).
    ///
    /// [`json_diff::expression`]: super::json_diff::expression
    pub fn read_partial_after(
        &mut self,
        table: &TableInfo,
        present: &[bool],
        before: &[Value],
    ) -> Result<Vec<Value>, DecodeError> {
        let column = |i: usize| {
            table
                .all_columns
                .get(i)
                .map_or_else(String::new, |c| c.name.to_string())
        };
        let options = self
            .take_lenenc()
            .map_err(|_| DecodeError::Truncated { column: column(0) })?;
        let json_columns = table
            .plans
            .iter()
            .filter(|p| matches!(p.kind, ColumnKind::Json { .. }))
            .count();
        let partial_bits = if options & PARTIAL_JSON_UPDATES != 0 {
            self.take(json_columns.div_ceil(8))
                .ok_or_else(|| DecodeError::Truncated { column: column(0) })?
        } else {
            &[]
        };
        let mut partial = vec![false; table.plans.len()];
        let mut json_index = 0;
        for (i, plan) in table.plans.iter().enumerate() {
            if matches!(plan.kind, ColumnKind::Json { .. }) {
                partial[i] = partial_bits
                    .get(json_index / 8)
                    .is_some_and(|b| b >> (json_index % 8) & 1 == 1);
                json_index += 1;
            }
        }
        self.read_image_with(table, present, |reader, i, plan| {
            let ColumnKind::Json { length_bytes } = plan.kind else {
                return reader.read_value(plan);
            };
            if !partial[i] {
                return reader.read_value(plan);
            }
            let diffs = reader.take_prefixed(length_bytes)?;
            let base = match before.get(i) {
                Some(Value::Json(text)) => text.as_str(),
                Some(Value::Null) => "null",
                Some(Value::Absent) | None => {
                    return super::json_diff::expression(i + 1, diffs)
                        .map(|sql| Value::Json(serde_json::Value::String(sql).to_string()))
                        .map_err(ValueError::Invalid);
                }
                Some(_) => return Err(ValueError::Invalid("before image is not JSON".into())),
            };
            super::json_diff::apply_diffs(base, diffs)
                .map(Value::Json)
                .map_err(ValueError::Invalid)
        })
    }

    fn take_lenenc(&mut self) -> Result<u64, ValueError> {
        match self.take_le(1)? {
            0xfc => self.take_le(2),
            0xfd => self.take_le(3),
            0xfe => self.take_le(8),
            b => Ok(b),
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    fn take_le(&mut self, n: usize) -> Result<u64, ValueError> {
        let bytes = self.take(n).ok_or(ValueError::Truncated)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    }

    fn take_be(&mut self, n: usize) -> Result<u64, ValueError> {
        let bytes = self.take(n).ok_or(ValueError::Truncated)?;
        Ok(bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    }

    fn take_prefixed(&mut self, length_bytes: u8) -> Result<&'a [u8], ValueError> {
        if !(1..=4).contains(&length_bytes) {
            return Err(ValueError::Invalid(format!(
                "bad length size {length_bytes}"
            )));
        }
        let len = self.take_le(usize::from(length_bytes))? as usize;
        self.take(len).ok_or(ValueError::Truncated)
    }

    /// Reads `fsp` fractional-second digits stored big-endian in (fsp+1)/2 bytes.
    fn take_fraction(&mut self, fsp: u8) -> Result<u32, ValueError> {
        Ok(match fsp {
            0 => 0,
            1 | 2 => self.take_be(1)? as u32 * 10_000,
            3 | 4 => self.take_be(2)? as u32 * 100,
            5 | 6 => self.take_be(3)? as u32,
            other => return Err(ValueError::Invalid(format!("fractional precision {other}"))),
        })
    }

    fn read_value(&mut self, plan: &ColumnPlan) -> Result<Value, ValueError> {
        let int = |raw: u64, bits: u32, unsigned: bool| {
            if unsigned {
                Value::UInt(raw)
            } else {
                let shift = 64 - bits;
                Value::Int(((raw << shift) as i64) >> shift)
            }
        };
        Ok(match &plan.kind {
            ColumnKind::Tiny => int(self.take_le(1)?, 8, plan.unsigned),
            ColumnKind::Short => int(self.take_le(2)?, 16, plan.unsigned),
            ColumnKind::Int24 => int(self.take_le(3)?, 24, plan.unsigned),
            ColumnKind::Long => int(self.take_le(4)?, 32, plan.unsigned),
            ColumnKind::LongLong => int(self.take_le(8)?, 64, plan.unsigned),
            ColumnKind::Float => Value::Float(f32::from_bits(self.take_le(4)? as u32)),
            ColumnKind::Double => Value::Double(f64::from_bits(self.take_le(8)?)),
            ColumnKind::NewDecimal { precision, scale } => {
                let (p, s) = (usize::from(*precision), usize::from(*scale));
                if s > p || p > 65 {
                    return Err(ValueError::Invalid(format!("DECIMAL({p},{s})")));
                }
                let bytes = self
                    .take(decimal_bin_size(p, s))
                    .ok_or(ValueError::Truncated)?;
                Value::Decimal(decimal_text(bytes, p, s))
            }
            ColumnKind::Text {
                length_bytes,
                encoding,
            } => {
                let bytes = self.take_prefixed(*length_bytes)?;
                decode_text(bytes, encoding)
            }
            ColumnKind::FixedBinary {
                length_bytes,
                width,
            } => {
                let bytes = self.take_prefixed(*length_bytes)?;
                let mut value = Vec::with_capacity(usize::from(*width).max(bytes.len()));
                value.extend_from_slice(bytes);
                value.resize(usize::from(*width).max(bytes.len()), 0);
                Value::Bytes(value)
            }
            ColumnKind::Blob {
                length_bytes,
                encoding,
            } => {
                let bytes = self.take_prefixed(*length_bytes)?;
                decode_text(bytes, encoding)
            }
            ColumnKind::Geometry { length_bytes } | ColumnKind::Vector { length_bytes } => {
                Value::Bytes(self.take_prefixed(*length_bytes)?.to_vec())
            }
            ColumnKind::Json { length_bytes } => {
                let bytes = self.take_prefixed(*length_bytes)?;
                Value::Json(decode_mysql_json(bytes)?)
            }
            ColumnKind::JsonText { length_bytes } => {
                let bytes = self.take_prefixed(*length_bytes)?;
                // json_valid() guarantees JSON; checked anyway so the output stays valid JSON.
                match std::str::from_utf8(bytes) {
                    Ok(text) if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() => {
                        Value::Json(text.to_owned())
                    }
                    _ => decode_text(bytes, &TextEncoding::Utf8),
                }
            }
            ColumnKind::Bit { bytes } => Value::UInt(self.take_be(usize::from(*bytes).min(8))?),
            ColumnKind::Enum { bytes, labels } => {
                let index = self.take_le(usize::from(*bytes))? as usize;
                match index {
                    // Index 0 is the empty string MySQL stores for an invalid ENUM value.
                    0 => Value::String(String::new()),
                    i => Value::String(labels.get(i - 1).cloned().ok_or_else(|| {
                        ValueError::Invalid(format!(
                            "ENUM index {i} but the table map lists {} labels \
                             (binlog_row_metadata=FULL gives the labels)",
                            labels.len()
                        ))
                    })?),
                }
            }
            ColumnKind::Set { bytes, labels } => {
                let mask = self.take_le(usize::from(*bytes))?;
                let mut members = Vec::new();
                for bit in 0..64 {
                    if mask >> bit & 1 == 1 {
                        members.push(labels.get(bit).map(String::as_str).ok_or_else(|| {
                            ValueError::Invalid(format!(
                                "SET bit {bit} but the table map lists {} labels",
                                labels.len()
                            ))
                        })?);
                    }
                }
                Value::String(members.join(","))
            }
            ColumnKind::Year => match self.take_le(1)? {
                0 => Value::Year(0),
                y => Value::Year(1900 + y as u16),
            },
            ColumnKind::Date => {
                let raw = self.take_le(3)?;
                Value::Date {
                    year: (raw >> 9) as u16,
                    month: (raw >> 5 & 0xF) as u8,
                    day: (raw & 0x1F) as u8,
                }
            }
            ColumnKind::Time => {
                let raw = self.take_le(3)?;
                let signed = ((raw << 40) as i64) >> 40;
                let (negative, v) = (signed < 0, signed.unsigned_abs());
                Value::Time {
                    negative,
                    hours: (v / 10_000) as u32,
                    minutes: (v / 100 % 100) as u8,
                    seconds: (v % 100) as u8,
                    micros: 0,
                    fsp: 0,
                }
            }
            ColumnKind::Time2 { fsp } => self.read_time2(*fsp)?,
            ColumnKind::DateTime => {
                let raw = self.take_le(8)?;
                let (date, time) = (raw / 1_000_000, raw % 1_000_000);
                Value::DateTime {
                    year: (date / 10_000) as u16,
                    month: (date / 100 % 100) as u8,
                    day: (date % 100) as u8,
                    hour: (time / 10_000) as u8,
                    minute: (time / 100 % 100) as u8,
                    second: (time % 100) as u8,
                    micros: 0,
                    fsp: 0,
                }
            }
            ColumnKind::DateTime2 { fsp } => {
                // 1 sign bit, 17 bits year*13+month, 5 day, 5 hour, 6 minute, 6 second.
                let packed = self.take_be(5)? as i64 - 0x80_0000_0000;
                let micros = self.take_fraction(*fsp)?;
                let v = packed.unsigned_abs();
                let year_month = v >> 22 & 0x1_FFFF;
                Value::DateTime {
                    year: (year_month / 13) as u16,
                    month: (year_month % 13) as u8,
                    day: (v >> 17 & 0x1F) as u8,
                    hour: (v >> 12 & 0x1F) as u8,
                    minute: (v >> 6 & 0x3F) as u8,
                    second: (v & 0x3F) as u8,
                    micros,
                    fsp: *fsp,
                }
            }
            ColumnKind::Timestamp => Value::Timestamp {
                seconds: self.take_le(4)? as i64,
                micros: 0,
                fsp: 0,
            },
            ColumnKind::Timestamp2 { fsp } => {
                let seconds = self.take_be(4)? as i64;
                let micros = self.take_fraction(*fsp)?;
                Value::Timestamp {
                    seconds,
                    micros,
                    fsp: *fsp,
                }
            }
            ColumnKind::Unsupported { type_code } => {
                return Err(ValueError::Invalid(format!(
                    "column type {type_code} is not supported by this wproc"
                )));
            }
        })
    }

    /// TIME2: 3 bytes of `1 sign, 1 unused, 10 hour, 6 minute, 6 second` offset by 0x800000,
    /// then the fraction; negative values borrow from the integer part (MySQL's
    /// `my_time_packed_from_binary`).
    fn read_time2(&mut self, fsp: u8) -> Result<Value, ValueError> {
        let packed: i64 = match fsp {
            0 => (self.take_be(3)? as i64 - 0x80_0000) << 24,
            1 | 2 => {
                let mut int = self.take_be(3)? as i64 - 0x80_0000;
                let mut frac = self.take_be(1)? as i64;
                if int < 0 && frac != 0 {
                    int += 1;
                    frac -= 0x100;
                }
                (int << 24) + frac * 10_000
            }
            3 | 4 => {
                let mut int = self.take_be(3)? as i64 - 0x80_0000;
                let mut frac = self.take_be(2)? as i64;
                if int < 0 && frac != 0 {
                    int += 1;
                    frac -= 0x1_0000;
                }
                (int << 24) + frac * 100
            }
            5 | 6 => self.take_be(6)? as i64 - 0x8000_0000_0000,
            other => return Err(ValueError::Invalid(format!("fractional precision {other}"))),
        };
        let negative = packed < 0;
        let v = packed.unsigned_abs();
        let hms = v >> 24;
        Ok(Value::Time {
            negative,
            hours: (hms >> 12 & 0x3FF) as u32,
            minutes: (hms >> 6 & 0x3F) as u8,
            seconds: (hms & 0x3F) as u8,
            micros: (v & 0xFF_FFFF) as u32,
            fsp,
        })
    }
}

enum ValueError {
    Truncated,
    Invalid(String),
}

fn decode_text(bytes: &[u8], encoding: &TextEncoding) -> Value {
    match encoding {
        TextEncoding::Utf8 | TextEncoding::Unspecified => match std::str::from_utf8(bytes) {
            Ok(s) => Value::String(s.to_owned()),
            // Not valid UTF-8 (no charset metadata, or bad data): keep the bytes exactly.
            Err(_) => Value::Bytes(bytes.to_vec()),
        },
        TextEncoding::Binary | TextEncoding::Unknown => Value::Bytes(bytes.to_vec()),
        TextEncoding::Other(encoding) => {
            match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(text) => Value::String(text.into_owned()),
                None => Value::Bytes(bytes.to_vec()),
            }
        }
    }
}

/// Bytes of a partial group of `n` decimal digits (MySQL's `dig2bytes`).
const DIGIT_BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// DECIMAL(p,s) in MySQL's binary form to its exact text (`-12.50`), written here rather than
/// through `mysql_common`'s `Decimal` to skip its intermediate digit vector (a profile hot spot).
/// Layout: integer digits then fraction digits, in big-endian groups of 9 digits per 4 bytes
/// (the leading integer group and trailing fraction group shorter); the first bit is the sign
/// (set for positive); a negative value has every bit inverted. `bytes` has exactly
/// `decimal_bin_size(p, s)` bytes.
fn decimal_text(bytes: &[u8], precision: usize, scale: usize) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 == 0);
    let mask = if negative { 0xFF } else { 0 };
    let mut at = 0;
    let mut group = |len: usize| -> u32 {
        let mut v: u32 = 0;
        for i in 0..len {
            let mut b = bytes.get(at + i).copied().unwrap_or(0) ^ mask;
            if at + i == 0 {
                b ^= 0x80;
            }
            v = v << 8 | u32::from(b);
        }
        at += len;
        v
    };
    let integer = precision - scale;
    let mut out = String::with_capacity(precision + 3);
    if negative {
        out.push('-');
    }
    let mut digits = String::with_capacity(integer + 9);
    let lead = integer % 9;
    if lead > 0 {
        digits.push_str(itoa::Buffer::new().format(group(DIGIT_BYTES[lead])));
    }
    for _ in 0..integer / 9 {
        let v = group(4);
        if digits.is_empty() {
            digits.push_str(itoa::Buffer::new().format(v));
        } else {
            push_padded(&mut digits, v, 9);
        }
    }
    let trimmed = digits.trim_start_matches('0');
    out.push_str(if trimmed.is_empty() { "0" } else { trimmed });
    if scale > 0 {
        out.push('.');
        for _ in 0..scale / 9 {
            let v = group(4);
            push_padded(&mut out, v, 9);
        }
        let tail = scale % 9;
        if tail > 0 {
            let v = group(DIGIT_BYTES[tail]);
            push_padded(&mut out, v, tail);
        }
    }
    out
}

fn push_padded(out: &mut String, v: u32, width: usize) {
    let mut buf = itoa::Buffer::new();
    let text = buf.format(v);
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(text);
}

fn decode_mysql_json(bytes: &[u8]) -> Result<String, ValueError> {
    if bytes.is_empty() {
        // MySQL writes an empty JSON document for a JSON NULL literal in some versions.
        return Ok("null".into());
    }
    super::json_diff::binary_json(bytes)
        .map(|json| json.to_string())
        .map_err(ValueError::Invalid)
}

#[cfg(test)]
mod tests;
