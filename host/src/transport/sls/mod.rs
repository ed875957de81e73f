//! The SLS transport: `wproc capture` writes change events into an Alibaba Cloud Log Service
//! logstore, and `wproc run` workers of one consumer group read them into the sink.
//!
//! **Format.** One SLS log per row change, compatible with ilogtail `service_canal`, plus a
//! `_wproc_` key that restores the typed event exactly ([`wire`], `docs/sls-wire-format.md`).
//! Logs written by the real service_canal are read too, with string values.
//!
//! **Routing and order.** A table's changes always go to the shard whose hash range holds
//! `md5(db.table)` (PutLogs `shards/route?key=`), so a table keeps its order. The producer
//! groups a capture batch per shard into LogGroups (at most `max_group_logs` logs and
//! `max_group_bytes` raw bytes, within the service's 4096 logs / 5 MB) and sends each shard's
//! groups one at a time, in binlog order; shards are written in parallel.
//!
//! **Invariant (monotone shards).** In every shard, the largest event position of each
//! LogGroup wproc wrote is at least that of every group before it. In-order sends give it; a
//! PutLogs that the client retried after it had in fact landed repeats the same group (same
//! largest position); and after a restart the producer first reads each shard's high-water
//! mark (the largest position in its last wproc group, [`highwater`]) and drops replayed
//! events at or before it. Both halves depend on this.
//!
//! **Capture checkpoint.** SLS has no place for the binlog checkpoint, so it lives in the local
//! `state_dir/capture.json` (atomic write, locked by `state_dir/capture.lock`). It is written
//! only after every PutLogs of every event before it succeeded. After a crash, capture resumes
//! from it and the source replays the events between the checkpoint and the crash; the producer
//! drops those its shards already hold, so SLS normally holds every change once. Only PutLogs
//! retries (a request that landed but whose answer was lost) put a group twice: delivery into
//! SLS is at-least-once.
//!
//! **Consumer and exactly-once files.** `wproc run` joins the consumer group ([`consumer`]); the
//! service assigns shards. A shard worker resumes at the larger of the group checkpoint (or
//! `start` when there is none) and the highest range end the sink holds for the shard (a crash
//! between the sink's rename and the commit), reads the high-water mark before that point, and
//! then drops every typed event whose position is at or before the largest one already seen:
//! duplicates from PutLogs retries never reach the sink. Batches are ranges of cursor sequence
//! numbers `[cursor_to_seq(cursor), cursor_to_seq(next_cursor))`; the sink names files after
//! them, and the checkpoint moves to the batch's next cursor (UpdateCheckpoint, forced) only
//! after `BatchHandler::handle` made the batch durable. A shard the service takes away is
//! flushed and committed before it is released. So every change lands in the files exactly
//! once, whichever worker reads it. Logs without the typed key (service_canal's) have no exact
//! position and are not de-duplicated: they land as often as the logstore holds them.
//!
//! Cursor arithmetic: the high-water mark reads the group at `seq - 1`, as real SLS cursors are
//! base64 of a sequence number that grows by one per LogGroup (the local server's are too).

pub mod config;
pub mod consumer;
pub mod error;
mod highwater;
pub mod producer;
pub mod wire;

pub use config::{SlsConsumerConfig, SlsTransportConfig, StartFrom};
pub use consumer::{ConsumerLag, consumer_lag};
pub use error::SlsTransportError;
pub use producer::SlsProducer;

#[cfg(test)]
mod tests;
