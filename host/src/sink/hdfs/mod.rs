//! The HDFS sink: JSON Lines files in HDFS through the `hdfs-native` client (pure Rust, Hadoop
//! RPC and data-transfer protocols; no JVM, no libhdfs), committed exactly once.
//!
//! **Layout.** A batch of shard `S` covering transport offsets `[A, B)` becomes one file per
//! partition directory `{dir}/{path}` (default `/mysqlbinlog/{db}/{table}/dt={date}/`; see
//! [`PathTemplate`](crate::sink::PathTemplate)), named
//! `part-SSSS-AAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBB.jsonl[.gz|.zst]`
//! ([`batch_file`](crate::sink::batch_file), shared with the files sink).
//!
//! **Rolls.** A file is a batch's share of one partition, so files roll with the batch: after
//! `max_events` events, `max_bytes` input bytes or `max_wait` (default 10 s). Every roll makes
//! one file per partition touched and a NameNode object per file and block; at 10 s a
//! continuously written partition gets at most 8,640 files a day, which keeps the NameNode's
//! heap in check while rows land within seconds. Lower it for latency, raise it (or compact)
//! for fewer files.
//!
//! **Commit protocol.** For each partition of the batch (at most `max_open_files` at once over
//! all shards): create `.part-…tmp` in the final directory (Hive and Spark skip names starting
//! with `.`), write, `hsync` (the DataNodes fsync the block), `close` (the NameNode completes
//! the file and drops the lease). Only when every temporary is closed, rename each to its final
//! name (`rename2`, atomic on the NameNode); only then does [`HdfsSink::write_batch`] return and
//! the pipeline commit `B`.
//!
//! **Invariants.**
//! 1. A final file exists only for a batch whose temporaries were all closed, complete and
//!    durable: renames start after the last close returned. Within a process, a batch whose
//!    renames started is never written again, a retry only finishes the renames. A new process
//!    never writes it again either: recovery reports its `B`, and processing resumes there.
//! 2. So, after a crash, a temporary whose batch has a final file anywhere is complete and can
//!    be renamed (this never renames a file still open under a dead writer's lease, whose tail
//!    could be lost); a temporary whose batch has no final file belongs to a batch that was not
//!    committed, and is deleted (deleting works whatever lease it holds). Its range is read again
//!    from the transport, which keeps every uncommitted range.
//! 3. A retry of a batch before its renames replaces leftover temporaries (delete, create);
//!    output bytes are deterministic (same events, same gzip header), so a rename that
//!    overwrites a final written by a lost-answer attempt changes nothing.
//!
//! **Recovery** ([`HdfsSink::recover`]) applies 2 to the shards asked for only (other workers
//! may write other shards of the tree at the same time), and returns the highest `B` per shard.
//! It lists `dir` recursively, so its cost grows with the number of files kept there.
//!
//! **Outages.** Every HDFS call runs under `op_timeout`; a refused connection, a lost
//! DataNode, a NameNode in safe mode or a hung call is transient
//! ([`HdfsSinkError::is_retriable`]); the batch handler retries the same batch with backoff.
//! Meanwhile the shard processor does not read further (it awaits the write), so the pipeline
//! pauses with at most one batch per shard in memory, and the capture half stops at the
//! transport's bounds. Once a shard's writes have failed for `give_up_after` (default 10 min),
//! the error becomes [`HdfsSinkError::GaveUp`], which is definite and stops the run with a clear
//! message; nothing was committed past the last durable batch, so a restart resumes there.
//!
//! **Authentication.** Simple (the `user`), or Kerberos through `libgssapi_krb5` loaded at run
//! time when the Hadoop configuration asks for it; HA nameservices and viewfs mount tables come
//! from `core-site.xml`/`hdfs-site.xml` (`config_dir` or `$HADOOP_CONF_DIR`).

mod config;
mod error;
mod sink;

pub use config::HdfsSinkConfig;
pub use error::HdfsSinkError;
pub use sink::HdfsSink;

#[cfg(test)]
mod tests;
