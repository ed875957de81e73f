//! Checks on untrusted binlog bytes that `mysql_common` trusts.
//!
//! `mysql_common` 0.37 sizes some vectors from counts read out of the event
//! (`Vec::with_capacity(n)`) before it checks that the bytes for `n` entries exist. A corrupt
//! count then aborts the process on a failed multi-terabyte allocation, which no `Result` can
//! catch. Found by `tests/tests/bad_input_binlog.rs` (a bit flip in a PREVIOUS_GTIDS count) and
//! the `binlog_file` fuzz target. Its TRANSACTION_PAYLOAD header parser unwraps the compression
//! type, narrows an unknown field type to a byte with an unwrap, and skips unknown fields by
//! their declared length without a bounds check: all panics.
//! The checks here run before the event reaches the parser and turn such counts into errors.
//! Only the files path needs them: a live server sends what it wrote.

/// PREVIOUS_GTIDS_EVENT (MySQL 5.6+).
const PREVIOUS_GTIDS_EVENT: u8 = 35;
/// Bytes of a SID entry without intervals: UUID (16) and the interval count (8).
const SID_MIN_BYTES: u64 = 24;
/// Bytes of one GNO interval.
const INTERVAL_BYTES: u64 = 16;

/// TRANSACTION_PAYLOAD_EVENT (MySQL 8.0.20+).
const TRANSACTION_PAYLOAD_EVENT: u8 = 40;
/// The compression types `mysql_common` knows: zstd and none.
const PAYLOAD_COMPRESSIONS: [u64; 2] = [0, 255];

/// Errors when a count declared in `data` (an event's body) exceeds what the body can hold.
pub(super) fn check_declared_counts(type_code: u8, data: &[u8]) -> Result<(), String> {
    match type_code {
        PREVIOUS_GTIDS_EVENT => check_previous_gtids(data),
        TRANSACTION_PAYLOAD_EVENT => check_transaction_payload(data),
        _ => Ok(()),
    }
}

/// A length-encoded integer as `ParseBuf::eat_lenenc_int` reads it (0xfb and 0xff are 0);
/// `None` when `data` ends inside it. Also used by the TABLE_MAP label check of the schema.
pub(in crate::source::mysql) fn lenenc(data: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = data.split_first()?;
    let width = match first {
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => 0,
    };
    let bytes = rest.get(..width)?;
    *data = &rest[width..];
    Some(match first {
        0xfb | 0xff => 0,
        0xfc..=0xfe => bytes
            .iter()
            .rev()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b)),
        x => u64::from(x),
    })
}

/// The TRANSACTION_PAYLOAD header: `(type, length, value)` fields up to an end mark, each a
/// length-encoded integer. Walked as `mysql_common` does; only what would make it panic is an
/// error here (an unknown compression type, an unknown field longer than the body). Anything
/// else it reports itself.
fn check_transaction_payload(data: &[u8]) -> Result<(), String> {
    // `read_lenenc_int` (the parser's checked read for known fields) rejects 0xfb and 0xff.
    let strict = |data: &mut &[u8]| match data.first() {
        Some(0xfb | 0xff) | None => None,
        Some(_) => lenenc(data),
    };
    let mut rest = data;
    while !rest.is_empty() {
        let Some(field) = strict(&mut rest) else {
            return Ok(());
        };
        match field {
            0 => return Ok(()),
            1..=3 => {
                let (Some(_), Some(value)) = (strict(&mut rest), strict(&mut rest)) else {
                    return Ok(());
                };
                if field == 2 && !PAYLOAD_COMPRESSIONS.contains(&value) {
                    return Err(format!(
                        "TRANSACTION_PAYLOAD has unknown compression type {value} \
                         (0 is zstd, 255 none)"
                    ));
                }
            }
            // The parser converts an unknown field type to u8 with an unwrap.
            256.. => {
                return Err(format!(
                    "TRANSACTION_PAYLOAD has field type {field}, above 255"
                ));
            }
            _ => {
                let length =
                    lenenc(&mut rest).ok_or("TRANSACTION_PAYLOAD ends inside a field's length")?;
                if length > rest.len() as u64 {
                    return Err(format!(
                        "TRANSACTION_PAYLOAD field {field} declares {length} bytes but {} remain",
                        rest.len()
                    ));
                }
                rest = &rest[length as usize..];
            }
        }
    }
    Ok(())
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

fn check_previous_gtids(data: &[u8]) -> Result<(), String> {
    // A body too short for the header is reported by the parser itself.
    let Some(header) = read_u64(data, 0) else {
        return Ok(());
    };
    let tagged = header >> 56 != 0;
    let sids = if tagged {
        (header >> 8) & ((1 << 48) - 1)
    } else {
        header & ((1 << 56) - 1)
    };
    let body = data.len() as u64 - 8;
    if sids > body / SID_MIN_BYTES {
        return Err(format!(
            "PREVIOUS_GTIDS declares {sids} SIDs but has {body} bytes for them"
        ));
    }
    let mut at = 8usize;
    for _ in 0..sids {
        at += 16; // the UUID
        if tagged {
            // The tag: its length as a variable-length integer, then its bytes.
            let (tag_len, width) = data
                .get(at..)
                .and_then(varlen_uint)
                .ok_or("PREVIOUS_GTIDS ends inside a SID")?;
            at += width;
            if tag_len > data.len().saturating_sub(at) as u64 {
                return Err(format!("PREVIOUS_GTIDS declares a {tag_len}-byte tag"));
            }
            at += tag_len as usize;
        }
        let intervals = read_u64(data, at).ok_or("PREVIOUS_GTIDS ends inside a SID")?;
        at += 8;
        let left = (data.len() - at) as u64;
        if intervals > left / INTERVAL_BYTES {
            return Err(format!(
                "PREVIOUS_GTIDS declares {intervals} intervals but has {left} bytes for them"
            ));
        }
        at += (intervals * INTERVAL_BYTES) as usize;
    }
    Ok(())
}

/// MySQL's variable-length unsigned integer as `mysql_common::misc::read_varlen_uint` reads it
/// (the count of trailing one bits of the first byte gives the length); the value and the bytes
/// it takes, `None` when `data` ends inside it.
fn varlen_uint(data: &[u8]) -> Option<(u64, usize)> {
    let first = *data.first()?;
    let ones = first.trailing_ones() as usize;
    if ones == 8 {
        let raw: [u8; 8] = data.get(1..9)?.try_into().ok()?;
        return Some((u64::from_le_bytes(raw), 9));
    }
    let width = ones + 1;
    let mut raw = [0u8; 8];
    raw[..width].copy_from_slice(data.get(..width)?);
    Some((u64::from_le_bytes(raw) >> width, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn untagged(sids: u64, entries: &[(u64, usize)]) -> Vec<u8> {
        let mut data = sids.to_le_bytes().to_vec();
        for (declared, present) in entries {
            data.extend_from_slice(&[7u8; 16]);
            data.extend_from_slice(&declared.to_le_bytes());
            data.extend(std::iter::repeat_n(0u8, present * 16));
        }
        data
    }

    #[test]
    fn accepts_counts_the_body_holds() {
        assert!(check_declared_counts(35, &untagged(2, &[(1, 1), (3, 3)])).is_ok());
        assert!(check_declared_counts(35, &untagged(0, &[])).is_ok());
        assert!(check_declared_counts(35, &[1, 2]).is_ok());
    }

    #[test]
    fn transaction_payload_headers_that_would_panic_the_parser_are_errors() {
        // zstd, 179 bytes uncompressed, 2 bytes of payload, end mark: a real header.
        assert!(check_declared_counts(40, b"\x02\x01\x00\x03\x01\xb3\x01\x01\x02\x00ab").is_ok());
        // Compression type 255 (none), length-encoded as 0xfc 0xff 0x00.
        assert!(check_declared_counts(40, b"\x02\x03\xfc\xff\x00\x01\x01\x00\x00").is_ok());
        // Compression type 7: `TryFrom` unwrapped in the parser.
        let error = check_declared_counts(40, b"\x02\x01\x07\x01\x01\x00\x00").unwrap_err();
        assert!(error.contains("compression type 7"), "{error}");
        // Unknown field 9 declaring 200 bytes, 1 present: an unchecked skip in the parser.
        let error = check_declared_counts(40, b"\x09\xc8x").unwrap_err();
        assert!(error.contains("200 bytes"), "{error}");
        // Unknown field whose length is cut off (0xfc needs two more bytes).
        assert!(check_declared_counts(40, b"\x09\xfc\x01").is_err());
        assert!(check_declared_counts(40, b"\x09").is_err());
        // Field type 300 (0xfc 0x2c 0x01): narrowed to u8 with an unwrap in the parser.
        let error = check_declared_counts(40, b"\xfc\x2c\x01\x00").unwrap_err();
        assert!(error.contains("field type 300"), "{error}");
        // Truncated known fields are left to the parser, which reports them.
        assert!(check_declared_counts(40, b"\x02\x01").is_ok());
    }

    #[test]
    fn rejects_counts_past_the_body() {
        let error = check_declared_counts(35, &untagged(1 << 40, &[(1, 1)])).unwrap_err();
        assert!(error.contains("SIDs"), "{error}");
        let error = check_declared_counts(35, &untagged(1, &[(1 << 37, 1)])).unwrap_err();
        assert!(error.contains("intervals"), "{error}");
    }

    /// A tagged PREVIOUS_GTIDS (format 1): per SID its UUID, tag, interval count and intervals.
    fn tagged(entries: &[(&[u8], u64, usize)]) -> Vec<u8> {
        let header: u64 = (1 << 56) | ((entries.len() as u64) << 8) | 1;
        let mut data = header.to_le_bytes().to_vec();
        for (tag, declared, present) in entries {
            data.extend_from_slice(&[7u8; 16]);
            // Tag length as a 1-byte varlen integer: the value shifted left by one.
            data.push((tag.len() as u8) << 1);
            data.extend_from_slice(tag);
            data.extend_from_slice(&declared.to_le_bytes());
            data.extend(std::iter::repeat_n(0u8, present * 16));
        }
        data
    }

    /// Fuzzing (panic, "capacity overflow"): an interval count of a tagged SID, which was not
    /// checked, times 16 bytes overflowed `Vec::with_capacity` in the parser.
    #[test]
    fn tagged_counts_are_checked_too() {
        assert!(check_declared_counts(35, &tagged(&[(b"ab", 1, 1), (b"", 2, 2)])).is_ok());
        assert_eq!(varlen_uint(&[0x04]), Some((2, 1)));
        let error = check_declared_counts(35, &tagged(&[(b"ab", u64::MAX / 2, 1)])).unwrap_err();
        assert!(error.contains("intervals"), "{error}");
        let mut long_tag = tagged(&[(b"ab", 1, 1)]);
        long_tag[8 + 16] = 100 << 1;
        let error = check_declared_counts(35, &long_tag).unwrap_err();
        assert!(error.contains("100-byte tag"), "{error}");
    }
}
