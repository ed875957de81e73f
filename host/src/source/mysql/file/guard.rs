//! Checks on untrusted binlog bytes that `mysql_common` trusts.
//!
//! `mysql_common` 0.37 sizes some vectors from counts read out of the event
//! (`Vec::with_capacity(n)`) before it checks that the bytes for `n` entries exist. A corrupt
//! count then aborts the process on a failed multi-terabyte allocation, which no `Result` can
//! catch. Found by `tests/tests/bad_input_binlog.rs` (a bit flip in a PREVIOUS_GTIDS count) and
//! the `binlog_file` fuzz target. The checks here run before the event reaches the parser and
//! turn such counts into errors. Only the files path needs them: a live server sends what it
//! wrote.

/// PREVIOUS_GTIDS_EVENT (MySQL 5.6+).
const PREVIOUS_GTIDS_EVENT: u8 = 35;
/// Bytes of a SID entry without intervals: UUID (16) and the interval count (8).
const SID_MIN_BYTES: u64 = 24;
/// Bytes of one GNO interval.
const INTERVAL_BYTES: u64 = 16;

/// Errors when a count declared in `data` (an event's body) exceeds what the body can hold.
pub(super) fn check_declared_counts(type_code: u8, data: &[u8]) -> Result<(), String> {
    if type_code == PREVIOUS_GTIDS_EVENT {
        return check_previous_gtids(data);
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
    if tagged {
        // Tagged entries have variable-length tags; their interval counts are not checked.
        return Ok(());
    }
    let mut at = 8usize;
    for _ in 0..sids {
        let intervals = read_u64(data, at + 16).ok_or("PREVIOUS_GTIDS ends inside a SID")?;
        at += SID_MIN_BYTES as usize;
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
    fn rejects_counts_past_the_body() {
        let error = check_declared_counts(35, &untagged(1 << 40, &[(1, 1)])).unwrap_err();
        assert!(error.contains("SIDs"), "{error}");
        let error = check_declared_counts(35, &untagged(1, &[(1 << 37, 1)])).unwrap_err();
        assert!(error.contains("intervals"), "{error}");
    }
}
