//! Source positions: where a change came from in the binlog, and where capture resumes.
//!
//! Two position types live here:
//! - [`BinlogPosition`]: a binlog file name and a byte offset in it. As a *resume point* it always
//!   names the first byte of an event that starts a transaction (the end of the previous
//!   transaction), so a replica can ask the server to stream from it.
//! - [`EventPosition`]: the position of one row change: the binlog position of the rows event
//!   that carried it plus the row's index inside that event. Within one source these are totally
//!   ordered in binlog order, which the local transport uses to drop changes it already holds
//!   when capture replays from its last checkpoint.
//!
//! Binlog file names are ordered by their numeric extension (`mariadb-bin.000010` after
//! `mariadb-bin.000009`), falling back to the byte order of the names.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A byte position in a binlog file. Displayed and parsed as `file:offset`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinlogPosition {
    /// Binlog file name, e.g. `mariadb-bin.000003`.
    pub file: Arc<str>,
    /// Byte offset in the file.
    pub offset: u64,
}

impl BinlogPosition {
    /// A position in `file` at `offset`.
    pub fn new(file: impl Into<Arc<str>>, offset: u64) -> Self {
        Self {
            file: file.into(),
            offset,
        }
    }
}

/// Compares two binlog file names: by numeric extension when both have one, else by bytes.
pub fn compare_binlog_files(a: &str, b: &str) -> Ordering {
    fn split(name: &str) -> Option<(&str, u64)> {
        let (base, ext) = name.rsplit_once('.')?;
        ext.parse::<u64>().ok().map(|n| (base, n))
    }
    match (split(a), split(b)) {
        (Some((base_a, n_a)), Some((base_b, n_b))) if base_a == base_b => n_a.cmp(&n_b),
        _ => a.cmp(b),
    }
}

impl Ord for BinlogPosition {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_binlog_files(&self.file, &other.file).then(self.offset.cmp(&other.offset))
    }
}

impl PartialOrd for BinlogPosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.offset)
    }
}

/// Error for a position string that is not `file:offset`.
#[derive(Debug, thiserror::Error)]
#[error("invalid binlog position {input:?}: expected FILE:OFFSET, e.g. mariadb-bin.000001:4")]
pub struct ParsePositionError {
    input: String,
}

impl FromStr for BinlogPosition {
    type Err = ParsePositionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParsePositionError {
            input: s.to_owned(),
        };
        let (file, offset) = s.rsplit_once(':').ok_or_else(err)?;
        if file.is_empty() {
            return Err(err());
        }
        let offset = offset.parse::<u64>().map_err(|_| err())?;
        Ok(Self::new(file, offset))
    }
}

/// The position of one change event: rows event position plus row index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPosition {
    /// Binlog file of the event.
    pub file: Arc<str>,
    /// Byte offset where the rows (or query) event starts.
    pub offset: u64,
    /// Index of the row inside the rows event (0 for DDL).
    pub row: u32,
    /// GTID of the transaction, when the server has one (`0-101-265` or `uuid:42`).
    pub gtid: Option<Arc<str>>,
}

impl Ord for EventPosition {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_binlog_files(&self.file, &other.file)
            .then(self.offset.cmp(&other.offset))
            .then(self.row.cmp(&other.row))
    }
}

impl PartialOrd for EventPosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for EventPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}#{}", self.file, self.offset, self.row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let p: BinlogPosition = "mariadb-bin.000003:1234".parse().unwrap();
        assert_eq!(p, BinlogPosition::new("mariadb-bin.000003", 1234));
        assert_eq!(p.to_string(), "mariadb-bin.000003:1234");
        assert!("nocolon".parse::<BinlogPosition>().is_err());
        assert!(":4".parse::<BinlogPosition>().is_err());
        assert!("f:x".parse::<BinlogPosition>().is_err());
    }

    #[test]
    fn orders_by_numeric_extension() {
        let a = BinlogPosition::new("bin.000009", 900);
        let b = BinlogPosition::new("bin.000010", 4);
        let c = BinlogPosition::new("bin.1000000", 4);
        assert!(a < b && b < c);
        assert!(BinlogPosition::new("bin.000010", 5) > b);
    }

    #[test]
    fn event_positions_order_by_row_last() {
        let p = |off, row| EventPosition {
            file: "b.000001".into(),
            offset: off,
            row,
            gtid: None,
        };
        assert!(p(10, 5) < p(11, 0));
        assert!(p(10, 1) < p(10, 2));
    }
}
