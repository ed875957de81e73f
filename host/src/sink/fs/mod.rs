//! The local-files sink: JSON Lines files in a directory tree, committed exactly once.
//!
//! **Files.** A batch of shard `S` covering transport offsets `[A, B)` becomes one file per
//! partition directory (see [`PathTemplate`](crate::sink::PathTemplate)), named
//! `part-SSSS-AAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBB.jsonl` (`.jsonl.gz`, `.jsonl.zst` when
//! compressed); names, compression and encoding are shared with the HDFS sink
//! ([`batch_file`](crate::sink::batch_file)). Files roll with the batch: by events, bytes or
//! age (`max_events`, `max_bytes`, `max_wait`).
//!
//! **Commit protocol.** Every file of the batch is written as `.part-….jsonl.tmp` and fsynced;
//! then all are renamed to their final names and their directories fsynced; only then does
//! [`FilesSink::write_batch`] return and the pipeline commit `B`. Renames start only after every
//! temporary is durable, so after a crash a batch is either wholly temporary (removed on
//! recovery and processed again) or partly renamed (its remaining temporaries are renamed).
//! A retried write whose batch already has a final file only finishes the renames: it never
//! rewrites a temporary of a batch that recovery would complete.
//!
//! **Recovery.** [`FilesSink::recover`] does the above and returns, per shard, the highest `B`
//! among final files; processing resumes from the larger of that and the transport checkpoint,
//! so a batch renamed before the checkpoint was committed is not written twice.

mod config;
mod error;
mod sink;

pub use config::FilesSinkConfig;
pub use error::FilesSinkError;
pub use sink::FilesSink;

#[cfg(test)]
mod tests;
