//! Errors of the MySQL source, classed as transient (reconnect) or definite (stop).

use crate::position::BinlogPosition;

/// `ER_MASTER_FATAL_ERROR_READING_BINLOG`: the requested position is purged or invalid.
/// <https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html#error_er_source_fatal_error_reading_binlog>
pub const ER_SOURCE_FATAL_ERROR_READING_BINLOG: u16 = 1236;

/// Server error codes that a later retry may not get: too many connections, shutdown in
/// progress, lock wait timeout, deadlock.
const TRANSIENT_SERVER_CODES: [u16; 4] = [1040, 1053, 1205, 1213];

/// A failure of the MySQL source.
#[derive(Debug, thiserror::Error)]
pub enum MysqlError {
    /// Connecting or reading failed in a way a reconnect may fix.
    #[error("connection to {addr} failed: {source}")]
    Connection {
        /// host:port
        addr: String,
        /// The driver's error.
        #[source]
        source: mysql_async::Error,
    },
    /// The server refused a statement or the binlog dump.
    #[error("server {addr} refused {what}: {source}")]
    Server {
        /// host:port
        addr: String,
        /// What was asked.
        what: String,
        /// The driver's error, with the server's code and message.
        #[source]
        source: mysql_async::Error,
    },
    /// The position to resume from is no longer on the server.
    #[error(
        "binlog position {position}{gtid} is not available on {addr} ({message}); it was \
         probably purged. wproc does not skip ahead silently: restart from a new position with \
         `start` after deciding how to backfill"
    )]
    PositionUnavailable {
        /// host:port
        addr: String,
        /// The position asked for.
        position: BinlogPosition,
        /// ` (GTID position …)` when the start was asked by GTID, else empty.
        gtid: String,
        /// The server's message.
        message: String,
    },
    /// The binlog has no files, or the start position cannot be resolved.
    #[error("cannot resolve the start position on {addr}: {message}")]
    NoStartPosition {
        /// host:port
        addr: String,
        /// Why.
        message: String,
    },
    /// An event could not be decoded.
    #[error("cannot decode {what} at {position}{table}: {message}")]
    Decode {
        /// Event kind.
        what: &'static str,
        /// Where.
        position: BinlogPosition,
        /// ` in db.table`, or empty.
        table: String,
        /// Why.
        message: String,
    },
    /// The source configuration cannot be used (a filter pattern that does not compile).
    #[error("invalid [source.mysql] configuration: {message}")]
    InvalidConfig {
        /// Why.
        message: String,
    },
    /// The event type cannot be handled and skipping it would lose data.
    #[error("unsupported binlog event type {event_type} at {position}: {message}")]
    Unsupported {
        /// Raw event type code.
        event_type: u8,
        /// Where.
        position: BinlogPosition,
        /// Why it matters.
        message: String,
    },
}

impl MysqlError {
    /// Whether reconnecting and retrying may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            MysqlError::Connection { .. } => true,
            MysqlError::Server { source, .. } => match source {
                mysql_async::Error::Server(e) => TRANSIENT_SERVER_CODES.contains(&e.code),
                _ => true,
            },
            _ => false,
        }
    }
}
