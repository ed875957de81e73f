//! The MySQL / MariaDB source: reads the binlog as a replica and decodes row events.
//!
//! **Algorithm.** Connect with `mysql_async`, resolve the start position (the checkpoint, or
//! `earliest`/`latest`/`FILE:OFFSET`/`gtid:SET` from the config), read the schema
//! (`tracker.rs`), register as a replica with the configured `server_id` and stream events. The
//! loop is one `match` on the event type (`decoder.rs`): ROTATE sets the current file, TABLE_MAP
//! refreshes the cached [`schema`] plan for its table id, rows events (plain, MariaDB-compressed
//! 166-171, MySQL partial-JSON 39, inside MySQL TRANSACTION_PAYLOAD 40) become
//! insert/update/delete [`ChangeEvent`](crate::event::ChangeEvent)s, QUERY events (and MariaDB's
//! QUERY_COMPRESSED 165) other than `BEGIN`/`COMMIT` become `ddl` events naming the table they
//! change (`ddl.rs`) and reload it in the schema tracker, and XID or `COMMIT` ends a transaction.
//!
//! **Invariants.** The checkpoint attached to a batch only ever names a transaction boundary
//! (the end of an XID, `COMMIT`, DDL or TRANSACTION_PAYLOAD event), so resuming from it never
//! splits a transaction. It holds both the file position and the GTID position after that
//! transaction (`gtid.rs`: a MySQL GTID set or MariaDB `domain-server-seq` list). Capture started
//! with `start = "gtid:..."` resumes by GTID (MySQL COM_BINLOG_DUMP_GTID; MariaDB
//! `@slave_connect_state` with `@mariadb_slave_capability=4`), otherwise by file and offset.
//! Events are sent in binlog order; a transaction larger than `max_batch_events` is sent in
//! several batches, only the last of which carries the checkpoint. Event positions
//! (file, offset, row) are unique and increasing; rows inside a compressed transaction share the
//! payload's offset and count rows across it. Filtered events (`filter.rs`) are dropped before
//! batching, yet the empty batch of a filtered transaction still carries its checkpoint.
//!
//! **Values.** Every type is decoded by hand (`decode/`), exact: integers of every width with
//! their signedness, DECIMAL as its digits, text from the column's charset, BINARY(n) padded to
//! n bytes, temporal types with their fractional digits and zero dates, YEAR 0 as 0, ENUM and
//! SET as labels, BIT as an unsigned number, MySQL binary JSON and MariaDB JSON (known from the
//! schema tracker) as JSON values. GEOMETRY is emitted as bytes in MySQL's internal format: a
//! 4-byte little-endian SRID followed by the WKB (what `HEX(col)` shows), so it needs no
//! conversion to be exact. MySQL 9 VECTOR is its bytes (little-endian f32s).
//!
//! **Row images.** With `binlog_row_image=MINIMAL` or `NOBLOB`, an image logs only some
//! columns. An event's `columns` are the columns its images log: those of the one image for an
//! insert or delete, the union of both for an update, in table order; an image holds
//! [`Value::Absent`](crate::event::Value::Absent) for a column it does not log (never for one
//! it does, so an update whose images log the same columns has no absent values). MySQL
//! partial JSON updates (PARTIAL_UPDATE_ROWS 39) are applied to the before image's document
//! when it has the column (FULL); when it does not (MINIMAL), the after value is the equivalent
//! MySQL expression (`JSON_REPLACE(@2, '$.age', 26)`, the form `mysqlbinlog -v` prints) as a
//! JSON string (`json_diff.rs`).
//!
//! **Errors.** Network failures and a closed stream are transient: the source reconnects with
//! backoff from the last checkpoint it sent. A purged or invalid position (server error 1236),
//! failed authentication, rows that cannot be mapped to columns, and undecodable rows are
//! definite: the source stops with an error that names the position and table.
//!
//! **Server requirements** (`wproc check` verifies them, `preflight.rs`): `log_bin=ON`,
//! `binlog_format=ROW`, `binlog_row_image=FULL`, preferably `binlog_row_metadata=FULL` (MySQL
//! 8.0.1+, MariaDB 10.5+). Privileges: `REPLICATION SLAVE`, `REPLICATION CLIENT` (MariaDB:
//! `BINLOG MONITOR`), `SELECT` (the schema tracker reads `information_schema`).
//!
//! **Lag.** [`MysqlSource::lag`] exposes a [`ReplicationLag`] gauge: the last event timestamp and
//! the lag in seconds (0 after a heartbeat), for the metrics code.
//!
//! **Offline.** [`dump_file`] (`wproc binlog dump`) and [`decode_bytes`] (for fuzzing) run the
//! same decoder over binlog files, without a schema tracker.

mod config;
mod ddl;
mod decode;
mod decoder;
mod error;
pub mod file;
mod filter;
mod gtid;
mod json_diff;
mod lag;
mod mariadb;
pub mod preflight;
mod replication;
mod schema;
mod tracker;

pub use config::{MysqlSourceConfig, StartPosition};
pub use error::MysqlError;
pub use file::{DumpStats, decode_bytes, dump_file};
pub use filter::{ExcludeColumns, FilterConfig};
pub use gtid::{GtidState, ParseGtidError};
pub use lag::ReplicationLag;
pub use replication::MysqlSource;
