//! The high-water mark of a shard: the last binlog position wproc wrote before a cursor.
//!
//! Both halves rely on the invariant stated in the module docs of [`super`]: in a shard, the
//! largest event position of each LogGroup written by wproc is at least that of every earlier
//! group. So the position of the last typed log in the last group before a cursor is the largest
//! position before it, and one PullLogs of one group (scanning back over groups without typed
//! logs) finds it.

use crate::event::EventPosition;
use crate::sls::{CursorFrom, SlsClient, cursor_to_seq, seq_to_cursor};

use super::error::SlsTransportError;
use super::wire;

/// Most groups scanned back for one with typed logs (others may share the logstore).
const SCAN_BACK_GROUPS: u64 = 64;

/// The sequence number of a cursor, or an error naming it.
pub(crate) fn seq_of(logstore: &str, shard: u32, cursor: &str) -> Result<u64, SlsTransportError> {
    cursor_to_seq(cursor).ok_or_else(|| SlsTransportError::Cursor {
        logstore: logstore.to_owned(),
        shard,
        cursor: cursor.to_owned(),
    })
}

/// The largest position of wproc's logs in `shard` before sequence `before`; `None` when the
/// shard holds none there (within [`SCAN_BACK_GROUPS`] groups).
pub(crate) async fn last_position_before(
    client: &SlsClient,
    logstore: &str,
    shard: u32,
    before: u64,
) -> Result<Option<EventPosition>, SlsTransportError> {
    let begin_cursor = client
        .get_cursor(logstore, shard, CursorFrom::Begin)
        .await?;
    let begin = seq_of(logstore, shard, &begin_cursor)?;
    let mut seq = before;
    while seq > begin && before - seq < SCAN_BACK_GROUPS {
        seq -= 1;
        let cursor = seq_to_cursor(seq);
        let pulled = client.pull_logs(logstore, shard, &cursor, 1, None).await?;
        let mut last = None;
        for (index, log) in pulled.groups.iter().flat_map(|g| &g.logs).enumerate() {
            if !wire::is_typed(log) {
                continue;
            }
            let event =
                wire::WireDecoder::new()
                    .decode(log)
                    .map_err(|source| SlsTransportError::Wire {
                        logstore: logstore.to_owned(),
                        shard,
                        cursor: cursor.clone(),
                        index,
                        source,
                    })?;
            if last.as_ref().is_none_or(|l| event.pos > *l) {
                last = Some(event.pos);
            }
        }
        if last.is_some() {
            return Ok(last);
        }
    }
    Ok(None)
}
