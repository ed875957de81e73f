//! What every file-writing sink shares: the names of a batch's files, their compression, and
//! the encoding of a batch into one JSON Lines body per partition directory.
//!
//! **Names.** A batch of shard `S` covering transport offsets `[A, B)` becomes, in each of its
//! partition directories, `part-SSSS-AAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBB.jsonl` (plus
//! `.gz` or `.zst`), written first as `.part-….jsonl[.gz|.zst].tmp`. Hive and Spark skip names
//! that start with `.` or `_`, so a temporary is never read as data. Parsing accepts every
//! compression suffix, so recovery works after the configured compression changed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use serde::Deserialize;

use crate::event::jsonl;
use crate::sink::{OutputBatch, PathTemplate};

const FINAL_PREFIX: &str = "part-";
const TEMP_PREFIX: &str = ".part-";
const TEMP_SUFFIX: &str = ".tmp";
const GZIP_LEVEL: u32 = 6;
const ZSTD_LEVEL: i32 = 3;

/// How a file's body is compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain JSON Lines, `.jsonl`.
    #[default]
    None,
    /// gzip (level 6), `.jsonl.gz`: read by Hive, Spark and `hdfs dfs -text`.
    Gzip,
    /// Zstandard (level 3), `.jsonl.zst`: smaller and faster; needs Hadoop 3 or Spark's own codec.
    Zstd,
}

const ALL_COMPRESSIONS: [Compression; 3] =
    [Compression::None, Compression::Gzip, Compression::Zstd];

impl Compression {
    /// The file name suffix, with the leading dot.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => ".jsonl",
            Compression::Gzip => ".jsonl.gz",
            Compression::Zstd => ".jsonl.zst",
        }
    }

    /// Compresses a JSON Lines body (a no-op for `None`). Deterministic: the same body always
    /// gives the same bytes (the gzip header carries no time), so a rewritten batch is identical.
    pub fn compress(self, body: Vec<u8>) -> std::io::Result<Vec<u8>> {
        match self {
            Compression::None => Ok(body),
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4),
                    flate2::Compression::new(GZIP_LEVEL),
                );
                enc.write_all(&body)?;
                enc.finish()
            }
            Compression::Zstd => zstd::bulk::compress(&body, ZSTD_LEVEL),
        }
    }
}

/// Identifies a batch: shard and offset range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchId {
    /// Transport shard.
    pub shard: usize,
    /// First offset (inclusive).
    pub start: u64,
    /// End offset (exclusive).
    pub end: u64,
}

/// A file name of a batch, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFileName {
    /// The batch.
    pub id: BatchId,
    /// Whether it is a temporary (`.part-….tmp`).
    pub temporary: bool,
    /// The compression its suffix names.
    pub compression: Compression,
}

impl BatchId {
    /// The batch of `batch`.
    pub fn of(batch: &OutputBatch) -> Self {
        Self {
            shard: batch.shard,
            start: batch.start,
            end: batch.end,
        }
    }

    fn stem(&self) -> String {
        format!(
            "{FINAL_PREFIX}{:04}-{:020}-{:020}",
            self.shard, self.start, self.end
        )
    }

    /// `part-S-A-B.jsonl[.gz|.zst]`.
    pub fn final_name(&self, compression: Compression) -> String {
        format!("{}{}", self.stem(), compression.suffix())
    }

    /// `.part-S-A-B.jsonl[.gz|.zst].tmp`.
    pub fn temp_name(&self, compression: Compression) -> String {
        format!(".{}{}{TEMP_SUFFIX}", self.stem(), compression.suffix())
    }
}

impl BatchFileName {
    /// Parses a final or temporary batch file name; `None` for any other file.
    pub fn parse(name: &str) -> Option<Self> {
        let (rest, temporary) = match name.strip_prefix(TEMP_PREFIX) {
            Some(r) => (r.strip_suffix(TEMP_SUFFIX)?, true),
            None => (name.strip_prefix(FINAL_PREFIX)?, false),
        };
        let dot = rest.find('.')?;
        let (body, suffix) = rest.split_at(dot);
        let compression = ALL_COMPRESSIONS
            .into_iter()
            .find(|c| c.suffix() == suffix)?;
        let mut it = body.split('-');
        let shard = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        let end = it.next()?.parse().ok()?;
        it.next().is_none().then_some(Self {
            id: BatchId { shard, start, end },
            temporary,
            compression,
        })
    }

    /// The final name of the same batch and compression.
    pub fn final_name(&self) -> String {
        self.id.final_name(self.compression)
    }
}

/// Encodes the events of `batch` as JSON Lines, one body per partition directory (relative to
/// the sink's root), compressed; in directory order.
pub fn encode_partitions(
    template: &PathTemplate,
    batch: &OutputBatch,
    compression: Compression,
) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut partitions: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    // Consecutive events mostly share their partition: render the template only on a change.
    let mut last: Option<(&str, &str, u64, Option<&str>, PathBuf)> = None;
    for (i, event) in batch.events.iter().enumerate() {
        let hour = event.ts_ms / 3_600_000;
        let route = batch.route(i);
        let dir = match &last {
            Some((db, table, h, r, dir))
                if *db == &*event.db && *table == &*event.table && *h == hour && *r == route =>
            {
                dir.clone()
            }
            _ => {
                let dir = template.render(event, route);
                last = Some((&event.db, &event.table, hour, route, dir.clone()));
                dir
            }
        };
        let body = partitions.entry(dir).or_default();
        let before = body.len();
        jsonl::write_event(body, event);
        if before == 0 {
            // Reserve for the rest of the batch at this event's size, once: growing by
            // doubling would copy the body and touch fresh pages again at every step (pages
            // reserved but never written cost nothing).
            let each = body.len() + body.len() / 8;
            body.reserve(each.saturating_mul(batch.events.len() - i));
        }
    }
    partitions
        .into_iter()
        .map(|(dir, body)| Ok((dir, compression.compress(body)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_compression() {
        let id = BatchId {
            shard: 3,
            start: 10,
            end: 250,
        };
        for c in ALL_COMPRESSIONS {
            let f = BatchFileName::parse(&id.final_name(c)).unwrap();
            assert_eq!((f.id, f.temporary, f.compression), (id, false, c));
            let t = BatchFileName::parse(&id.temp_name(c)).unwrap();
            assert_eq!((t.id, t.temporary, t.compression), (id, true, c));
            assert_eq!(t.final_name(), id.final_name(c));
        }
        assert_eq!(
            id.final_name(Compression::Gzip),
            "part-0003-00000000000000000010-00000000000000000250.jsonl.gz"
        );
        for other in [
            "part-1-2.jsonl",
            "part-1-2-3.json",
            ".part-1-2-3.jsonl",
            "part-1-2-3-4.jsonl",
            "_SUCCESS",
            "part-1-2-3.jsonl.tmp",
        ] {
            assert_eq!(BatchFileName::parse(other), None, "{other}");
        }
    }

    #[test]
    fn compression_round_trips_and_is_deterministic() {
        let body = b"{\"a\":1}\n{\"a\":2}\n".repeat(100);
        let gz = Compression::Gzip.compress(body.clone()).unwrap();
        assert_eq!(gz, Compression::Gzip.compress(body.clone()).unwrap());
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        assert_eq!(plain, body);
        let zst = Compression::Zstd.compress(body.clone()).unwrap();
        assert_eq!(zstd::decode_all(&zst[..]).unwrap(), body);
    }
}
