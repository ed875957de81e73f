//! The replication loop: connect, stream the binlog, turn events into batches.

use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn, OptsBuilder};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use std::str::FromStr;
use std::sync::Arc;

use mysql_common::packets::Sid;

use super::config::{MysqlSourceConfig, StartPosition};
use super::decoder::EventDecoder;
use super::error::{ER_SOURCE_FATAL_ERROR_READING_BINLOG, MysqlError};
use super::filter::Filter;
use super::gtid::GtidState;
use super::lag::ReplicationLag;
use super::tracker::{Refresh, SchemaTracker};
use crate::position::BinlogPosition;
use crate::retry::Backoff;
use crate::source::{SourceBatch, SourceCheckpoint};
use crate::telemetry::health::{self, Part};
use crate::telemetry::metrics::{self, Component, ErrorClass};

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
    filter: Result<Arc<Filter>, String>,
    lag: Arc<ReplicationLag>,
}

impl MysqlSource {
    /// A source for the configured server.
    pub fn new(config: MysqlSourceConfig) -> Self {
        let filter = Filter::compile(&config.filter)
            .map(Arc::new)
            .map_err(|e| format!("{}: {}", e.field, e.message));
        Self {
            config,
            filter,
            lag: Arc::default(),
        }
    }

    /// The replication lag gauge, updated as events are read (for metrics).
    pub fn lag(&self) -> Arc<ReplicationLag> {
        self.lag.clone()
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
        let filter = self
            .filter
            .clone()
            .map_err(|message| MysqlError::InvalidConfig { message })?;
        let mut checkpoint = resume;
        let mut backoff = Backoff::new(RECONNECT_INITIAL, RECONNECT_MAX);
        loop {
            let mut session = Session::new(&self, checkpoint.clone(), filter.clone());
            let result = session.stream(&out, &shutdown, &mut backoff).await;
            checkpoint = session.decoder.checkpoint;
            match result {
                Ok(()) => return Ok(()),
                Err(error) if error.is_retriable() => {
                    health::set(Part::Source, false);
                    metrics::error(Component::Mysql, ErrorClass::Transient);
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

    pub(crate) async fn connect(&self) -> Result<Conn, MysqlError> {
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
            StartPosition::Gtid(_) => Ok(BinlogPosition::new("", 4)),
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
    decoder: EventDecoder,
}

/// How the binlog dump is asked for.
enum DumpFrom {
    File(BinlogPosition),
    MariadbGtid(GtidState),
    MysqlGtid(GtidState),
}

impl<'a> Session<'a> {
    fn new(
        source: &'a MysqlSource,
        checkpoint: Option<SourceCheckpoint>,
        filter: Arc<Filter>,
    ) -> Self {
        let mut decoder =
            EventDecoder::new(checkpoint, source.config.max_batch_events.get(), filter);
        decoder.lag = Some(source.lag.clone());
        Self { source, decoder }
    }

    /// Decides where this session starts, and with which GTID position.
    async fn start_point(
        &mut self,
        conn: &mut Conn,
        mariadb: bool,
    ) -> Result<DumpFrom, MysqlError> {
        let addr = self.source.addr();
        let by_gtid = matches!(self.source.config.start, StartPosition::Gtid(_));
        let (position, gtid) = match &self.decoder.checkpoint {
            Some(checkpoint) => {
                let gtid = match &checkpoint.gtid {
                    Some(text) => {
                        GtidState::from_str(text).map_err(|e| MysqlError::NoStartPosition {
                            addr: addr.clone(),
                            message: format!("the checkpoint's GTID position: {e}"),
                        })?
                    }
                    None => GtidState::default(),
                };
                (checkpoint.binlog.clone(), gtid)
            }
            None => {
                let position = self.source.resolve_start(conn).await?;
                let gtid = match &self.source.config.start {
                    StartPosition::Gtid(state) => state.clone(),
                    _ if mariadb => {
                        // The GTID position matching the file position, so that the
                        // checkpoint holds both from the first transaction on.
                        let sql = "SELECT BINLOG_GTID_POS(?, ?)";
                        let pos: Option<Option<String>> = conn
                            .exec_first(sql, (position.file.as_ref(), position.offset))
                            .await
                            .map_err(|e| classify(addr.clone(), "BINLOG_GTID_POS()", e))?;
                        pos.flatten()
                            .and_then(|p| GtidState::from_str(&p).ok())
                            .unwrap_or_default()
                    }
                    _ => GtidState::default(),
                };
                (position, gtid)
            }
        };
        self.decoder.gtid_state = gtid.clone();
        self.decoder.checkpoint = Some(SourceCheckpoint {
            binlog: position.clone(),
            gtid: (!gtid.is_empty()).then(|| gtid.to_string()),
        });
        Ok(match (by_gtid, mariadb) {
            (true, true) => DumpFrom::MariadbGtid(gtid),
            (true, false) => DumpFrom::MysqlGtid(gtid),
            (false, _) => DumpFrom::File(position),
        })
    }

    async fn stream(
        &mut self,
        out: &mpsc::Sender<SourceBatch>,
        shutdown: &CancellationToken,
        backoff: &mut Backoff,
    ) -> Result<(), MysqlError> {
        let addr = self.source.addr();
        let mut conn = self.source.connect().await?;
        let checksum: Option<String> = conn
            .query_first("SELECT @@GLOBAL.binlog_checksum")
            .await
            .map_err(|e| classify(addr.clone(), "SELECT @@binlog_checksum", e))?;
        self.decoder.checksums = checksum.is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| classify(addr.clone(), "SELECT VERSION()", e))?;
        let mariadb = version.as_deref().is_some_and(|v| v.contains("MariaDB"));
        let from = self.start_point(&mut conn, mariadb).await?;

        // The schema tracker reads information_schema on its own connection, now and after
        // each DDL (tracker.rs).
        let mut schema_conn = self.source.connect().await?;
        let mut tracker = SchemaTracker::default();
        tracker
            .load(&mut schema_conn, &Refresh::All)
            .await
            .map_err(|e| classify(addr.clone(), "reading information_schema.COLUMNS", e))?;
        self.decoder.schema = Some(tracker);

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

        let (start, gtid_text) = match &from {
            DumpFrom::File(position) => (position.clone(), String::new()),
            DumpFrom::MariadbGtid(state) | DumpFrom::MysqlGtid(state) => (
                BinlogPosition::new("", 4),
                format!(" (GTID position {state:?})", state = state.to_string()),
            ),
        };
        info!(
            message = "Streaming binlog.",
            server = %addr,
            version = version.as_deref().unwrap_or("?"),
            start = %start,
            gtid = %gtid_text,
            server_id = self.source.config.server_id
        );
        health::set(Part::Source, true);
        self.decoder.file = start.file.clone();
        let sids: Vec<Sid<'static>> = match &from {
            DumpFrom::MysqlGtid(state) => state
                .mysql_sources()
                .iter()
                .map(|text| Sid::from_str(text))
                .collect::<Result<_, _>>()
                .map_err(|e| MysqlError::NoStartPosition {
                    addr: addr.clone(),
                    message: format!("GTID set {state}: {e}"),
                })?,
            _ => Vec::new(),
        };
        if let DumpFrom::MariadbGtid(state) = &from {
            conn.exec_drop(
                "SET @slave_connect_state = ?, @slave_gtid_strict_mode = 0, \
                 @slave_gtid_ignore_duplicates = 0",
                (state.to_string(),),
            )
            .await
            .map_err(|e| classify(addr.clone(), "SET @slave_connect_state", e))?;
        }
        // A report host makes the replica visible in SHOW SLAVE HOSTS (MariaDB lists only
        // replicas that report one), so `wproc check` can see server_id clashes.
        let mut request =
            BinlogStreamRequest::new(self.source.config.server_id).with_hostname(b"wproc");
        match &from {
            DumpFrom::File(position) => {
                request = request
                    .with_filename(position.file.as_bytes())
                    .with_pos(position.offset);
            }
            DumpFrom::MysqlGtid(_) => request = request.with_gtid().with_gtid_set(sids),
            DumpFrom::MariadbGtid(_) => {}
        }
        let unavailable = |message: String| MysqlError::PositionUnavailable {
            addr: addr.clone(),
            position: start.clone(),
            gtid: gtid_text.clone(),
            message,
        };
        let mut stream = conn.get_binlog_stream(request).await.map_err(|e| match e {
            mysql_async::Error::Server(ref s) if s.code == ER_SOURCE_FATAL_ERROR_READING_BINLOG => {
                unavailable(s.message.clone())
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
                    return Err(unavailable(s.message));
                }
                Ok(Some(Err(e))) => return Err(classify(addr, "the binlog stream", e)),
                Ok(Some(Ok(event))) => event,
            };
            backoff.reset();
            let batch = self.decoder.handle(&event)?;
            let refresh = self.decoder.take_refresh();
            if !refresh.is_empty()
                && let Some(tracker) = self.decoder.schema.as_mut()
            {
                let refresh = if refresh.contains(&Refresh::All) {
                    vec![Refresh::All]
                } else {
                    refresh
                };
                for what in &refresh {
                    tracker
                        .load(&mut schema_conn, what)
                        .await
                        .map_err(|e| classify(addr.clone(), "reloading the schema after DDL", e))?;
                }
            }
            if let Some(batch) = batch {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => return Ok(()),
                    sent = out.send(batch) => if sent.is_err() { return Ok(()) },
                }
            }
        }
    }
}
