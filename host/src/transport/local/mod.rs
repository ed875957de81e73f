//! The embedded transport: a durable, sharded, segmented log on local disk.
//!
//! **Layout.** `DIR/meta.json` fixes the shard count at creation. Each shard is a directory
//! `DIR/shard-NNNN/` of segment files named by the shard offset of their first byte
//! (`00000000000000000000.seg`). A segment is a sequence of records:
//! `len: u32 LE | crc32(payload): u32 LE | payload`, where the payload is a format byte (1)
//! followed by the postcard encoding of the record's events. Shard offsets are byte offsets in
//! the concatenation of a shard's segments, so a cursor seeks in O(1).
//!
//! **Durability.** An append writes every shard's records, then fsyncs each touched segment
//! (and the directory when a segment was created). Only then is it acknowledged: the in-process
//! readers see the new end offset, and capture may write its checkpoint `DIR/capture.json`. A
//! crash can leave a torn record at the tail of a shard; opening the log truncates it.
//!
//! **Exactly once.** Capture resumes from `capture.json`, which only names transaction
//! boundaries that every shard holds durably. Events between that checkpoint and the crash may
//! already be in some shards: the appender drops every event whose position is not after the
//! last event position its shard holds, so a replay repeats nothing.
//!
//! **Consumers.** A consumer group's checkpoint for a shard is the offset of the next record to
//! process, in `DIR/groups/GROUP/shard-NNNN.offset`, written atomically after the sink made the
//! records before it durable. Segments wholly below every group's checkpoint are deleted
//! (except the newest), unless `retain_consumed = true`.

mod config;
mod error;
mod log;
mod segment;

pub use config::LocalLogConfig;
pub use error::LocalLogError;
pub use log::{Appender, LocalLog, Record, ShardReader};

#[cfg(test)]
mod tests;
