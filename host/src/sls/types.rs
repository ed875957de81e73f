//! Values shared by the client and the server: cursors and the JSON bodies of the control calls.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The sequence number a cursor stands for. Real SLS cursors are base64 of a decimal integer
/// (`MTQ0NzMyOTQwMTEwMjEzMDkwNA==` is `1447329401102130904`); the local server numbers the
/// LogGroups of a shard 0, 1, 2, … and uses the same encoding.
pub fn cursor_to_seq(cursor: &str) -> Option<u64> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor.trim())
        .ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The cursor of sequence number `seq` (see [`cursor_to_seq`]).
pub fn seq_to_cursor(seq: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(seq.to_string())
}

/// The first key of the MD5 range: shard 0 of a fresh logstore begins here.
pub const MIN_HASH_KEY: &str = "00000000000000000000000000000000";
/// The (exclusive) end of the MD5 range.
pub const MAX_HASH_KEY: &str = "ffffffffffffffffffffffffffffffff";

/// The hash key for routing a record by `key` (as the official producers do: lowercase hex MD5).
/// Records with the same key land on the same shard, in order.
pub fn hash_key_for(key: &[u8]) -> String {
    super::sign::content_md5(key).to_ascii_lowercase()
}

/// Where GetCursor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorFrom {
    /// The oldest retained LogGroup.
    Begin,
    /// After the newest LogGroup: where the next write lands.
    End,
    /// The first LogGroup received at or after this unix time (seconds).
    Time(u32),
}

impl CursorFrom {
    /// The `from=` query value.
    pub fn query_value(self) -> String {
        match self {
            CursorFrom::Begin => "begin".into(),
            CursorFrom::End => "end".into(),
            CursorFrom::Time(t) => t.to_string(),
        }
    }
}

/// One shard as ListShards returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// The shard id.
    #[serde(rename = "shardID")]
    pub shard_id: u32,
    /// `readwrite` or `readonly`.
    pub status: String,
    /// First hash key of the shard's range (32 hex digits).
    #[serde(rename = "inclusiveBeginKey")]
    pub inclusive_begin_key: String,
    /// End of the range, exclusive.
    #[serde(rename = "exclusiveEndKey")]
    pub exclusive_end_key: String,
    /// Creation time, unix seconds.
    #[serde(rename = "createTime", default)]
    pub create_time: i64,
}

impl ShardInfo {
    /// Whether the shard accepts writes.
    pub fn is_writable(&self) -> bool {
        self.status.eq_ignore_ascii_case("readwrite")
    }

    /// Whether `hash_key` (32 hex digits, any case) falls in this shard's range.
    pub fn contains_key(&self, hash_key: &str) -> bool {
        let k = hash_key.to_ascii_lowercase();
        k.as_str() >= self.inclusive_begin_key.to_ascii_lowercase().as_str()
            && k.as_str() < self.exclusive_end_key.to_ascii_lowercase().as_str()
    }
}

/// One consumer group as ListConsumerGroup returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupInfo {
    /// The group name.
    pub name: String,
    /// Seconds without heartbeat after which a consumer is dropped.
    pub timeout: u32,
    /// Whether split/merged parents are consumed before children.
    pub order: bool,
}

/// One shard's checkpoint as GetCheckpoint returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerCheckpoint {
    /// The shard.
    pub shard: u32,
    /// The cursor of the first unprocessed LogGroup; `""` when never set.
    pub checkpoint: String,
    /// When it was last updated (the server's clock; microseconds on the real service).
    #[serde(rename = "updateTime", default)]
    pub update_time: i64,
    /// The consumer that last updated it (`""` when none).
    #[serde(default)]
    pub consumer: String,
}

/// The error body of every failed call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// E.g. `ShardNotExist`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// Human text.
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_base64_decimals() {
        assert_eq!(
            cursor_to_seq("MTQ0NzMyOTQwMTEwMjEzMDkwNA=="),
            Some(1_447_329_401_102_130_904)
        );
        assert_eq!(seq_to_cursor(0), "MA==");
        for seq in [0, 1, 9, 10, 12345, u64::MAX] {
            assert_eq!(cursor_to_seq(&seq_to_cursor(seq)), Some(seq));
        }
        for bad in ["", "!!", "YWJj", "LTE="] {
            assert_eq!(cursor_to_seq(bad), None, "{bad}");
        }
    }

    #[test]
    fn shard_ranges_contain_their_keys() {
        let s = ShardInfo {
            shard_id: 0,
            status: "readwrite".into(),
            inclusive_begin_key: MIN_HASH_KEY.into(),
            exclusive_end_key: "80000000000000000000000000000000".into(),
            create_time: 0,
        };
        assert!(s.contains_key(MIN_HASH_KEY));
        assert!(s.contains_key("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"));
        assert!(!s.contains_key("80000000000000000000000000000000"));
        assert_eq!(hash_key_for(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
