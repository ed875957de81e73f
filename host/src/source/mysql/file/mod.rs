//! Offline decoding of binlog files, as users download them from RDS backups
//! (`wproc binlog dump`).
//!
//! Events are framed here, not by `mysql_common`'s `BinlogFile`: each event's header is read and
//! its size checked against what the file holds before the bytes are handed to the parser, so a
//! truncated or corrupt file ends in an error naming the file and offset instead of a panic
//! inside the parser (`Event::read` unwraps a short read, and cuts a 4-byte checksum off without
//! checking that the body holds one). MySQL 8 compressed transactions (TRANSACTION_PAYLOAD) are
//! decompressed as a stream and their inner events framed the same way, so neither the payload's
//! declared uncompressed size nor an inner event's size is trusted for an allocation.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use mysql_common::binlog::EventStreamReader;
use mysql_common::binlog::consts::{BinlogChecksumAlg, BinlogVersion};
use mysql_common::binlog::events::{Event, FormatDescriptionEvent, TransactionPayloadEvent};

pub(super) mod guard;

use super::decoder::EventDecoder;
use super::error::MysqlError;
use super::filter::Filter;
use crate::event::ChangeEvent;
use crate::position::BinlogPosition;

const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
const EVENT_HEADER_LEN: usize = 19;
const MAX_EVENT_BYTES: u32 = 1 << 30;
const TRANSACTION_PAYLOAD_EVENT: u8 = 40;
const FORMAT_DESCRIPTION_EVENT: u8 = 15;
/// Bytes of an event's CRC32 checksum.
const CHECKSUM_LEN: usize = 4;
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
    let mut inner_buf = Vec::new();
    loop {
        let frame = Frame {
            left: Some(file_len.saturating_sub(offset)),
            checksum: checksummed(reader.get_fde()),
        };
        if !read_event(&mut input, &mut buf, frame).map_err(|m| error(offset, m))? {
            break;
        }
        let size = buf.len() as u64;
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
            // Streamed and framed like the file itself: the declared uncompressed size is not
            // trusted for an allocation (`danger_decompress` would allocate it whole), and each
            // inner event's size is checked before `mysql_common` reads it.
            let mut inner = payload
                .decompressed()
                .map_err(|e| error(offset, format!("transaction payload: {e}")))?;
            let frame = Frame {
                left: None,
                checksum: false,
            };
            while read_event(&mut inner, &mut inner_buf, frame)
                .map_err(|m| error(offset, format!("compressed transaction: {m}")))?
            {
                let inner_event = reader
                    .read_decompressed(&inner_buf[..])
                    .map_err(|e| error(offset, format!("compressed transaction: {e}")))?
                    .ok_or_else(|| error(offset, "compressed transaction: empty event".into()))?;
                handle(&inner_event, &mut decoder)?;
            }
        }
        offset += size;
    }
    let pending = decoder.take_pending();
    for change in &pending {
        emit(change);
    }
    stats.changes += pending.len() as u64;
    Ok(stats)
}

/// How [`read_event`] checks an event's frame.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Bytes the input still holds, when known (a file); an event declaring more is truncated.
    left: Option<u64>,
    /// Whether events end in a 4-byte checksum (the last FORMAT_DESCRIPTION names an
    /// algorithm): `mysql_common` cuts it off and panics on a shorter body.
    checksum: bool,
}

/// Reads the next event (header and body) into `buf`, checking its declared size first, so
/// that `mysql_common`'s `Event::read`, which unwraps a short read and allocates the declared
/// size, only ever sees a complete event. `Ok(false)` at the end of the input.
fn read_event(input: &mut impl Read, buf: &mut Vec<u8>, frame: Frame) -> Result<bool, String> {
    buf.clear();
    buf.resize(EVENT_HEADER_LEN, 0);
    let got = read_full(input, buf).map_err(|e| e.to_string())?;
    if got == 0 {
        return Ok(false);
    }
    if got < EVENT_HEADER_LEN {
        return Err(format!("truncated event header ({got} of 19 bytes)"));
    }
    let size = u32::from_le_bytes([buf[9], buf[10], buf[11], buf[12]]);
    if (size as usize) < EVENT_HEADER_LEN || size > MAX_EVENT_BYTES {
        return Err(format!("impossible event size {size}"));
    }
    if let Some(left) = frame.left
        && u64::from(size) > left
    {
        return Err(format!(
            "truncated event: it declares {size} bytes, the file holds {left} from here"
        ));
    }
    let body_len = size as usize - EVENT_HEADER_LEN;
    if frame.checksum && buf[4] != FORMAT_DESCRIPTION_EVENT && body_len < CHECKSUM_LEN {
        return Err(format!(
            "event of {size} bytes is shorter than its header and {CHECKSUM_LEN}-byte checksum"
        ));
    }
    // Read the body without sizing the buffer from the (untrusted) header first: should the
    // input hold less than it said, a corrupt size still costs no large allocation.
    buf.reserve(body_len.min(1 << 20));
    let body = input
        .take(body_len as u64)
        .read_to_end(buf)
        .map_err(|e| e.to_string())?;
    if body < body_len {
        return Err(format!(
            "truncated event: {} of {size} bytes",
            EVENT_HEADER_LEN + body
        ));
    }
    Ok(true)
}

/// Whether `mysql_common` expects a checksum at the end of the events that follow `fde` (its
/// own rule in `Event::read`: an algorithm other than OFF, known or not).
fn checksummed(fde: &FormatDescriptionEvent<'_>) -> bool {
    let footer = fde.footer();
    footer.get_checksum_enabled()
        && !matches!(
            footer.get_checksum_alg(),
            Ok(None) | Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_OFF))
        )
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
