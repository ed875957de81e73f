//! Typed column values.
//!
//! [`Value`] mirrors the WIT `value` variant and the host's value model one to one, so a
//! value read from the host and written back is unchanged: exact decimals stay text,
//! unsigned integers stay unsigned, and temporal types keep MySQL's zero values (`0000-00-00`)
//! and their fractional-seconds precision (`fsp`).
//!
//! The temporal types print and parse the canonical text of the host's JSON Lines format:
//! `DATE` `YYYY-MM-DD`, `DATETIME` `YYYY-MM-DD HH:MM:SS[.ffffff]`, `TIMESTAMP` RFC 3339 in UTC
//! (`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`) and `TIME` `[-]HHH:MM:SS[.ffffff]`. The number of fraction
//! digits printed is `fsp`; when parsing, `fsp` is the number of fraction digits given.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// One column value. Lossless for every MySQL/MariaDB column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// Signed integer columns, `TINYINT` to `BIGINT`.
    Int(i64),
    /// Unsigned integer columns.
    UInt(u64),
    /// `FLOAT`.
    Float(f32),
    /// `DOUBLE`.
    Double(f64),
    /// `DECIMAL` as exact text, e.g. `-12.3400`.
    Decimal(String),
    /// Text columns, UTF-8.
    String(String),
    /// Binary columns and text that is not UTF-8.
    Bytes(Vec<u8>),
    /// `DATE`.
    Date(Date),
    /// `DATETIME`.
    DateTime(DateTime),
    /// `TIMESTAMP`.
    Timestamp(Timestamp),
    /// `TIME`.
    Time(Time),
    /// `YEAR` (0 is the zero year).
    Year(u16),
    /// `JSON` as JSON text.
    Json(String),
}

impl Value {
    /// True for SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The text of a `String` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as `i64`: `Int`, `UInt` and `Year` when they fit.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(v) => Some(v),
            Value::UInt(v) => i64::try_from(v).ok(),
            Value::Year(v) => Some(i64::from(v)),
            _ => None,
        }
    }

    /// The value as `u64`: `UInt`, `Year` and non-negative `Int`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(v) => Some(v),
            Value::Int(v) => u64::try_from(v).ok(),
            Value::Year(v) => Some(u64::from(v)),
            _ => None,
        }
    }

    /// The value as `f64`: `Float`, `Double`, integers (possibly rounded) and `Decimal`
    /// (rounded to the nearest `f64`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(v) => Some(f64::from(*v)),
            Value::Double(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            Value::UInt(v) => Some(*v as f64),
            Value::Decimal(d) => d.parse().ok(),
            _ => None,
        }
    }

    /// The raw bytes of a `Bytes` value, or the UTF-8 bytes of a `String`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            Value::String(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The name of the variant, for messages: `"null"`, `"int"`, `"uint"`, `"float"`,
    /// `"double"`, `"decimal"`, `"string"`, `"bytes"`, `"date"`, `"datetime"`,
    /// `"timestamp"`, `"time"`, `"year"` or `"json"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "int",
            Value::UInt(_) => "uint",
            Value::Float(_) => "float",
            Value::Double(_) => "double",
            Value::Decimal(_) => "decimal",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Date(_) => "date",
            Value::DateTime(_) => "datetime",
            Value::Timestamp(_) => "timestamp",
            Value::Time(_) => "time",
            Value::Year(_) => "year",
            Value::Json(_) => "json",
        }
    }
}

/// Text form of a value: numbers as usual, `Decimal`, `String` and `Json` as their text,
/// temporal values in their canonical format, `Bytes` as lowercase hex with a `0x` prefix,
/// `Null` as `NULL`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Double(v) => write!(f, "{v}"),
            Value::Decimal(s) | Value::String(s) | Value::Json(s) => f.write_str(s),
            Value::Bytes(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            Value::Date(v) => v.fmt(f),
            Value::DateTime(v) => v.fmt(f),
            Value::Timestamp(v) => v.fmt(f),
            Value::Time(v) => v.fmt(f),
            Value::Year(v) => write!(f, "{v:04}"),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident via $conv:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant($conv(v))
            }
        })*
    };
}

value_from! {
    i64 => Int via std::convert::identity,
    i32 => Int via i64::from,
    i16 => Int via i64::from,
    i8 => Int via i64::from,
    u64 => UInt via std::convert::identity,
    u32 => UInt via u64::from,
    u16 => UInt via u64::from,
    u8 => UInt via u64::from,
    f32 => Float via std::convert::identity,
    f64 => Double via std::convert::identity,
    String => String via std::convert::identity,
    &str => String via str::to_owned,
    Vec<u8> => Bytes via std::convert::identity,
    &[u8] => Bytes via <[u8]>::to_vec,
    Date => Date via std::convert::identity,
    DateTime => DateTime via std::convert::identity,
    Timestamp => Timestamp via std::convert::identity,
    Time => Time via std::convert::identity,
}

impl From<bool> for Value {
    /// `true` is `Int(1)`, `false` is `Int(0)`, as MySQL stores `BOOL`.
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is `Null`.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A MySQL `DATE`; zero dates and zero parts are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date {
    /// 0..=9999.
    pub year: u16,
    /// 0..=12.
    pub month: u8,
    /// 0..=31.
    pub day: u8,
}

/// A MySQL `DATETIME`: wall-clock time without a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime {
    /// 0..=9999.
    pub year: u16,
    /// 0..=12.
    pub month: u8,
    /// 0..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// Microseconds, 0..=999999.
    pub micros: u32,
    /// Fractional-seconds precision, 0..=6.
    pub fsp: u8,
}

/// A MySQL `TIMESTAMP`: an instant in UTC. The zero timestamp is `seconds == 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Microseconds, 0..=999999.
    pub micros: u32,
    /// Fractional-seconds precision, 0..=6.
    pub fsp: u8,
}

/// A MySQL `TIME`: a signed duration up to 838:59:59.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time {
    /// True for negative durations.
    pub negative: bool,
    /// 0..=838.
    pub hours: u32,
    /// 0..=59.
    pub minutes: u8,
    /// 0..=59.
    pub seconds: u8,
    /// Microseconds, 0..=999999.
    pub micros: u32,
    /// Fractional-seconds precision, 0..=6.
    pub fsp: u8,
}

impl Timestamp {
    /// True for MySQL's zero timestamp (`0000-00-00 00:00:00`).
    pub fn is_zero(&self) -> bool {
        self.seconds == 0 && self.micros == 0
    }

    /// The UTC calendar date and time of this instant (`fsp` kept).
    pub fn to_utc(&self) -> DateTime {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year: u16::try_from(year).unwrap_or(if year < 0 { 0 } else { u16::MAX }),
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            micros: self.micros,
            fsp: self.fsp,
        }
    }

    /// The instant of a UTC calendar date and time.
    pub fn from_utc(dt: &DateTime) -> Timestamp {
        let days = days_from_civil(i64::from(dt.year), dt.month, dt.day);
        let seconds = days * 86_400
            + i64::from(dt.hour) * 3600
            + i64::from(dt.minute) * 60
            + i64::from(dt.second);
        Timestamp {
            seconds,
            micros: dt.micros,
            fsp: dt.fsp,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes `.ffffff` truncated to `fsp` digits: nothing when `fsp == 0` and `micros == 0`,
/// all six digits when `fsp == 0` but there are microseconds (as the host does).
fn write_fraction(f: &mut fmt::Formatter<'_>, micros: u32, fsp: u8) -> fmt::Result {
    let digits = match fsp {
        0 if micros != 0 => 6,
        d => usize::from(d.min(6)),
    };
    if digits == 0 {
        return Ok(());
    }
    let all = format!("{micros:06}");
    write!(f, ".{}", &all[..digits])
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        write_fraction(f, self.micros, self.fsp)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC; the zero timestamp prints as `0000-00-00T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0000-00-00T00:00:00Z");
        }
        let dt = self.to_utc();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
        )?;
        write_fraction(f, self.micros, self.fsp)?;
        f.write_str("Z")
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        write!(
            f,
            "{sign}{:02}:{:02}:{:02}",
            self.hours, self.minutes, self.seconds
        )?;
        write_fraction(f, self.micros, self.fsp)
    }
}

/// A tiny cursor over ASCII text for the canonical formats.
struct Scan<'a> {
    s: &'a [u8],
    what: &'static str,
    text: &'a str,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str, what: &'static str) -> Self {
        Scan {
            s: text.as_bytes(),
            what,
            text,
        }
    }

    fn err(&self) -> Error {
        Error::InvalidInput(format!("invalid {} {:?}", self.what, self.text))
    }

    /// Reads between `min` and `max` digits.
    fn digits(&mut self, min: usize, max: usize) -> Result<u64, Error> {
        let n = self
            .s
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n < min {
            return Err(self.err());
        }
        let v = self.s[..n]
            .iter()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
        self.s = &self.s[n..];
        Ok(v)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.first() == Some(&c) {
            self.s = &self.s[1..];
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), Error> {
        if self.eat(c) { Ok(()) } else { Err(self.err()) }
    }

    /// Reads an optional `.f{1,6}` fraction: `(micros, fsp)`.
    fn fraction(&mut self) -> Result<(u32, u8), Error> {
        if !self.eat(b'.') {
            return Ok((0, 0));
        }
        let start = self.s.len();
        let v = self.digits(1, 6)?;
        let fsp = (start - self.s.len()) as u8;
        Ok(((v * 10u64.pow(6 - u32::from(fsp))) as u32, fsp))
    }

    fn small<T: TryFrom<u64>>(&mut self, min: usize, max: usize, limit: u64) -> Result<T, Error> {
        let v = self.digits(min, max)?;
        if v > limit {
            return Err(self.err());
        }
        T::try_from(v).map_err(|_| self.err())
    }

    fn date(&mut self) -> Result<Date, Error> {
        let year = self.small(4, 4, 9999)?;
        self.expect(b'-')?;
        let month = self.small(2, 2, 12)?;
        self.expect(b'-')?;
        let day = self.small(2, 2, 31)?;
        Ok(Date { year, month, day })
    }

    fn hms(&mut self, max_hour_digits: usize, max_hour: u64) -> Result<(u64, u8, u8), Error> {
        let h = self.digits(2, max_hour_digits)?;
        if h > max_hour {
            return Err(self.err());
        }
        self.expect(b':')?;
        let m = self.small(2, 2, 59)?;
        self.expect(b':')?;
        let s = self.small(2, 2, 59)?;
        Ok((h, m, s))
    }

    fn end(&self) -> Result<(), Error> {
        if self.s.is_empty() {
            Ok(())
        } else {
            Err(self.err())
        }
    }
}

impl FromStr for Date {
    type Err = Error;

    /// Parses `YYYY-MM-DD` (zero dates allowed).
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut sc = Scan::new(s, "DATE");
        let d = sc.date()?;
        sc.end()?;
        Ok(d)
    }
}

impl FromStr for DateTime {
    type Err = Error;

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (a `T` is accepted in place of the space).
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut sc = Scan::new(s, "DATETIME");
        let Date { year, month, day } = sc.date()?;
        if !sc.eat(b' ') {
            sc.expect(b'T')?;
        }
        let (h, minute, second) = sc.hms(2, 23)?;
        let (micros, fsp) = sc.fraction()?;
        sc.end()?;
        Ok(DateTime {
            year,
            month,
            day,
            hour: h as u8,
            minute,
            second,
            micros,
            fsp,
        })
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses RFC 3339, `YYYY-MM-DDTHH:MM:SS[.ffffff]` followed by `Z` or `±HH:MM`.
    /// `0000-00-00T00:00:00Z` is the zero timestamp.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut sc = Scan::new(s, "TIMESTAMP");
        let date = sc.date()?;
        if !sc.eat(b'T') && !sc.eat(b't') {
            sc.expect(b' ')?;
        }
        let (h, minute, second) = sc.hms(2, 23)?;
        let (micros, fsp) = sc.fraction()?;
        let offset = if sc.eat(b'Z') || sc.eat(b'z') {
            0
        } else {
            let sign = if sc.eat(b'+') {
                1
            } else {
                sc.expect(b'-')?;
                -1
            };
            let oh: i64 = sc.small(2, 2, 23)?;
            sc.expect(b':')?;
            let om: i64 = sc.small(2, 2, 59)?;
            sign * (oh * 3600 + om * 60)
        };
        sc.end()?;
        if date.month == 0 || date.day == 0 {
            if date == Date::default() && h == 0 && minute == 0 && second == 0 && micros == 0 {
                return Ok(Timestamp {
                    seconds: 0,
                    micros: 0,
                    fsp,
                });
            }
            return Err(sc.err());
        }
        let dt = DateTime {
            year: date.year,
            month: date.month,
            day: date.day,
            hour: h as u8,
            minute,
            second,
            micros,
            fsp,
        };
        let mut ts = Timestamp::from_utc(&dt);
        ts.seconds -= offset;
        Ok(ts)
    }
}

impl FromStr for Time {
    type Err = Error;

    /// Parses `[-]HHH:MM:SS[.ffffff]` (two or three hour digits, up to 838).
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut sc = Scan::new(s, "TIME");
        let negative = sc.eat(b'-');
        let (hours, minutes, seconds) = sc.hms(3, 838)?;
        let (micros, fsp) = sc.fraction()?;
        sc.end()?;
        Ok(Time {
            negative,
            hours: hours as u32,
            minutes,
            seconds,
            micros,
            fsp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_round_trips_including_zero_dates() {
        for s in ["2024-02-29", "0000-00-00", "2024-00-15", "9999-12-31"] {
            assert_eq!(s.parse::<Date>().unwrap().to_string(), s);
        }
        assert!("2024-13-01".parse::<Date>().is_err());
        assert!("2024-1-01".parse::<Date>().is_err());
    }

    #[test]
    fn datetime_keeps_fsp() {
        let dt: DateTime = "2024-05-06 07:08:09.120".parse().unwrap();
        assert_eq!((dt.micros, dt.fsp), (120_000, 3));
        assert_eq!(dt.to_string(), "2024-05-06 07:08:09.120");
        assert_eq!(
            "0000-00-00 00:00:00"
                .parse::<DateTime>()
                .unwrap()
                .to_string(),
            "0000-00-00 00:00:00"
        );
    }

    #[test]
    fn timestamp_rfc3339() {
        let ts: Timestamp = "2024-01-02T03:04:05.123456Z".parse().unwrap();
        assert_eq!(ts.seconds, 1_704_164_645);
        assert_eq!((ts.micros, ts.fsp), (123_456, 6));
        assert_eq!(ts.to_string(), "2024-01-02T03:04:05.123456Z");
        let off: Timestamp = "2024-01-02T05:04:05+02:00".parse().unwrap();
        assert_eq!(off.seconds, ts.seconds);
        let zero: Timestamp = "0000-00-00T00:00:00Z".parse().unwrap();
        assert!(zero.is_zero());
        assert_eq!(zero.to_string(), "0000-00-00T00:00:00Z");
        let no_fsp = Timestamp {
            seconds: 1,
            micros: 5,
            fsp: 0,
        };
        assert_eq!(no_fsp.to_string(), "1970-01-01T00:00:01.000005Z");
        assert_eq!(
            Timestamp {
                seconds: -1,
                micros: 0,
                fsp: 0
            }
            .to_string(),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn time_signed_and_long() {
        let t: Time = "-838:59:59.5".parse().unwrap();
        assert!(t.negative);
        assert_eq!((t.hours, t.micros, t.fsp), (838, 500_000, 1));
        assert_eq!(t.to_string(), "-838:59:59.5");
        assert_eq!("01:02:03".parse::<Time>().unwrap().to_string(), "01:02:03");
        assert!("839:00:00".parse::<Time>().is_err());
    }

    #[test]
    fn civil_conversion_matches_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-800_000, -1, 0, 1, 11_017, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn value_accessors_and_display() {
        assert_eq!(Value::from(5u8), Value::UInt(5));
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(Value::UInt(7).as_i64(), Some(7));
        assert_eq!(Value::Int(-1).as_u64(), None);
        assert_eq!(Value::Bytes(vec![0xab, 1]).to_string(), "0xab01");
        assert_eq!(Value::Decimal("1.50".into()).as_f64(), Some(1.5));
        assert_eq!(Value::Year(0).to_string(), "0000");
        assert_eq!(Value::from("x").kind(), "string");
    }
}
