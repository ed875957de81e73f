//! Binlog events to change events: the state machine shared by the replication stream and the
//! offline file reader.
//!
//! It tracks the current binlog file, the transaction's GTID and the table maps, decodes rows
//! events through [`TableInfo`] plans, and returns a [`SourceBatch`] at every transaction
//! boundary (XID, `COMMIT`, DDL) with the checkpoint just after it, or earlier, without a
//! checkpoint, when a transaction exceeds `max_batch_events`.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::binlog::events::{Event, EventData, RowsEventData};
use tracing::debug;

use super::decode::RowReader;
use super::error::MysqlError;
use super::mariadb;
use super::schema::TableInfo;
use crate::event::{ChangeEvent, EventPosition, Op};
use crate::position::BinlogPosition;
use crate::source::{SourceBatch, SourceCheckpoint};

/// Decoding state across events.
pub(crate) struct EventDecoder {
    /// Last transaction boundary returned (or the start position).
    pub checkpoint: Option<SourceCheckpoint>,
    /// Current binlog file name.
    pub file: Arc<str>,
    /// Whether events carry a CRC32 footer (replication streams only).
    pub checksums: bool,
    gtid: Option<Arc<str>>,
    tables: HashMap<u64, (Vec<u8>, Arc<TableInfo>)>,
    batch: Vec<ChangeEvent>,
    seen_format_description: bool,
    max_batch_events: usize,
}

impl EventDecoder {
    pub fn new(checkpoint: Option<SourceCheckpoint>, max_batch_events: usize) -> Self {
        Self {
            checkpoint,
            file: Arc::from(""),
            checksums: false,
            gtid: None,
            tables: HashMap::new(),
            batch: Vec::new(),
            seen_format_description: false,
            max_batch_events,
        }
    }

    /// Events decoded since the last batch was returned (a transaction in progress).
    pub fn take_pending(&mut self) -> Vec<ChangeEvent> {
        std::mem::take(&mut self.batch)
    }

    pub fn position(&self, offset: u64) -> BinlogPosition {
        BinlogPosition::new(self.file.clone(), offset)
    }

    /// Handles one event; returns a batch to send when one is complete.
    pub fn handle(&mut self, event: &Event) -> Result<Option<SourceBatch>, MysqlError> {
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
                // Account statements carry password hashes and change no table: they move the
                // checkpoint but become no event, so no secret reaches the output.
                if is_account_statement(trimmed) {
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
                if self.batch.len() >= self.max_batch_events {
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
