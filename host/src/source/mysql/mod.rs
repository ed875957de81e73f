//! The MySQL / MariaDB source: reads the binlog as a replica and decodes row events.
//!
//! **Algorithm.** Connect with `mysql_async`, resolve the start position (the checkpoint, or
//! `earliest`/`latest`/`FILE:OFFSET` from the config), register as a replica with the configured
//! `server_id` and stream events. The loop is one `match` on the event type: ROTATE sets the
//! current file, TABLE_MAP refreshes the cached [`schema::TableInfo`] for its table id, rows
//! events become insert/update/delete [`ChangeEvent`](crate::event::ChangeEvent)s, QUERY events
//! other than `BEGIN`/`COMMIT` become `ddl` events, and XID or `COMMIT` ends a transaction.
//!
//! **Invariants.** The checkpoint attached to a batch only ever names a transaction boundary
//! (the end of an XID, `COMMIT` or DDL event), so resuming from it never splits a transaction.
//! Events are sent in binlog order; a transaction larger than `max_batch_events` is sent in
//! several batches, only the last of which carries the checkpoint.
//!
//! **Errors.** Network failures and a closed stream are transient: the source reconnects with
//! backoff from the last checkpoint it sent. A purged or invalid position (server error 1236),
//! failed authentication, and undecodable rows are definite: the source stops with an error that
//! names the position and table.
//!
//! **Server requirements.** `log_bin=ON`, `binlog_format=ROW`, `binlog_row_image=FULL`, and
//! for column names and unsigned integers `binlog_row_metadata=FULL` (MySQL 8.0.1+, MariaDB
//! 10.5+). Privileges: `REPLICATION SLAVE`, `REPLICATION CLIENT` (MariaDB: `BINLOG MONITOR`).
//! With MariaDB the source sets `@mariadb_slave_capability=4` so that GTID events arrive natively.

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
