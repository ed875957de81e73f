//! Record framing inside segment files, and segment file naming.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::event::ChangeEvent;
use crate::event::codec::EventDecoder;

/// Bytes before a record's payload: length and CRC32, both u32 little-endian.
pub(crate) const HEADER_LEN: u64 = 8;
/// Format byte that starts every payload.
const PAYLOAD_FORMAT_V1: u8 = 1;
/// Upper bound on one record, to reject a corrupt length before allocating it.
pub(crate) const MAX_RECORD_BYTES: u32 = 1 << 30;

/// Encodes one record (header and payload) for `events`.
pub(crate) fn encode_record(events: &[ChangeEvent]) -> Result<Vec<u8>, postcard::Error> {
    let mut out = vec![0u8; HEADER_LEN as usize];
    out.push(PAYLOAD_FORMAT_V1);
    let mut out = postcard::to_extend(events, out)?;
    let payload_len = (out.len() - HEADER_LEN as usize) as u32;
    let crc = crc32fast::hash(&out[HEADER_LEN as usize..]);
    out[0..4].copy_from_slice(&payload_len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Decodes a payload (without header).
pub(crate) fn decode_payload(
    decoder: &mut EventDecoder,
    payload: &[u8],
) -> Result<Vec<ChangeEvent>, String> {
    match payload.split_first() {
        Some((&PAYLOAD_FORMAT_V1, body)) => decoder
            .decode_seq(body)
            .map_err(|e| format!("undecodable payload: {e}")),
        Some((other, _)) => Err(format!("unknown payload format {other}")),
        None => Err("empty payload".into()),
    }
}

/// What is at a position of a segment file.
pub(crate) enum Frame {
    /// A whole record whose CRC matches.
    Record(Vec<u8>),
    /// The file ends inside the record (or exactly at `offset`: `Incomplete` with 0 bytes).
    Incomplete,
    /// A whole record whose CRC or length is wrong.
    Bad(String),
}

/// Reads the record starting at the reader's position.
pub(crate) fn read_frame(reader: &mut impl Read) -> io::Result<Frame> {
    let mut header = [0u8; HEADER_LEN as usize];
    if !read_full(reader, &mut header)? {
        return Ok(Frame::Incomplete);
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len == 0 || len > MAX_RECORD_BYTES {
        return Ok(Frame::Bad(format!("record length {len}")));
    }
    let mut payload = vec![0u8; len as usize];
    if !read_full(reader, &mut payload)? {
        return Ok(Frame::Incomplete);
    }
    if crc32fast::hash(&payload) != crc {
        return Ok(Frame::Bad("CRC mismatch".into()));
    }
    Ok(Frame::Record(payload))
}

/// Fills `buf`; false when the reader ended first.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The file name of the segment starting at shard offset `base`.
pub(crate) fn segment_path(shard_dir: &Path, base: u64) -> PathBuf {
    shard_dir.join(format!("{base:020}.seg"))
}

/// Base offsets of a shard's segments, ascending.
pub(crate) fn list_segments(shard_dir: &Path) -> io::Result<Vec<u64>> {
    let mut bases = Vec::new();
    for entry in fs::read_dir(shard_dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(base) = name
            .strip_suffix(".seg")
            .and_then(|b| b.parse::<u64>().ok())
        {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    Ok(bases)
}
