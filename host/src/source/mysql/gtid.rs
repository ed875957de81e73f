//! GTID positions of both flavors, kept up to date transaction by transaction.
//!
//! - **MySQL** (5.6+): a GTID is `uuid:gno` (8.4+: `uuid:tag:gno`), and a position is the *set*
//!   of all transactions executed, `uuid:1-100:105,uuid2:1-7`. Resuming sends that set with
//!   COM_BINLOG_DUMP_GTID and the server streams every transaction not in it.
//! - **MariaDB** (10.0+): a GTID is `domain-server-seq`, and a position is the last GTID of each
//!   replication domain, `0-101-265,1-102-7`. Resuming sets `@slave_connect_state` to it.
//!
//! [`GtidState`] holds either form and prints the canonical text that the checkpoint stores and
//! `start = "gtid:..."` accepts. A MySQL set is only complete when capture started from a GTID
//! set (or from the start of the server's history): started from `FILE:OFFSET`, it holds just the
//! transactions seen, which is why GTID resume is used only when the start was a GTID position.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A GTID position of either flavor (or empty: no GTID seen yet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GtidState {
    /// MySQL: source (`uuid` or `uuid:tag`, lower case) to sorted, disjoint, inclusive ranges.
    mysql: BTreeMap<String, Vec<(u64, u64)>>,
    /// MariaDB: domain id to (server id, sequence number) of its last transaction.
    mariadb: BTreeMap<u32, (u32, u64)>,
}

/// A GTID text that is neither a MySQL GTID set nor a MariaDB GTID position.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid GTID position {input:?}: expected a MySQL GTID set (`uuid:1-100,uuid2:5`) or a \
     MariaDB GTID position (`0-101-265,1-102-7`): {reason}"
)]
pub struct ParseGtidError {
    input: String,
    reason: String,
}

impl GtidState {
    /// Whether no GTID is known.
    pub fn is_empty(&self) -> bool {
        self.mysql.is_empty() && self.mariadb.is_empty()
    }

    /// Whether this is a MariaDB position.
    pub fn is_mariadb(&self) -> bool {
        !self.mariadb.is_empty()
    }

    /// Records a MySQL transaction `source:gno` (`source` = `uuid` or `uuid:tag`).
    pub fn add_mysql(&mut self, source: &str, gno: u64) {
        let ranges = self.mysql.entry(source.to_ascii_lowercase()).or_default();
        let at = ranges.partition_point(|&(_, end)| end.saturating_add(1) < gno);
        match ranges.get_mut(at) {
            Some((start, end)) if *start <= gno.saturating_add(1) => {
                *start = (*start).min(gno);
                *end = (*end).max(gno);
                // Join with the next range when they now touch.
                if let Some(&(next_start, next_end)) = ranges.get(at + 1)
                    && next_start <= ranges[at].1.saturating_add(1)
                {
                    ranges[at].1 = ranges[at].1.max(next_end);
                    ranges.remove(at + 1);
                }
            }
            _ => ranges.insert(at, (gno, gno)),
        }
    }

    /// Records the MySQL transactions `source:start-end` (inclusive).
    pub fn add_mysql_range(&mut self, source: &str, start: u64, end: u64) {
        let ranges = self.mysql.entry(source.to_ascii_lowercase()).or_default();
        ranges.push((start, end));
        normalize(ranges);
    }

    /// Records a MariaDB transaction `domain-server-seq`.
    pub fn add_mariadb(&mut self, domain: u32, server: u32, seq: u64) {
        self.mariadb.insert(domain, (server, seq));
    }

    /// The MySQL set as one `uuid[:tag]:ranges` text per source, for COM_BINLOG_DUMP_GTID.
    pub fn mysql_sources(&self) -> Vec<String> {
        self.mysql
            .iter()
            .map(|(source, ranges)| {
                let mut text = source.clone();
                for (start, end) in ranges {
                    if start == end {
                        text.push_str(&format!(":{start}"));
                    } else {
                        text.push_str(&format!(":{start}-{end}"));
                    }
                }
                text
            })
            .collect()
    }
}

impl fmt::Display for GtidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_mariadb() {
            let parts: Vec<String> = self
                .mariadb
                .iter()
                .map(|(domain, (server, seq))| format!("{domain}-{server}-{seq}"))
                .collect();
            return f.write_str(&parts.join(","));
        }
        f.write_str(&self.mysql_sources().join(","))
    }
}

impl FromStr for GtidState {
    type Err = ParseGtidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| ParseGtidError {
            input: s.to_owned(),
            reason,
        };
        let mut state = GtidState::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.contains(':') {
                let mut fields = part.split(':');
                let uuid = fields.next().unwrap_or_default();
                if uuid.len() != 36 || !uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                    return Err(err(format!("`{uuid}` is not a server UUID")));
                }
                let mut source = uuid.to_ascii_lowercase();
                for field in fields {
                    if field.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                        source = format!("{}:{}", uuid.to_ascii_lowercase(), field);
                        continue;
                    }
                    let (start, end) = match field.split_once('-') {
                        Some((a, b)) => (a.parse::<u64>(), b.parse::<u64>()),
                        None => (field.parse::<u64>(), field.parse::<u64>()),
                    };
                    let (Ok(start), Ok(end)) = (start, end) else {
                        return Err(err(format!("`{field}` is not a transaction range")));
                    };
                    if start == 0 || start > end {
                        return Err(err(format!("`{field}` is an empty or zero range")));
                    }
                    let ranges = state.mysql.entry(source.clone()).or_default();
                    ranges.push((start, end));
                }
            } else {
                let numbers: Vec<&str> = part.split('-').collect();
                let [domain, server, seq] = numbers.as_slice() else {
                    return Err(err(format!("`{part}` is not domain-server-sequence")));
                };
                let (Ok(domain), Ok(server), Ok(seq)) = (
                    domain.parse::<u32>(),
                    server.parse::<u32>(),
                    seq.parse::<u64>(),
                ) else {
                    return Err(err(format!("`{part}` is not domain-server-sequence")));
                };
                if state.mariadb.insert(domain, (server, seq)).is_some() {
                    return Err(err(format!("domain {domain} appears twice")));
                }
            }
        }
        if !state.mysql.is_empty() && !state.mariadb.is_empty() {
            return Err(err("mixes MySQL and MariaDB GTIDs".into()));
        }
        for ranges in state.mysql.values_mut() {
            normalize(ranges);
        }
        Ok(state)
    }
}

/// Sorts and merges touching or overlapping ranges.
fn normalize(ranges: &mut Vec<(u64, u64)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    *ranges = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn mysql_sets_parse_merge_and_print() {
        let mut s: GtidState = format!("{U}:1-5:7, {U}:6").parse().unwrap();
        assert_eq!(s.to_string(), format!("{U}:1-7"));
        s.add_mysql(U, 9);
        s.add_mysql(U, 8);
        assert_eq!(s.to_string(), format!("{U}:1-9"));
        s.add_mysql(U, 20);
        s.add_mysql("4E11FA47-71CA-11E1-9E33-C80AA9429562", 1);
        assert_eq!(
            s.to_string(),
            format!("{U}:1-9:20,4e11fa47-71ca-11e1-9e33-c80aa9429562:1")
        );
        let tagged: GtidState = format!("{U}:tag_a:1-3").parse().unwrap();
        assert_eq!(tagged.to_string(), format!("{U}:tag_a:1-3"));
        assert!(!s.is_mariadb());
    }

    #[test]
    fn mariadb_positions_parse_update_and_print() {
        let mut s: GtidState = "1-102-7,0-101-265".parse().unwrap();
        assert_eq!(s.to_string(), "0-101-265,1-102-7");
        s.add_mariadb(0, 101, 266);
        assert_eq!(s.to_string(), "0-101-266,1-102-7");
        assert!(s.is_mariadb());
        assert!("".parse::<GtidState>().unwrap().is_empty());
    }

    #[test]
    fn mysql_sources_are_what_com_binlog_dump_gtid_takes() {
        use std::str::FromStr;
        let s: GtidState = format!("{U}:1-5:7,{U}:tag_a:1").parse().unwrap();
        for text in s.mysql_sources() {
            let sid = mysql_common::packets::Sid::from_str(&text).unwrap();
            assert!(!sid.intervals().is_empty(), "{text}");
        }
        let sid = mysql_common::packets::Sid::from_str(&s.mysql_sources()[0]).unwrap();
        let intervals: Vec<(u64, u64)> = sid
            .intervals()
            .iter()
            .map(|i| (i.start(), i.end()))
            .collect();
        assert_eq!(intervals, [(1, 6), (7, 8)], "end is exclusive on the wire");
    }

    #[test]
    fn bad_texts_are_rejected() {
        for bad in [
            "0-101",
            "x-1-2",
            "abc:1-5",
            &format!("{U}:5-1"),
            &format!("{U}:1,0-1-2"),
            "0-1-2,0-1-3",
        ] {
            assert!(bad.parse::<GtidState>().is_err(), "{bad}");
        }
    }
}
