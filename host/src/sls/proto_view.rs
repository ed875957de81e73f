//! Borrowed, allocation-free views of serialized LogGroups, for the two hot paths: the server
//! checking a PutLogs body and the consumer reading a PullLogs body.
//!
//! Why not `prost` there: decoding a [`super::proto::LogGroup`] allocates a `String` and a
//! `Vec<u8>` for every key and value (about forty allocations per row change), and the consumer
//! then needs only one value per log (`_wproc_`). `bench/sls.sh` measured prost decoding and
//! dropping at about a third of `wproc run`'s CPU. These views walk the same wire format with
//! `prost::encoding`'s varint and key readers and hand out slices of the body.
//!
//! Invariant: [`scan_log_group`] and [`scan_log_group_list`] accept a body only when every log
//! and content in it is well-formed (lengths fit, known fields have their wire types), so
//! iterating a view never fails afterwards; anything else is a [`ViewError`] naming the
//! group, log and content index. As with prost, a missing field reads as its default (an
//! empty key or value, time 0).

use prost::encoding::{WireType, decode_key, decode_varint};

/// A malformed body: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} (log group {group}, log {log}, content {content})")]
pub struct ViewError {
    /// What is wrong.
    pub what: String,
    /// Index of the group in the list (0 for a single group).
    pub group: usize,
    /// Index of the log in the group, when the error is inside a log.
    pub log: usize,
    /// Index of the content in the log, when the error is inside a content.
    pub content: usize,
}

/// One field of a message: its number and its value.
enum Field<'a> {
    Varint(u64),
    Fixed32(u32),
    Fixed64,
    Bytes(&'a [u8]),
}

/// Reads the next field of a message body, advancing `buf`.
fn next_field<'a>(buf: &mut &'a [u8]) -> Result<(u32, Field<'a>), String> {
    let (tag, wire_type) = decode_key(buf).map_err(|e| e.to_string())?;
    let field = match wire_type {
        WireType::Varint => Field::Varint(decode_varint(buf).map_err(|e| e.to_string())?),
        WireType::ThirtyTwoBit => {
            let (bytes, rest) = buf
                .split_first_chunk::<4>()
                .ok_or("truncated fixed32 field")?;
            *buf = rest;
            Field::Fixed32(u32::from_le_bytes(*bytes))
        }
        WireType::SixtyFourBit => {
            *buf = buf.get(8..).ok_or("truncated fixed64 field")?;
            Field::Fixed64
        }
        WireType::LengthDelimited => {
            let len = decode_varint(buf).map_err(|e| e.to_string())?;
            let len = usize::try_from(len).map_err(|_| "length overflows")?;
            if len > buf.len() {
                return Err(format!("field {tag}: length {len} past the end"));
            }
            let (value, rest) = buf.split_at(len);
            *buf = rest;
            Field::Bytes(value)
        }
        WireType::StartGroup | WireType::EndGroup => {
            return Err(format!("field {tag}: groups are not supported"));
        }
    };
    Ok((tag, field))
}

/// One serialized log.
#[derive(Debug, Clone, Copy)]
pub struct LogView<'a> {
    /// Unix seconds.
    pub time: u32,
    /// The nanosecond part, when present.
    pub time_ns: Option<u32>,
    body: &'a [u8],
}

impl<'a> LogView<'a> {
    /// The contents, in order, as `(key, value)`.
    pub fn contents(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let mut buf = self.body;
        std::iter::from_fn(move || {
            while !buf.is_empty() {
                // Checked by the scan: a failure here cannot happen; stop rather than panic.
                let Ok((tag, field)) = next_field(&mut buf) else {
                    return None;
                };
                if let (2, Field::Bytes(content)) = (tag, field) {
                    return content_parts(content).ok();
                }
            }
            None
        })
    }

    /// The value of the last content named `key`.
    pub fn get(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.contents()
            .filter(|(k, _)| *k == key)
            .last()
            .map(|(_, v)| v)
    }

    /// An owned copy, for code that wants prost's structs.
    pub fn to_log(&self) -> super::proto::Log {
        super::proto::Log {
            time: self.time,
            contents: self
                .contents()
                .map(|(k, v)| super::proto::Content {
                    key: String::from_utf8_lossy(k).into_owned(),
                    value: v.to_vec(),
                })
                .collect(),
            time_ns: self.time_ns,
        }
    }
}

/// The key and value of a serialized content (both required).
fn content_parts(mut buf: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (mut key, mut value) = (None, None);
    while !buf.is_empty() {
        match next_field(&mut buf)? {
            (1, Field::Bytes(k)) => key = Some(k),
            (2, Field::Bytes(v)) => value = Some(v),
            (1 | 2, _) => return Err("key or value is not length-delimited".into()),
            _ => {}
        }
    }
    // As prost does, a missing field reads as empty (the server rejects an empty key).
    Ok((key.unwrap_or_default(), value.unwrap_or_default()))
}

/// One serialized LogGroup: its logs, checked.
#[derive(Debug, Clone, Default)]
pub struct GroupView<'a> {
    /// The logs, in order.
    pub logs: Vec<LogView<'a>>,
    /// `__topic__`, when present.
    pub topic: Option<&'a [u8]>,
    /// `__source__`, when present.
    pub source: Option<&'a [u8]>,
}

/// Checks and indexes one serialized LogGroup. `group` is its index, for errors.
pub fn scan_log_group(bytes: &[u8], group: usize) -> Result<GroupView<'_>, ViewError> {
    let err = |what: String, log: usize, content: usize| ViewError {
        what,
        group,
        log,
        content,
    };
    let mut view = GroupView::default();
    let mut buf = bytes;
    while !buf.is_empty() {
        let index = view.logs.len();
        match next_field(&mut buf).map_err(|w| err(w, index, 0))? {
            (1, Field::Bytes(log)) => view
                .logs
                .push(scan_log(log).map_err(|(w, c)| err(w, index, c))?),
            (3, Field::Bytes(topic)) => view.topic = Some(topic),
            (4, Field::Bytes(source)) => view.source = Some(source),
            (1 | 3 | 4, _) => return Err(err("field of the wrong wire type".into(), index, 0)),
            _ => {}
        }
    }
    Ok(view)
}

/// Checks one serialized log; an error names the content index.
fn scan_log(body: &[u8]) -> Result<LogView<'_>, (String, usize)> {
    let (mut time, mut time_ns, mut contents) = (None, None, 0usize);
    let mut buf = body;
    while !buf.is_empty() {
        match next_field(&mut buf).map_err(|w| (w, contents))? {
            (1, Field::Varint(t)) => {
                time = Some(u32::try_from(t).map_err(|_| (format!("time {t} is not a u32"), 0))?);
            }
            (2, Field::Bytes(content)) => {
                content_parts(content).map_err(|w| (w, contents))?;
                contents += 1;
            }
            (4, Field::Fixed32(ns)) => time_ns = Some(ns),
            (1 | 2 | 4, _) => return Err(("log field of the wrong wire type".into(), contents)),
            _ => {}
        }
    }
    Ok(LogView {
        time: time.unwrap_or_default(),
        time_ns,
        body,
    })
}

/// Checks and indexes a serialized LogGroupList (a PullLogs body after decompression).
pub fn scan_log_group_list(bytes: &[u8]) -> Result<Vec<GroupView<'_>>, ViewError> {
    let mut groups = Vec::new();
    let mut buf = bytes;
    while !buf.is_empty() {
        let index = groups.len();
        let field = next_field(&mut buf).map_err(|what| ViewError {
            what,
            group: index,
            log: 0,
            content: 0,
        })?;
        if let (1, Field::Bytes(group)) = field {
            groups.push(scan_log_group(group, index)?);
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::super::proto::{
        Content, Log, LogGroup, LogTag, decode_log_group, decode_log_group_list, encode_log_group,
        encode_log_group_list_raw,
    };
    use super::*;

    fn group(n: u32) -> LogGroup {
        LogGroup {
            logs: (0..n)
                .map(|i| Log {
                    time: 1_700_000_000 + i,
                    contents: vec![
                        Content::new("_db_", "shop"),
                        Content::new("k", format!("v{i}")),
                        Content::new("k", "last"),
                    ],
                    time_ns: i.is_multiple_of(2).then_some(i),
                })
                .collect(),
            category: None,
            topic: Some("t".into()),
            source: Some("10.0.0.1".into()),
            machine_uuid: None,
            log_tags: vec![LogTag {
                key: "__pack_id__".into(),
                value: "1-1".into(),
            }],
        }
    }

    #[test]
    fn views_see_what_prost_decodes() {
        let groups = [group(3), group(1)];
        let encoded: Vec<Vec<u8>> = groups.iter().map(encode_log_group).collect();
        let list = encode_log_group_list_raw(encoded.iter().map(Vec::as_slice));
        let views = scan_log_group_list(&list).unwrap();
        assert_eq!(views.len(), 2);
        for (view, group) in views.iter().zip(&groups) {
            assert_eq!(view.topic, Some(&b"t"[..]));
            assert_eq!(view.source, Some(&b"10.0.0.1"[..]));
            let logs: Vec<Log> = view.logs.iter().map(LogView::to_log).collect();
            assert_eq!(logs, group.logs);
            assert_eq!(view.logs[0].get(b"k"), Some(&b"last"[..]));
            assert_eq!(view.logs[0].get(b"none"), None);
        }
    }

    #[test]
    fn whatever_prost_rejects_a_scan_rejects_and_nothing_panics() {
        let good = encode_log_group(&group(2));
        let list = encode_log_group_list_raw([good.as_slice()]);
        for cut in 0..list.len() {
            let bytes = &list[..cut];
            if decode_log_group_list(bytes).is_err() {
                assert!(scan_log_group_list(bytes).is_err(), "cut at {cut}");
            }
        }
        for cut in 0..good.len() {
            if decode_log_group(&good[..cut]).is_err() {
                assert!(scan_log_group(&good[..cut], 0).is_err(), "cut at {cut}");
            }
        }
        // As with prost, a content without a value and a log without a time read as empty.
        let view = scan_log_group(b"\x0a\x05\x12\x03\x0a\x01k", 0).unwrap();
        assert_eq!(view.logs[0].time, 0);
        assert_eq!(
            view.logs[0].contents().collect::<Vec<_>>(),
            [(&b"k"[..], &b""[..])]
        );
        for junk in [
            &b"\xff"[..],
            b"\x0a\xff\xff\xff\xff\x0f",
            b"\x0b",
            b"\x0a\x02\x0a",
        ] {
            let _ = scan_log_group_list(junk);
            let _ = scan_log_group(junk, 0);
        }
    }
}
