//! Typed column values, exact for every MySQL type that wproc decodes.

use serde::{Deserialize, Serialize};

/// A column value. Temporal types keep their fields as the server stores them, so that zero
/// dates (`0000-00-00`) and out-of-range TIME values survive, and they remember the column's
/// fractional-second precision (`fsp`, 0 to 6) so they print as the server shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer (TINYINT … BIGINT, BIT as well when it fits).
    Int(i64),
    /// An unsigned integer (… UNSIGNED, BIT).
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL as its exact digits, e.g. `-12.50`.
    Decimal(String),
    /// Text decoded from the column's character set.
    String(String),
    /// Binary data (BINARY, VARBINARY, BLOB, GEOMETRY as WKB).
    Bytes(Vec<u8>),
    /// DATE.
    Date {
        /// Year (0 in a zero date).
        year: u16,
        /// Month, 1-12 (0 in a zero date).
        month: u8,
        /// Day, 1-31 (0 in a zero date).
        day: u8,
    },
    /// DATETIME: a calendar date and wall-clock time with no time zone.
    DateTime {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
        /// Hour.
        hour: u8,
        /// Minute.
        minute: u8,
        /// Second.
        second: u8,
        /// Microseconds.
        micros: u32,
        /// Fractional digits of the column.
        fsp: u8,
    },
    /// TIMESTAMP: an instant, seconds since the Unix epoch in UTC (0 is the zero timestamp).
    Timestamp {
        /// Seconds since the epoch.
        seconds: i64,
        /// Microseconds.
        micros: u32,
        /// Fractional digits of the column.
        fsp: u8,
    },
    /// TIME: a signed duration up to 838:59:59.
    Time {
        /// Whether the value is negative.
        negative: bool,
        /// Hours (may exceed 24).
        hours: u32,
        /// Minutes.
        minutes: u8,
        /// Seconds.
        seconds: u8,
        /// Microseconds.
        micros: u32,
        /// Fractional digits of the column.
        fsp: u8,
    },
    /// YEAR (0 stays 0).
    Year(u16),
    /// JSON, as JSON text.
    Json(String),
    /// The column is not in this row image (`binlog_row_image=MINIMAL` or `NOBLOB`): an update
    /// whose before and after images log different columns carries the union of both, and
    /// each image holds `Absent` for the columns it did not log. Not SQL NULL: the value is
    /// unknown, not empty. Kept last so that the serialized form of the other variants (their
    /// index) never changes.
    Absent,
}

impl Value {
    /// Whether this is SQL NULL.
    pub const fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether the column is absent from the row image (see [`Value::Absent`]).
    pub const fn is_absent(&self) -> bool {
        matches!(self, Value::Absent)
    }

    /// A SQL type name for the value's kind, for columns whose binlog type is unknown (made by
    /// a transform, or read from JSON Lines without types).
    pub const fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "bigint",
            Value::UInt(_) => "bigint unsigned",
            Value::Float(_) => "float",
            Value::Double(_) => "double",
            Value::Decimal(_) => "decimal",
            Value::String(_) => "text",
            Value::Bytes(_) => "blob",
            Value::Date { .. } => "date",
            Value::DateTime { .. } => "datetime",
            Value::Timestamp { .. } => "timestamp",
            Value::Time { .. } => "time",
            Value::Year(_) => "year",
            Value::Json(_) => "json",
            Value::Absent => "absent",
        }
    }
}
