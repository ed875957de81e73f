//! The SLS protobuf messages (proto2), derived by hand with `prost` so that no `protoc` or build
//! script is needed. Field numbers follow the official `log.proto` (see the protocol notes, §4).
//!
//! `Content.Value` is decoded as bytes: the wire format is identical to `string`, and a server must
//! not reject non-UTF-8 values that another client wrote. [`Content::value_str`] gives the UTF-8
//! view when there is one.

use prost::Message;

/// One key/value pair of a log.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Content {
    /// The key.
    #[prost(string, required, tag = "1")]
    pub key: String,
    /// The value: a string on the wire, kept as bytes.
    #[prost(bytes = "vec", required, tag = "2")]
    pub value: Vec<u8>,
}

impl Content {
    /// A content from a key and a string value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into().into_bytes(),
        }
    }

    /// The value as UTF-8, when it is.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

/// One log: a time and its contents.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Log {
    /// Unix seconds.
    #[prost(uint32, required, tag = "1")]
    pub time: u32,
    /// The key/value pairs, in order.
    #[prost(message, repeated, tag = "2")]
    pub contents: Vec<Content>,
    /// The nanosecond part of the time.
    #[prost(fixed32, optional, tag = "4")]
    pub time_ns: Option<u32>,
}

/// A tag of a log group (`__receive_time__`, `__pack_id__`, user tags).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct LogTag {
    /// The key.
    #[prost(string, required, tag = "1")]
    pub key: String,
    /// The value.
    #[prost(string, required, tag = "2")]
    pub value: String,
}

/// The unit of PutLogs and PullLogs: logs sharing topic, source and tags.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct LogGroup {
    /// The logs.
    #[prost(message, repeated, tag = "1")]
    pub logs: Vec<Log>,
    /// Reserved ("Category"; Python calls it "Reserved").
    #[prost(string, optional, tag = "2")]
    pub category: Option<String>,
    /// The topic (`__topic__`).
    #[prost(string, optional, tag = "3")]
    pub topic: Option<String>,
    /// The source (`__source__`), usually the writer's address.
    #[prost(string, optional, tag = "4")]
    pub source: Option<String>,
    /// The machine UUID (Logtail).
    #[prost(string, optional, tag = "5")]
    pub machine_uuid: Option<String>,
    /// The tags.
    #[prost(message, repeated, tag = "6")]
    pub log_tags: Vec<LogTag>,
}

impl LogGroup {
    /// The value of tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.log_tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// The PullLogs response body (after decompression).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct LogGroupList {
    /// The groups, in shard order.
    #[prost(message, repeated, tag = "1")]
    pub log_groups: Vec<LogGroup>,
}

/// Decodes one serialized [`LogGroup`] (a PutLogs body after decompression). Never panics: any
/// malformed input is an error.
pub fn decode_log_group(bytes: &[u8]) -> Result<LogGroup, prost::DecodeError> {
    LogGroup::decode(bytes)
}

/// Decodes a serialized [`LogGroupList`] (a PullLogs body after decompression). Never panics:
/// any malformed input is an error. This is the fuzzing entry point for PullLogs bodies.
pub fn decode_log_group_list(bytes: &[u8]) -> Result<LogGroupList, prost::DecodeError> {
    LogGroupList::decode(bytes)
}

/// Decompresses and decodes a whole PullLogs response body, as the client does: `compression`
/// from `x-log-compresstype`, `raw_size` from `x-log-bodyrawsize`. Never panics; the raw size is
/// capped at [`super::compress::MAX_RAW_SIZE`]. This is the fuzzing entry point for PullLogs
/// bodies (`fuzz_target!(|d: (u8, u16, &[u8])| { ... })`).
pub fn decode_pull_body(
    compression: super::compress::Compression,
    body: &[u8],
    raw_size: usize,
) -> Result<LogGroupList, String> {
    let raw =
        super::compress::decompress(compression, body, raw_size).map_err(|e| e.to_string())?;
    decode_log_group_list(&raw).map_err(|e| e.to_string())
}

/// Encodes a [`LogGroup`].
pub fn encode_log_group(group: &LogGroup) -> Vec<u8> {
    group.encode_to_vec()
}

/// Encodes a list of already-serialized LogGroups as a `LogGroupList` without decoding them:
/// each is field 1, length-delimited. The server stores serialized groups and uses this on
/// PullLogs.
pub fn encode_log_group_list_raw<'a>(groups: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for g in groups {
        prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut out);
        prost::encoding::encode_varint(g.len() as u64, &mut out);
        out.extend_from_slice(g);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LogGroup {
        LogGroup {
            logs: vec![Log {
                time: 1_700_000_000,
                contents: vec![Content::new("a", "1"), Content::new("b", "x")],
                time_ns: Some(5),
            }],
            category: None,
            topic: Some("t".into()),
            source: Some("s".into()),
            machine_uuid: None,
            log_tags: vec![LogTag {
                key: "__pack_id__".into(),
                value: "1-1".into(),
            }],
        }
    }

    #[test]
    fn round_trips_through_a_raw_list() {
        let g = sample();
        let bytes = encode_log_group(&g);
        let list =
            decode_log_group_list(&encode_log_group_list_raw([bytes.as_slice(), &bytes])).unwrap();
        assert_eq!(list.log_groups, vec![g.clone(), g]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &b"\x0a\xff\xff\xff\xff\x0f"[..],
            b"\x0a\x02\x0a",
            b"\xff",
            b"\x0a\x00",
        ] {
            let _ = decode_log_group_list(input);
            let _ = decode_log_group(input);
        }
    }

    #[test]
    fn pull_bodies_decode_through_every_compression() {
        use super::super::compress::{Compression, compress};
        let raw = encode_log_group_list_raw([encode_log_group(&sample()).as_slice()]);
        for c in [
            Compression::None,
            Compression::Lz4,
            Compression::Zstd,
            Compression::Deflate,
        ] {
            let list = decode_pull_body(c, &compress(c, &raw), raw.len()).unwrap();
            assert_eq!(list.log_groups, vec![sample()]);
            // Truncated bodies and wrong sizes are errors, not panics.
            let body = compress(c, &raw);
            let _ = decode_pull_body(c, &body[..body.len() / 2], raw.len());
            assert!(decode_pull_body(c, &body, raw.len() + 1).is_err());
        }
    }

    #[test]
    fn non_utf8_values_survive() {
        let mut g = sample();
        g.logs[0].contents[0].value = vec![0xff, 0xfe];
        let back = decode_log_group(&encode_log_group(&g)).unwrap();
        assert_eq!(back.logs[0].contents[0].value, vec![0xff, 0xfe]);
        assert_eq!(back.logs[0].contents[0].value_str(), None);
    }
}
