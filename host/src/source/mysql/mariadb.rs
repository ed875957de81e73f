//! MariaDB-specific events that `mysql_common` does not parse.

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
/// First and last of MariaDB's compressed QUERY and rows events (165-171).
pub(crate) const COMPRESSED_EVENTS: std::ops::RangeInclusive<u8> = 165..=171;

/// Parses a GTID_EVENT body (`seq_no u64, domain_id u32, flags u8, …`) into
/// `domain-server-seq`, e.g. `0-101-265`.
pub(crate) fn gtid_from_event(body: &[u8], server_id: u32) -> Option<String> {
    let seq = u64::from_le_bytes(body.get(0..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    Some(format!("{domain}-{server_id}-{seq}"))
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
        assert_eq!(gtid_from_event(&body, 101).as_deref(), Some("0-101-265"));
        assert_eq!(gtid_from_event(&body[..5], 101), None);
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
