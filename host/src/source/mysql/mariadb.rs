//! MariaDB-specific events that `mysql_common` does not parse: GTID, GTID_LIST, and the
//! compressed QUERY and rows events of `log_bin_compress=ON` (types 165-171).
//!
//! A compressed event is the plain event with one part replaced by a compressed block: the
//! statement text of a QUERY event, the row images of a rows event (the post-header, column
//! count and column bitmaps stay plain). The block is one header byte `0x80 | n` (n = 1..4),
//! the uncompressed length in n big-endian bytes, then a zlib stream (MariaDB's
//! `binlog_buf_uncompress`). Inflating uses `flate2`.

use std::io::Read;

use crate::event::Op;

/// MariaDB GTID_EVENT.
pub(crate) const GTID_EVENT: u8 = 162;
/// MariaDB ANNOTATE_ROWS_EVENT: the statement text of the following rows events.
pub(crate) const ANNOTATE_ROWS_EVENT: u8 = 160;
/// MariaDB BINLOG_CHECKPOINT_EVENT.
pub(crate) const BINLOG_CHECKPOINT_EVENT: u8 = 161;
/// MariaDB GTID_LIST_EVENT.
pub(crate) const GTID_LIST_EVENT: u8 = 163;
/// MariaDB START_ENCRYPTION_EVENT.
pub(crate) const START_ENCRYPTION_EVENT: u8 = 164;
/// MariaDB QUERY_COMPRESSED_EVENT.
pub(crate) const QUERY_COMPRESSED_EVENT: u8 = 165;
/// First and last of MariaDB's compressed QUERY and rows events (165-171).
pub(crate) const COMPRESSED_EVENTS: std::ops::RangeInclusive<u8> = 165..=171;

/// Largest uncompressed block accepted (MariaDB events are at most 1 GiB).
const MAX_UNCOMPRESSED: u64 = 1 << 30;

/// A MariaDB GTID event: `(domain, seq, standalone)`; standalone = no BEGIN/COMMIT follows
/// (DDL), flag `FL_STANDALONE` (1).
pub(crate) fn gtid_event(body: &[u8]) -> Option<(u32, u64, bool)> {
    let seq = u64::from_le_bytes(body.get(0..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    let flags = *body.get(12)?;
    Some((domain, seq, flags & 1 != 0))
}

/// A GTID_LIST event: the binlog state at the start of a file, `(domain, server, seq)` each.
pub(crate) fn gtid_list(body: &[u8]) -> Option<Vec<(u32, u32, u64)>> {
    let count = u32::from_le_bytes(body.get(0..4)?.try_into().ok()?) & 0x0FFF_FFFF;
    let mut list = Vec::with_capacity(count.min(1024) as usize);
    for i in 0..count as usize {
        let at = 4 + i * 16;
        let entry = body.get(at..at + 16)?;
        list.push((
            u32::from_le_bytes(entry[0..4].try_into().ok()?),
            u32::from_le_bytes(entry[4..8].try_into().ok()?),
            u64::from_le_bytes(entry[8..16].try_into().ok()?),
        ));
    }
    Some(list)
}

/// Inflates a MariaDB compressed block.
pub(crate) fn inflate(block: &[u8]) -> Result<Vec<u8>, String> {
    let first = *block.first().ok_or("empty compressed block")?;
    let len_bytes = usize::from(first & 0x07);
    if first & 0xE0 != 0x80 || !(1..=4).contains(&len_bytes) {
        return Err(format!("bad compressed block header 0x{first:02x}"));
    }
    let len = block
        .get(1..1 + len_bytes)
        .ok_or("compressed block ends in its header")?
        .iter()
        .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    if len > MAX_UNCOMPRESSED {
        return Err(format!("compressed block claims {len} bytes"));
    }
    let mut out = Vec::with_capacity(len as usize);
    flate2::read::ZlibDecoder::new(&block[1 + len_bytes..])
        .take(len + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("zlib: {e}"))?;
    if out.len() as u64 != len {
        return Err(format!(
            "compressed block inflates to {} bytes, header says {len}",
            out.len()
        ));
    }
    Ok(out)
}

/// A decompressed rows event.
pub(crate) struct CompressedRows {
    pub op: Op,
    pub table_id: u64,
    pub before: Option<Vec<bool>>,
    pub after: Option<Vec<bool>>,
    pub rows: Vec<u8>,
}

/// Parses a WRITE/UPDATE/DELETE_ROWS_COMPRESSED event (166-168 v1, 169-171 v2).
pub(crate) fn compressed_rows(type_code: u8, body: &[u8]) -> Result<CompressedRows, String> {
    let (op, v2) = match type_code {
        166 => (Op::Insert, false),
        167 => (Op::Update, false),
        168 => (Op::Delete, false),
        169 => (Op::Insert, true),
        170 => (Op::Update, true),
        171 => (Op::Delete, true),
        other => return Err(format!("type {other} is not a compressed rows event")),
    };
    let short = || "rows event header ends early".to_owned();
    let table_id = body
        .get(0..6)
        .ok_or_else(short)?
        .iter()
        .rev()
        .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let mut at = 8; // table id, flags
    if v2 {
        let extra = body.get(at..at + 2).ok_or_else(short)?;
        at += usize::from(u16::from_le_bytes([extra[0], extra[1]])).max(2);
    }
    let (columns, used) = lenenc(body.get(at..).ok_or_else(short)?).ok_or_else(short)?;
    at += used;
    let bitmap_len = (columns as usize).div_ceil(8);
    let mut bitmap = || -> Result<Vec<bool>, String> {
        let bytes = body.get(at..at + bitmap_len).ok_or_else(short)?;
        at += bitmap_len;
        Ok((0..columns as usize)
            .map(|i| bytes[i / 8] >> (i % 8) & 1 == 1)
            .collect())
    };
    let (before, after) = match op {
        Op::Insert => (None, Some(bitmap()?)),
        Op::Delete => (Some(bitmap()?), None),
        _ => {
            let before = bitmap()?;
            (Some(before), Some(bitmap()?))
        }
    };
    let rows = inflate(body.get(at..).ok_or_else(short)?)?;
    Ok(CompressedRows {
        op,
        table_id,
        before,
        after,
        rows,
    })
}

/// Parses a QUERY_COMPRESSED event (165): `(schema, statement)`.
pub(crate) fn compressed_query(body: &[u8]) -> Result<(String, String), String> {
    let short = || "query event header ends early".to_owned();
    let header = body.get(0..13).ok_or_else(short)?;
    let db_len = usize::from(header[8]);
    let status_len = usize::from(u16::from_le_bytes([header[11], header[12]]));
    let db_at = 13 + status_len;
    let db = body.get(db_at..db_at + db_len).ok_or_else(short)?;
    let query = inflate(body.get(db_at + db_len + 1..).ok_or_else(short)?)?;
    Ok((
        String::from_utf8_lossy(db).into_owned(),
        String::from_utf8_lossy(&query).into_owned(),
    ))
}

/// A length-encoded integer and its size.
fn lenenc(buf: &[u8]) -> Option<(u64, usize)> {
    let le = |b: &[u8]| b.iter().rev().fold(0u64, |acc, x| acc << 8 | u64::from(*x));
    Some(match *buf.first()? {
        0xfc => (le(buf.get(1..3)?), 3),
        0xfd => (le(buf.get(1..4)?), 4),
        0xfe => (le(buf.get(1..9)?), 9),
        b => (u64::from(b), 1),
    })
}

/// Formats a MySQL server UUID.
pub(crate) fn format_uuid(sid: [u8; 16]) -> String {
    let hex: String = sid.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gtid_event() {
        let mut body = 265u64.to_le_bytes().to_vec();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.push(0);
        assert_eq!(gtid_event(&body), Some((0, 265, false)));
        assert_eq!(gtid_event(&body[..5]), None);
    }

    #[test]
    fn inflates_mariadb_blocks() {
        use std::io::Write;
        let text = b"INSERT INTO t VALUES (1), (2), (3)".repeat(20);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        let mut block = vec![0x82, (text.len() >> 8) as u8, text.len() as u8];
        block.extend(z.finish().unwrap());
        assert_eq!(inflate(&block).unwrap(), text);
        assert!(inflate(&block[..block.len() - 3]).is_err());
        block[0] = 0x12;
        assert!(inflate(&block).is_err());
        let mut list = 2u32.to_le_bytes().to_vec();
        for (d, s, q) in [(0u32, 101u32, 7u64), (1, 102, 9)] {
            list.extend(d.to_le_bytes());
            list.extend(s.to_le_bytes());
            list.extend(q.to_le_bytes());
        }
        assert_eq!(gtid_list(&list).unwrap(), [(0, 101, 7), (1, 102, 9)]);
    }

    #[test]
    fn formats_uuid() {
        let sid = [
            0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
            0x95, 0x62,
        ];
        assert_eq!(format_uuid(sid), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    }
}
