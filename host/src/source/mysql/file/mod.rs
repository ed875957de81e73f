//! Offline decoding of binlog files, as users download them from RDS backups
//! (`wproc binlog dump`).
//!
//! Events are framed here, not by `mysql_common`'s `BinlogFile`: each event's header is read and
//! its size checked against what the file holds before the bytes are handed to the parser, so a
//! truncated or corrupt file ends in an error naming the file and offset instead of a panic
//! inside the parser (`Event::read` unwraps a short read). MySQL 8 compressed transactions
//! (TRANSACTION_PAYLOAD) are decompressed and their inner events decoded.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use mysql_common::binlog::EventStreamReader;
use mysql_common::binlog::consts::BinlogVersion;
use mysql_common::binlog::events::{Event, TransactionPayloadEvent};

mod guard;

use super::decoder::EventDecoder;
use super::error::MysqlError;
use super::filter::Filter;
use crate::event::ChangeEvent;
use crate::position::BinlogPosition;

const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
const EVENT_HEADER_LEN: usize = 19;
const MAX_EVENT_BYTES: u32 = 1 << 30;
const TRANSACTION_PAYLOAD_EVENT: u8 = 40;
/// Events per batch when reading a file: batches are only a memory bound here.
const FILE_BATCH_EVENTS: usize = 4096;

/// What a dump read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DumpStats {
    /// Binlog events read.
    pub events: u64,
    /// Change events produced.
    pub changes: u64,
}

/// Decodes every event of the binlog file at `path` and calls `emit` for each change event in
/// order. A trailing transaction without its commit is emitted too.
pub fn dump_file(path: &Path, emit: impl FnMut(&ChangeEvent)) -> Result<DumpStats, MysqlError> {
    let name: Arc<str> = Arc::from(
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
            .as_ref(),
    );
    let file = File::open(path).map_err(|e| MysqlError::Decode {
        what: "binlog file",
        position: BinlogPosition::new(name.clone(), 0),
        table: String::new(),
        message: format!("cannot open {}: {e}", path.display()),
    })?;
    // An event's declared size is checked against what the file holds before its buffer is
    // allocated, so a corrupt size costs an error, not a gigabyte.
    let file_len = file
        .metadata()
        .map_err(|e| MysqlError::Decode {
            what: "binlog file",
            position: BinlogPosition::new(name.clone(), 0),
            table: String::new(),
            message: format!("cannot stat {}: {e}", path.display()),
        })?
        .len();
    decode_reader(
        name,
        BufReader::with_capacity(1 << 20, file),
        file_len,
        emit,
    )
}

/// Decodes a whole binlog file held in memory (named `memory` in errors) and drops the events:
/// the entry point for fuzzing. Never panics; a malformed input is an `Err`.
pub fn decode_bytes(bytes: &[u8]) -> Result<DumpStats, MysqlError> {
    decode_reader(Arc::from("memory"), bytes, bytes.len() as u64, |_| {})
}

/// Decodes a binlog file of `file_len` bytes from `input`, `name` naming it in positions and
/// errors.
pub fn decode_reader(
    name: Arc<str>,
    mut input: impl Read,
    file_len: u64,
    mut emit: impl FnMut(&ChangeEvent),
) -> Result<DumpStats, MysqlError> {
    let at = |offset: u64| BinlogPosition::new(name.clone(), offset);
    let error = |offset: u64, message: String| MysqlError::Decode {
        what: "binlog file",
        position: at(offset),
        table: String::new(),
        message,
    };
    let mut magic = [0u8; 4];
    if read_full(&mut input, &mut magic).map_err(|e| error(0, e.to_string()))? != 4
        || magic != MAGIC
    {
        return Err(error(0, "not a binlog file (no \\xfebin magic)".into()));
    }
    let mut reader = EventStreamReader::new(BinlogVersion::Version4);
    let mut decoder = EventDecoder::new(None, FILE_BATCH_EVENTS, Arc::new(Filter::default()));
    decoder.file = name.clone();
    let mut stats = DumpStats::default();
    let mut offset = MAGIC.len() as u64;
    let mut buf = Vec::new();
    loop {
        buf.resize(EVENT_HEADER_LEN, 0);
        let got = read_full(&mut input, &mut buf).map_err(|e| error(offset, e.to_string()))?;
        if got == 0 {
            break;
        }
        if got < EVENT_HEADER_LEN {
            return Err(error(
                offset,
                format!("truncated event header ({got} of 19 bytes)"),
            ));
        }
        let size = u32::from_le_bytes([buf[9], buf[10], buf[11], buf[12]]);
        if (size as usize) < EVENT_HEADER_LEN || size > MAX_EVENT_BYTES {
            return Err(error(offset, format!("impossible event size {size}")));
        }
        if offset + u64::from(size) > file_len {
            return Err(error(
                offset,
                format!(
                    "truncated event: it declares {size} bytes, the file holds {} from here",
                    file_len.saturating_sub(offset)
                ),
            ));
        }
        // Read the body without sizing the buffer from the (untrusted) header first: should the
        // input hold less than `file_len` said, a corrupt size still costs no large allocation.
        buf.reserve((size as usize).min(1 << 20));
        let body = (&mut input)
            .take(u64::from(size) - EVENT_HEADER_LEN as u64)
            .read_to_end(&mut buf)
            .map_err(|e| error(offset, e.to_string()))?;
        if body < size as usize - EVENT_HEADER_LEN {
            return Err(error(
                offset,
                format!(
                    "truncated event: {} of {size} bytes",
                    EVENT_HEADER_LEN + body
                ),
            ));
        }
        let event = reader
            .read(&buf[..])
            .map_err(|e| error(offset, format!("undecodable event: {e}")))?
            .ok_or_else(|| error(offset, "empty event".into()))?;
        stats.events += 1;
        let mut handle = |event: &Event, decoder: &mut EventDecoder| -> Result<(), MysqlError> {
            guard::check_declared_counts(event.header().event_type_raw(), event.data())
                .map_err(|message| error(offset, message))?;
            // Relay logs name the source's files in their ROTATE events: say which file on disk.
            let batch = decoder
                .handle(event)
                .map_err(|e| error(offset, e.to_string()))?;
            if let Some(batch) = batch {
                for change in &batch.events {
                    emit(change);
                }
                stats.changes += batch.events.len() as u64;
            }
            Ok(())
        };
        handle(&event, &mut decoder)?;
        if event.header().event_type_raw() == TRANSACTION_PAYLOAD_EVENT {
            let payload = event
                .read_event::<TransactionPayloadEvent<'_>>()
                .map_err(|e| error(offset, format!("transaction payload: {e}")))?;
            let mut inner = Cursor::new(payload.danger_decompress());
            while let Some(inner_event) = reader
                .read_decompressed(&mut inner)
                .map_err(|e| error(offset, format!("compressed transaction: {e}")))?
            {
                handle(&inner_event, &mut decoder)?;
            }
        }
        offset += u64::from(size);
    }
    let pending = decoder.take_pending();
    for change in &pending {
        emit(change);
    }
    stats.changes += pending.len() as u64;
    Ok(stats)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests;
