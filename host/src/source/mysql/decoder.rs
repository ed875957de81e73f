//! Binlog events to change events: the state machine shared by the replication stream and the
//! offline file reader.
//!
//! It tracks the current binlog file, the transaction's GTID and the GTID position, the table
//! maps, decodes rows events through [`TableInfo`] plans, applies the filter, and returns a
//! [`SourceBatch`] at every transaction boundary (XID, `COMMIT`, DDL) with the checkpoint just
//! after it, or earlier, without a checkpoint, when a transaction exceeds `max_batch_events`.
//!
//! **Positions of compressed transactions.** The events inside a MySQL TRANSACTION_PAYLOAD
//! (`binlog_transaction_compression`) have no position of their own (`log_pos` 0). Every row
//! of such a transaction gets the payload event's offset and a row index counted across the
//! whole payload, so event positions stay unique and ordered; the checkpoint after it is the end
//! of the payload event. An inner event that is not followed through to its commit (the driver
//! failed to decompress the payload) is an error, never a silent loss.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::binlog::events::{Event, EventData, RowsEventData};
use tracing::debug;

use super::ddl::parse_target;
use super::decode::RowReader;
use super::error::MysqlError;
use super::filter::Filter;
use super::gtid::GtidState;
use super::lag::ReplicationLag;
use super::mariadb;
use super::schema::{PlanContext, TableInfo};
use super::tracker::{Refresh, SchemaTracker};
use crate::event::{ChangeEvent, EventPosition, Op, Value};
use crate::position::BinlogPosition;
use crate::source::{SourceBatch, SourceCheckpoint};

const HEARTBEAT_EVENT: u8 = 27;
/// Capacity reserved for the next batch after a full one (a big transaction continues).
const PREALLOCATED_BATCH: usize = 4096;
const PREVIOUS_GTIDS_EVENT: u8 = 35;
const HEARTBEAT_LOG_EVENT_V2: u8 = 41;
/// Schemas whose tables may be decoded without column names (the server's own bookkeeping,
/// e.g. `mysql.gtid_slave_pos`), since the schema tracker never reads them.
const SYSTEM_SCHEMAS: [&str; 4] = ["mysql", "sys", "performance_schema", "information_schema"];

/// The GTID of the transaction in progress, added to the position at its commit.
#[derive(Debug, Clone)]
enum PendingGtid {
    Mysql(String, u64),
    Mariadb(u32, u32, u64),
}

/// A TRANSACTION_PAYLOAD being read: its position and the next row index inside it.
#[derive(Debug, Clone, Copy)]
struct Payload {
    start: u64,
    end: u64,
    next_row: u32,
}

/// One rows event, whatever its encoding.
struct RowsInput<'a> {
    op: Op,
    partial_json: bool,
    table_id: u64,
    before: Option<Vec<bool>>,
    after: Option<Vec<bool>>,
    data: &'a [u8],
}

/// Decoding state across events.
pub(crate) struct EventDecoder {
    /// Last transaction boundary returned (or the start position).
    pub checkpoint: Option<SourceCheckpoint>,
    /// Current binlog file name.
    pub file: Arc<str>,
    /// Whether events carry a CRC32 footer (replication streams only).
    pub checksums: bool,
    /// The GTID position after the last committed transaction.
    pub gtid_state: GtidState,
    /// The schema tracker (replication only; files have no server to ask).
    pub schema: Option<SchemaTracker>,
    /// Lag gauge updated from event timestamps.
    pub lag: Option<Arc<ReplicationLag>>,
    filter: Arc<Filter>,
    refresh: Vec<Refresh>,
    gtid: Option<Arc<str>>,
    pending_gtid: Option<PendingGtid>,
    tables: HashMap<u64, (Vec<u8>, Arc<TableInfo>)>,
    batch: Vec<ChangeEvent>,
    seen_format_description: bool,
    max_batch_events: usize,
    payload: Option<Payload>,
}

impl EventDecoder {
    pub fn new(
        checkpoint: Option<SourceCheckpoint>,
        max_batch_events: usize,
        filter: Arc<Filter>,
    ) -> Self {
        Self {
            checkpoint,
            file: Arc::from(""),
            checksums: false,
            gtid_state: GtidState::default(),
            schema: None,
            lag: None,
            filter,
            refresh: Vec::new(),
            gtid: None,
            pending_gtid: None,
            tables: HashMap::new(),
            batch: Vec::new(),
            seen_format_description: false,
            max_batch_events,
            payload: None,
        }
    }

    /// Events decoded since the last batch was returned (a transaction in progress).
    pub fn take_pending(&mut self) -> Vec<ChangeEvent> {
        std::mem::take(&mut self.batch)
    }

    /// Schema reloads asked for by the DDL events handled since the last call.
    pub fn take_refresh(&mut self) -> Vec<Refresh> {
        std::mem::take(&mut self.refresh)
    }

    pub fn position(&self, offset: u64) -> BinlogPosition {
        BinlogPosition::new(self.file.clone(), offset)
    }

    /// Handles one event; returns a batch to send when one is complete.
    pub fn handle(&mut self, event: &Event) -> Result<Option<SourceBatch>, MysqlError> {
        let header = event.header();
        let type_code = header.event_type_raw();
        let log_pos = u64::from(header.log_pos());
        if let Some(lag) = &self.lag {
            if type_code == HEARTBEAT_EVENT || type_code == HEARTBEAT_LOG_EVENT_V2 {
                lag.caught_up();
            } else if log_pos != 0 {
                lag.observe(header.timestamp());
            }
        }
        let (start, end) = match self.payload {
            Some(payload) if log_pos == 0 => (payload.start, payload.end),
            Some(payload) if type_code != HEARTBEAT_EVENT => {
                return Err(MysqlError::Decode {
                    what: "compressed transaction",
                    position: self.position(payload.start),
                    table: String::new(),
                    message: "the TRANSACTION_PAYLOAD event's inner events did not arrive (the \
                              payload could not be decompressed); skipping it would lose rows"
                        .into(),
                });
            }
            _ => (
                log_pos.saturating_sub(u64::from(header.event_size())),
                log_pos,
            ),
        };
        let ts_ms = u64::from(header.timestamp()) * 1000;
        if type_code == PREVIOUS_GTIDS_EVENT && !previous_gtids_plausible(event.data()) {
            return Err(MysqlError::Decode {
                what: "PREVIOUS_GTIDS event",
                position: self.position(start),
                table: String::new(),
                message: "its source count exceeds the event size (corrupt event)".into(),
            });
        }
        let data = event.read_data().map_err(|e| MysqlError::Decode {
            what: "event",
            position: self.position(start),
            table: String::new(),
            message: format!("type {type_code}: {e}"),
        })?;
        let Some(data) = data else {
            return self.handle_unparsed(
                type_code,
                event.data(),
                header.server_id(),
                start,
                end,
                ts_ms,
            );
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
                return Ok(self.handle_query(&query.schema(), &query.query(), ts_ms, start, end));
            }
            EventData::TableMapEvent(table_map) => {
                let id = table_map.table_id();
                let raw = event.data();
                if self
                    .tables
                    .get(&id)
                    .is_none_or(|(cached, _)| cached.as_slice() != raw)
                {
                    let (db, table) = (table_map.database_name(), table_map.table_name());
                    let captured = self.filter.table(&db, &table);
                    let ctx = PlanContext {
                        tracked: self
                            .schema
                            .as_ref()
                            .and_then(|s| s.get(&db, &table))
                            .map(|t| &t[..]),
                        require_names: self.schema.is_some()
                            && captured
                            && !SYSTEM_SCHEMAS.contains(&db.as_ref()),
                        filter: &self.filter,
                    };
                    let info = TableInfo::from_table_map(&table_map, &ctx).map_err(|e| {
                        MysqlError::Decode {
                            what: "TABLE_MAP event",
                            position: self.position(start),
                            table: format!(" for {db}.{table}"),
                            message: e.to_string(),
                        }
                    })?;
                    self.tables.insert(id, (raw.to_vec(), Arc::new(info)));
                }
            }
            EventData::RowsEvent(rows) => {
                let (op, partial_json) = match rows {
                    RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => {
                        (Op::Insert, false)
                    }
                    RowsEventData::UpdateRowsEventV1(_) | RowsEventData::UpdateRowsEvent(_) => {
                        (Op::Update, false)
                    }
                    RowsEventData::PartialUpdateRowsEvent(_) => (Op::Update, true),
                    RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => {
                        (Op::Delete, false)
                    }
                };
                let bits = |image: Option<&bitvec::slice::BitSlice<u8>>| {
                    image.map(|b| b.iter().by_vals().collect::<Vec<bool>>())
                };
                let input = RowsInput {
                    op,
                    partial_json,
                    table_id: rows.table_id(),
                    before: bits(rows.columns_before_image()),
                    after: bits(rows.columns_after_image()),
                    data: rows.rows_data(),
                };
                return self.rows(input, start, ts_ms);
            }
            EventData::XidEvent(_) => return Ok(Some(self.commit(end))),
            EventData::GtidEvent(gtid) => {
                let mut source = mariadb::format_uuid(gtid.sid());
                if let Some(tag) = gtid.tag() {
                    source = format!("{source}:{}", tag.as_str());
                }
                self.gtid = Some(Arc::from(format!("{source}:{}", gtid.gno()).as_str()));
                self.pending_gtid = Some(PendingGtid::Mysql(source, gtid.gno()));
            }
            EventData::AnonymousGtidEvent(_) => {
                self.gtid = None;
                self.pending_gtid = None;
            }
            EventData::PreviousGtidsEvent(previous) if self.gtid_state.is_empty() => {
                // The set executed before this file: a complete start when reading from it.
                for sid in previous.sids() {
                    let mut source = mariadb::format_uuid(sid.uuid());
                    if let Some(tag) = sid.tag() {
                        source = format!("{source}:{}", tag.as_str());
                    }
                    for interval in sid.intervals() {
                        if interval.end() > interval.start() {
                            self.gtid_state.add_mysql_range(
                                &source,
                                interval.start(),
                                interval.end() - 1,
                            );
                        }
                    }
                }
            }
            EventData::TransactionPayloadEvent(_) => {
                self.payload = Some(Payload {
                    start,
                    end,
                    next_row: 0,
                });
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
        end: u64,
        ts_ms: u64,
    ) -> Result<Option<SourceBatch>, MysqlError> {
        let malformed = |decoder: &Self, message: String| MysqlError::Decode {
            what: "MariaDB event",
            position: decoder.position(start),
            table: String::new(),
            message: format!("type {type_code}: {message}"),
        };
        match type_code {
            mariadb::GTID_EVENT => {
                let (domain, seq, _) = mariadb::gtid_event(body)
                    .ok_or_else(|| malformed(self, "GTID event too short".into()))?;
                self.gtid = Some(Arc::from(format!("{domain}-{server_id}-{seq}").as_str()));
                self.pending_gtid = Some(PendingGtid::Mariadb(domain, server_id, seq));
            }
            mariadb::GTID_LIST_EVENT => {
                let list = mariadb::gtid_list(body)
                    .ok_or_else(|| malformed(self, "GTID list too short".into()))?;
                if self.gtid_state.is_empty() {
                    for (domain, server, seq) in list {
                        self.gtid_state.add_mariadb(domain, server, seq);
                    }
                }
            }
            mariadb::ANNOTATE_ROWS_EVENT
            | mariadb::BINLOG_CHECKPOINT_EVENT
            | mariadb::START_ENCRYPTION_EVENT => {}
            mariadb::QUERY_COMPRESSED_EVENT => {
                let (schema, sql) =
                    mariadb::compressed_query(body).map_err(|e| malformed(self, e))?;
                return Ok(self.handle_query(&schema, &sql, ts_ms, start, end));
            }
            code if mariadb::COMPRESSED_EVENTS.contains(&code) => {
                let rows = mariadb::compressed_rows(code, body).map_err(|e| malformed(self, e))?;
                let input = RowsInput {
                    op: rows.op,
                    partial_json: false,
                    table_id: rows.table_id,
                    before: rows.before,
                    after: rows.after,
                    data: &rows.rows,
                };
                return self.rows(input, start, ts_ms);
            }
            other => debug!(message = "Ignoring unknown event type.", event_type = other),
        }
        Ok(None)
    }

    /// A QUERY event: BEGIN, COMMIT, or a DDL statement (which commits implicitly).
    fn handle_query(
        &mut self,
        schema: &str,
        sql: &str,
        ts_ms: u64,
        start: u64,
        end: u64,
    ) -> Option<SourceBatch> {
        let trimmed = sql.trim();
        if trimmed.eq_ignore_ascii_case("BEGIN") || trimmed.starts_with("# Dummy") {
            return None;
        }
        let upper: String = trimmed
            .chars()
            .take(12)
            .collect::<String>()
            .to_ascii_uppercase();
        // Savepoints live inside a transaction; they change no table.
        if upper.starts_with("SAVEPOINT") || upper.starts_with("ROLLBACK TO") {
            return None;
        }
        // A ROLLBACK in the binlog ends a transaction whose non-transactional changes stayed.
        if trimmed.eq_ignore_ascii_case("COMMIT") || trimmed.eq_ignore_ascii_case("ROLLBACK") {
            return Some(self.commit(end));
        }
        // Account statements carry password hashes and change no table: they move the
        // checkpoint but become no event, so no secret reaches the output.
        if is_account_statement(trimmed) {
            return Some(self.commit(end));
        }
        // Anything else in a QUERY event under ROW format is DDL (or a statement the server
        // could not log as rows); it commits implicitly.
        let target = parse_target(trimmed, schema);
        if let Some(db) = &target.database {
            self.refresh.push(Refresh::Database(db.clone()));
        } else if target.tables.is_empty() {
            self.refresh.push(Refresh::All);
        }
        for (db, table) in &target.tables {
            self.refresh.push(Refresh::Table(db.clone(), table.clone()));
        }
        self.tables.clear();
        let (db, table) = match (target.tables.first(), &target.database) {
            (Some((db, table)), _) => (db.as_str(), table.as_str()),
            (None, Some(db)) => (db.as_str(), ""),
            (None, None) => (schema, ""),
        };
        if self.filter.op(Op::Ddl) && self.filter.table(db, table) {
            self.batch.push(ChangeEvent {
                op: Op::Ddl,
                db: Arc::from(db),
                table: Arc::from(table),
                ts_ms,
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
        }
        Some(self.commit(end))
    }

    fn commit(&mut self, end: u64) -> SourceBatch {
        let end = match self.payload.take() {
            Some(payload) => payload.end,
            None => end,
        };
        match self.pending_gtid.take() {
            Some(PendingGtid::Mysql(source, gno)) => self.gtid_state.add_mysql(&source, gno),
            Some(PendingGtid::Mariadb(domain, server, seq)) => {
                self.gtid_state.add_mariadb(domain, server, seq);
            }
            None => {}
        }
        let checkpoint = SourceCheckpoint {
            binlog: self.position(end),
            gtid: (!self.gtid_state.is_empty()).then(|| self.gtid_state.to_string()),
        };
        self.checkpoint = Some(checkpoint.clone());
        SourceBatch {
            events: std::mem::take(&mut self.batch),
            checkpoint: Some(checkpoint),
        }
    }

    /// Decodes a rows event into the batch; returns a batch when it is full.
    fn rows(
        &mut self,
        input: RowsInput<'_>,
        start: u64,
        ts_ms: u64,
    ) -> Result<Option<SourceBatch>, MysqlError> {
        self.decode_rows(input, start, ts_ms)?;
        if self.batch.len() >= self.max_batch_events {
            let full = Vec::with_capacity(self.max_batch_events.min(PREALLOCATED_BATCH));
            return Ok(Some(SourceBatch {
                events: std::mem::replace(&mut self.batch, full),
                checkpoint: None,
            }));
        }
        Ok(None)
    }

    fn decode_rows(
        &mut self,
        input: RowsInput<'_>,
        start: u64,
        ts_ms: u64,
    ) -> Result<(), MysqlError> {
        let op = input.op;
        let Some((_, table)) = self.tables.get(&input.table_id) else {
            return Err(MysqlError::Decode {
                what: "rows event",
                position: self.position(start),
                table: String::new(),
                message: format!("no TABLE_MAP seen for table id {}", input.table_id),
            });
        };
        if !table.captured || !self.filter.op(op) {
            return Ok(());
        }
        let table = table.clone();
        let count = table.plans.len();
        // One flag per column; a missing bitmap (no such image) or short one counts as logged.
        let image_bits = |bits: Option<Vec<bool>>| {
            let mut bits = bits.unwrap_or_default();
            bits.resize(count, true);
            bits
        };
        let before_present = image_bits(input.before);
        let after_present = image_bits(input.after);
        // A partial row image (binlog_row_image=MINIMAL/NOBLOB) logs some columns only. The
        // event shows the columns its images log: the union of both for an update, each image
        // holding Value::Absent for the columns it lacks (none when both log the same ones).
        let shown: Vec<bool> = match op {
            Op::Insert => after_present.clone(),
            Op::Delete => before_present.clone(),
            _ => before_present
                .iter()
                .zip(&after_present)
                .map(|(b, a)| *b || *a)
                .collect(),
        };
        let shown_table = if shown.iter().all(|s| *s) {
            None
        } else {
            Some(Arc::new(table.subset(&shown)))
        };
        let out_table = shown_table.as_ref().unwrap_or(&table);
        let show = |values: Vec<Value>| {
            let values = match &shown_table {
                None => values,
                Some(_) => values
                    .into_iter()
                    .zip(&shown)
                    .filter_map(|(v, s)| s.then_some(v))
                    .collect(),
            };
            project(out_table, values)
        };
        let mut reader = RowReader::new(input.data);
        let first_row = self.payload.map_or(0, |p| p.next_row);
        let mut row: u32 = first_row;
        let event_position = self.position(start);
        let decode_error = |e: super::decode::DecodeError, row: u32| MysqlError::Decode {
            what: "row",
            position: event_position.clone(),
            table: format!(" in {}.{} (row {row})", table.db, table.table),
            message: e.to_string(),
        };
        while !reader.is_empty() {
            let unread = reader.remaining();
            let before = match op {
                Op::Update | Op::Delete => Some(
                    reader
                        .read_image(&table, &before_present)
                        .map_err(|e| decode_error(e, row))?,
                ),
                _ => None,
            };
            let after = match (op, &before) {
                (Op::Update, Some(before)) if input.partial_json => Some(
                    reader
                        .read_partial_after(&table, &after_present, before)
                        .map_err(|e| decode_error(e, row))?,
                ),
                (Op::Insert | Op::Update, _) => Some(
                    reader
                        .read_image(&table, &after_present)
                        .map_err(|e| decode_error(e, row))?,
                ),
                _ => None,
            };
            // A row image without columns (a TABLE_MAP without columns, or a column bitmap
            // with none set) takes no bytes: the rows data cannot be split into rows, and
            // reading on would push empty rows until memory runs out (found by fuzzing).
            if reader.remaining() == unread {
                return Err(MysqlError::Decode {
                    what: "rows event",
                    position: event_position.clone(),
                    table: format!(" in {}.{}", table.db, table.table),
                    message: format!(
                        "the row image has no columns, yet {unread} bytes of rows data remain \
                         (corrupt TABLE_MAP or column bitmap)"
                    ),
                });
            }
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
                columns: out_table.columns.clone(),
                before: before.map(&show),
                after: after.map(&show),
                sql: None,
            });
            row += 1;
        }
        if let Some(payload) = &mut self.payload {
            payload.next_row = row;
        }
        Ok(())
    }
}

/// Whether a PREVIOUS_GTIDS body's source count fits its size. `mysql_common` reserves memory
/// for that count before reading, so a corrupt count would abort the process (found by the
/// corrupted-input test in `file/tests.rs`).
fn previous_gtids_plausible(body: &[u8]) -> bool {
    let Some(header) = body.get(..8) else {
        return true; // too short: mysql_common reports it
    };
    let header = u64::from_le_bytes(header.try_into().unwrap_or_default());
    let sids = if header >> 56 != 0 {
        (header >> 8) & ((1 << 48) - 1)
    } else {
        header & ((1 << 56) - 1)
    };
    // Each source takes at least a 16-byte UUID and an 8-byte interval count.
    sids.saturating_mul(24) <= body.len() as u64
}

/// Drops the excluded columns' values.
fn project(table: &TableInfo, values: Vec<Value>) -> Vec<Value> {
    match &table.keep {
        None => values,
        Some(keep) => values
            .into_iter()
            .zip(keep)
            .filter_map(|(v, k)| k.then_some(v))
            .collect(),
    }
}

/// Whether a statement manages accounts or privileges (CREATE/ALTER/DROP/RENAME USER, GRANT,
/// REVOKE, SET PASSWORD, roles).
fn is_account_statement(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(2)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    match words.as_slice() {
        [first, ..] if first == "GRANT" || first == "REVOKE" => true,
        [first, second] => {
            matches!(
                first.as_str(),
                "CREATE" | "ALTER" | "DROP" | "RENAME" | "SET"
            ) && matches!(second.as_str(), "USER" | "ROLE" | "PASSWORD")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_account_statement;

    #[test]
    fn account_statements_are_recognized() {
        assert!(is_account_statement(
            "ALTER USER 'root'@'localhost' IDENTIFIED WITH x AS 'h'"
        ));
        assert!(is_account_statement("grant select on *.* to u"));
        assert!(is_account_statement("SET PASSWORD FOR u = 'x'"));
        assert!(!is_account_statement("ALTER TABLE t ADD c INT"));
        assert!(!is_account_statement("CREATE TABLE user (id INT)"));
    }
}
