//! The replication loop: connect, stream the binlog, turn events into batches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::binlog::events::{EventData, RowsEventData};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, OptsBuilder};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::config::{MysqlSourceConfig, StartPosition};
use super::decode::RowReader;
use super::error::{ER_SOURCE_FATAL_ERROR_READING_BINLOG, MysqlError};
use super::mariadb;
use super::schema::TableInfo;
use crate::event::{ChangeEvent, EventPosition, Op};
use crate::position::BinlogPosition;
use crate::retry::Backoff;
use crate::source::{SourceBatch, SourceCheckpoint};

/// Heartbeat period asked of the server, so that an idle stream still proves it is alive.
const HEARTBEAT_PERIOD: Duration = Duration::from_secs(1);
/// With no event (heartbeats included) for this long, the connection is considered dead.
const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
const RECONNECT_INITIAL: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// A MySQL or MariaDB server read as a replica.
#[derive(Debug, Clone)]
pub struct MysqlSource {
    config: MysqlSourceConfig,
}

impl MysqlSource {
    /// A source for the configured server.
    pub fn new(config: MysqlSourceConfig) -> Self {
        Self { config }
    }

    fn addr(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port)
    }

    /// Streams from `resume` (or the configured start) until `shutdown`, reconnecting after
    /// transient errors from the last checkpoint sent. Returns `Ok` on shutdown or when the
    /// receiver is gone.
    pub async fn run(
        self,
        resume: Option<SourceCheckpoint>,
        out: mpsc::Sender<SourceBatch>,
        shutdown: CancellationToken,
    ) -> Result<(), MysqlError> {
        let mut checkpoint = resume;
        let mut backoff = Backoff::new(RECONNECT_INITIAL, RECONNECT_MAX);
        loop {
            let mut session = Session::new(&self, checkpoint.clone());
            let result = session.stream(&out, &shutdown, &mut backoff).await;
            checkpoint = session.checkpoint;
            match result {
                Ok(()) => return Ok(()),
                Err(error) if error.is_retriable() => {
                    let delay = backoff.next_delay();
                    warn!(
                        message = "Binlog stream failed; reconnecting.",
                        %error,
                        attempt = backoff.attempts(),
                        delay_ms = delay.as_millis() as u64
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn connect(&self) -> Result<Conn, MysqlError> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(self.config.host.clone())
            .tcp_port(self.config.port)
            .user(Some(self.config.user.clone()))
            .pass(
                self.config
                    .resolved_password()
                    .map(|p| p.expose().to_owned()),
            )
            .prefer_socket(false);
        let connect = Conn::new(opts);
        match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(source)) => Err(classify(self.addr(), "the connection", source)),
            Err(_) => Err(connection_lost(
                self.addr(),
                std::io::ErrorKind::TimedOut,
                format!("no connection within {:?}", self.config.connect_timeout),
            )),
        }
    }

    /// Resolves `earliest`/`latest` to a concrete file and offset.
    async fn resolve_start(&self, conn: &mut Conn) -> Result<BinlogPosition, MysqlError> {
        let addr = self.addr();
        match &self.config.start {
            StartPosition::At(position) => Ok(position.clone()),
            StartPosition::Earliest => {
                let rows: Vec<mysql_async::Row> = conn
                    .query("SHOW BINARY LOGS")
                    .await
                    .map_err(|e| classify(addr.clone(), "SHOW BINARY LOGS", e))?;
                let file: Option<String> = rows.first().and_then(|r| r.get(0));
                let file = file.ok_or_else(|| MysqlError::NoStartPosition {
                    addr: addr.clone(),
                    message: "SHOW BINARY LOGS lists no file: is log_bin on?".into(),
                })?;
                Ok(BinlogPosition::new(file, 4))
            }
            StartPosition::Latest => {
                let mut row: Option<mysql_async::Row> = None;
                for statement in ["SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"] {
                    match conn.query_first(statement).await {
                        Ok(r) => {
                            row = r;
                            break;
                        }
                        Err(mysql_async::Error::Server(_)) => continue,
                        Err(e) => return Err(classify(addr, statement, e)),
                    }
                }
                let row = row.ok_or_else(|| MysqlError::NoStartPosition {
                    addr: addr.clone(),
                    message: "SHOW MASTER STATUS returned nothing: is log_bin on?".into(),
                })?;
                let file: Option<String> = row.get(0);
                let offset: Option<u64> = row.get(1);
                match (file, offset) {
                    (Some(file), Some(offset)) => Ok(BinlogPosition::new(file, offset)),
                    _ => Err(MysqlError::NoStartPosition {
                        addr,
                        message: "SHOW MASTER STATUS has no file and position".into(),
                    }),
                }
            }
        }
    }
}

/// A transient connection error that the driver did not raise itself (timeouts, end of stream).
fn connection_lost(addr: String, kind: std::io::ErrorKind, message: String) -> MysqlError {
    let io = std::io::Error::new(kind, message);
    MysqlError::Connection {
        addr,
        source: mysql_async::Error::Io(mysql_async::IoError::Io(io)),
    }
}

fn classify(addr: String, what: &str, source: mysql_async::Error) -> MysqlError {
    match source {
        mysql_async::Error::Server(_) => MysqlError::Server {
            addr,
            what: what.to_owned(),
            source,
        },
        _ => MysqlError::Connection { addr, source },
    }
}

/// One connection's worth of streaming state.
struct Session<'a> {
    source: &'a MysqlSource,
    /// Last transaction boundary handed to the channel (or the resolved start).
    checkpoint: Option<SourceCheckpoint>,
    file: Arc<str>,
    gtid: Option<Arc<str>>,
    tables: HashMap<u64, (Vec<u8>, Arc<TableInfo>)>,
    batch: Vec<ChangeEvent>,
    seen_format_description: bool,
    checksums: bool,
}

impl<'a> Session<'a> {
    fn new(source: &'a MysqlSource, checkpoint: Option<SourceCheckpoint>) -> Self {
        Self {
            source,
            checkpoint,
            file: Arc::from(""),
            gtid: None,
            tables: HashMap::new(),
            batch: Vec::new(),
            seen_format_description: false,
            checksums: false,
        }
    }

    async fn stream(
        &mut self,
        out: &mpsc::Sender<SourceBatch>,
        shutdown: &CancellationToken,
        backoff: &mut Backoff,
    ) -> Result<(), MysqlError> {
        let addr = self.source.addr();
        let mut conn = self.source.connect().await?;
        let start = match &self.checkpoint {
            Some(c) => c.binlog.clone(),
            None => {
                let start = self.source.resolve_start(&mut conn).await?;
                self.checkpoint = Some(SourceCheckpoint {
                    binlog: start.clone(),
                    gtid: None,
                });
                start
            }
        };
        let checksum: Option<String> = conn
            .query_first("SELECT @@GLOBAL.binlog_checksum")
            .await
            .map_err(|e| classify(addr.clone(), "SELECT @@binlog_checksum", e))?;
        self.checksums = checksum.is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| classify(addr.clone(), "SELECT VERSION()", e))?;
        let mariadb = version.as_deref().is_some_and(|v| v.contains("MariaDB"));
        if mariadb {
            // Native GTID events instead of dummy QUERY events (binlog-notes.md §2).
            conn.query_drop("SET @mariadb_slave_capability=4")
                .await
                .map_err(|e| classify(addr.clone(), "SET @mariadb_slave_capability", e))?;
        }
        let period = HEARTBEAT_PERIOD.as_nanos() as u64;
        conn.query_drop(format!("SET @master_heartbeat_period={period}"))
            .await
            .map_err(|e| classify(addr.clone(), "SET @master_heartbeat_period", e))?;

        info!(
            message = "Streaming binlog.",
            server = %addr,
            version = version.as_deref().unwrap_or("?"),
            start = %start,
            server_id = self.source.config.server_id
        );
        self.file = start.file.clone();
        let request = BinlogStreamRequest::new(self.source.config.server_id)
            .with_filename(start.file.as_bytes())
            .with_pos(start.offset);
        let mut stream = conn.get_binlog_stream(request).await.map_err(|e| match e {
            mysql_async::Error::Server(ref s) if s.code == ER_SOURCE_FATAL_ERROR_READING_BINLOG => {
                MysqlError::PositionUnavailable {
                    addr: addr.clone(),
                    position: start.clone(),
                    message: s.message.clone(),
                }
            }
            other => classify(addr.clone(), "the binlog dump", other),
        })?;

        loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return Ok(()),
                next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
            };
            let event = match next {
                Err(_) => {
                    return Err(connection_lost(
                        addr,
                        std::io::ErrorKind::TimedOut,
                        format!("no binlog event or heartbeat for {IDLE_TIMEOUT:?}"),
                    ));
                }
                Ok(None) => {
                    return Err(connection_lost(
                        addr,
                        std::io::ErrorKind::UnexpectedEof,
                        "the server ended the binlog stream".into(),
                    ));
                }
                Ok(Some(Err(mysql_async::Error::Server(s))))
                    if s.code == ER_SOURCE_FATAL_ERROR_READING_BINLOG =>
                {
                    return Err(MysqlError::PositionUnavailable {
                        addr,
                        position: self.position(0),
                        message: s.message,
                    });
                }
                Ok(Some(Err(e))) => return Err(classify(addr, "the binlog stream", e)),
                Ok(Some(Ok(event))) => event,
            };
            backoff.reset();
            if let Some(batch) = self.handle(&event)? {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => return Ok(()),
                    sent = out.send(batch) => if sent.is_err() { return Ok(()) },
                }
            }
        }
    }

    fn position(&self, offset: u64) -> BinlogPosition {
        BinlogPosition::new(self.file.clone(), offset)
    }

    /// Handles one event; returns a batch to send when one is complete.
    fn handle(
        &mut self,
        event: &mysql_async::binlog::events::Event,
    ) -> Result<Option<SourceBatch>, MysqlError> {
        let header = event.header();
        let end = u64::from(header.log_pos());
        let start = end.saturating_sub(u64::from(header.event_size()));
        let type_code = header.event_type_raw();
        let data = event.read_data().map_err(|e| MysqlError::Decode {
            what: "event",
            position: self.position(start),
            table: String::new(),
            message: format!("type {type_code}: {e}"),
        })?;
        let Some(data) = data else {
            return self.handle_unparsed(type_code, event.data(), header.server_id(), start);
        };
        match data {
            EventData::FormatDescriptionEvent(_) => self.seen_format_description = true,
            EventData::RotateEvent(rotate) => {
                let mut name = rotate.name_raw().to_vec();
                // The first artificial ROTATE arrives before the FORMAT_DESCRIPTION, so
                // mysql_common leaves its 4-byte checksum on the name (binlog-notes.md §2).
                if !self.seen_format_description && self.checksums && name.len() > 4 {
                    name.truncate(name.len() - 4);
                }
                self.file = Arc::from(String::from_utf8_lossy(&name).as_ref());
                debug!(message = "Rotate.", file = %self.file, position = rotate.position());
            }
            EventData::QueryEvent(query) => {
                let sql = query.query();
                let trimmed = sql.trim();
                if trimmed.eq_ignore_ascii_case("BEGIN") || trimmed.starts_with("# Dummy") {
                    return Ok(None);
                }
                if trimmed.eq_ignore_ascii_case("COMMIT") {
                    return Ok(Some(self.commit(end)));
                }
                // Anything else in a QUERY event under ROW format is DDL (or a statement the
                // server could not log as rows); it commits implicitly.
                self.tables.clear();
                self.batch.push(ChangeEvent {
                    op: Op::Ddl,
                    db: Arc::from(query.schema().as_ref()),
                    table: Arc::from(""),
                    ts_ms: u64::from(header.timestamp()) * 1000,
                    pos: EventPosition {
                        file: self.file.clone(),
                        offset: start,
                        row: 0,
                        gtid: self.gtid.clone(),
                    },
                    columns: Arc::from(Vec::new()),
                    before: None,
                    after: None,
                    sql: Some(trimmed.to_owned()),
                });
                return Ok(Some(self.commit(end)));
            }
            EventData::TableMapEvent(table_map) => {
                let id = table_map.table_id();
                let raw = event.data();
                if self
                    .tables
                    .get(&id)
                    .is_none_or(|(cached, _)| cached.as_slice() != raw)
                {
                    let info =
                        TableInfo::from_table_map(&table_map).map_err(|e| MysqlError::Decode {
                            what: "TABLE_MAP event",
                            position: self.position(start),
                            table: format!(
                                " for {}.{}",
                                table_map.database_name(),
                                table_map.table_name()
                            ),
                            message: e.to_string(),
                        })?;
                    self.tables.insert(id, (raw.to_vec(), Arc::new(info)));
                }
            }
            EventData::RowsEvent(rows) => {
                self.decode_rows(&rows, start, u64::from(header.timestamp()) * 1000)?;
                if self.batch.len() >= self.source.config.max_batch_events.get() {
                    return Ok(Some(SourceBatch {
                        events: std::mem::take(&mut self.batch),
                        checkpoint: None,
                    }));
                }
            }
            EventData::XidEvent(_) => return Ok(Some(self.commit(end))),
            EventData::GtidEvent(gtid) => {
                let text = format!("{}:{}", mariadb::format_uuid(gtid.sid()), gtid.gno());
                self.gtid = Some(Arc::from(text.as_str()));
            }
            _ => {}
        }
        Ok(None)
    }

    fn handle_unparsed(
        &mut self,
        type_code: u8,
        body: &[u8],
        server_id: u32,
        start: u64,
    ) -> Result<Option<SourceBatch>, MysqlError> {
        match type_code {
            mariadb::GTID_EVENT => {
                self.gtid =
                    mariadb::gtid_from_event(body, server_id).map(|g| Arc::from(g.as_str()));
            }
            mariadb::ANNOTATE_ROWS_EVENT
            | mariadb::BINLOG_CHECKPOINT_EVENT
            | mariadb::GTID_LIST_EVENT
            | mariadb::START_ENCRYPTION_EVENT => {}
            code if mariadb::COMPRESSED_EVENTS.contains(&code) => {
                return Err(MysqlError::Unsupported {
                    event_type: code,
                    position: self.position(start),
                    message: "MariaDB compressed events (log_bin_compress=ON) are not decoded \
                              by this wproc yet; skipping them would lose rows"
                        .into(),
                });
            }
            other => debug!(message = "Ignoring unknown event type.", event_type = other),
        }
        Ok(None)
    }

    fn commit(&mut self, end: u64) -> SourceBatch {
        let checkpoint = SourceCheckpoint {
            binlog: self.position(end),
            gtid: self.gtid.as_deref().map(str::to_owned),
        };
        self.checkpoint = Some(checkpoint.clone());
        SourceBatch {
            events: std::mem::take(&mut self.batch),
            checkpoint: Some(checkpoint),
        }
    }

    fn decode_rows(
        &mut self,
        rows: &RowsEventData<'_>,
        start: u64,
        ts_ms: u64,
    ) -> Result<(), MysqlError> {
        let op = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => Op::Insert,
            RowsEventData::UpdateRowsEventV1(_) | RowsEventData::UpdateRowsEvent(_) => Op::Update,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => Op::Delete,
            RowsEventData::PartialUpdateRowsEvent(_) => {
                return Err(MysqlError::Unsupported {
                    event_type: 39,
                    position: self.position(start),
                    message: "partial JSON updates (binlog_row_value_options=PARTIAL_JSON) are \
                              not decoded by this wproc yet"
                        .into(),
                });
            }
        };
        let table_id = rows.table_id();
        let Some((_, table)) = self.tables.get(&table_id) else {
            return Err(MysqlError::Decode {
                what: "rows event",
                position: self.position(start),
                table: String::new(),
                message: format!("no TABLE_MAP seen for table id {table_id}"),
            });
        };
        let table = table.clone();
        let bits = |image: Option<&bitvec::slice::BitSlice<u8>>| -> Vec<bool> {
            image
                .map(|b| b.iter().by_vals().collect())
                .unwrap_or_default()
        };
        let before_present = bits(rows.columns_before_image());
        let after_present = bits(rows.columns_after_image());
        let mut reader = RowReader::new(rows.rows_data());
        let mut row: u32 = 0;
        let event_position = self.position(start);
        let decode_error = |e: super::decode::DecodeError, row: u32| MysqlError::Decode {
            what: "row",
            position: event_position.clone(),
            table: format!(" in {}.{} (row {row})", table.db, table.table),
            message: e.to_string(),
        };
        while !reader.is_empty() {
            let before = match op {
                Op::Update | Op::Delete => Some(
                    reader
                        .read_image(&table, &before_present)
                        .map_err(|e| decode_error(e, row))?,
                ),
                _ => None,
            };
            let after = match op {
                Op::Insert | Op::Update => Some(
                    reader
                        .read_image(&table, &after_present)
                        .map_err(|e| decode_error(e, row))?,
                ),
                _ => None,
            };
            self.batch.push(ChangeEvent {
                op,
                db: table.db.clone(),
                table: table.table.clone(),
                ts_ms,
                pos: EventPosition {
                    file: self.file.clone(),
                    offset: start,
                    row,
                    gtid: self.gtid.clone(),
                },
                columns: table.columns.clone(),
                before,
                after,
                sql: None,
            });
            row += 1;
        }
        Ok(())
    }
}
