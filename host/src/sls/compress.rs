//! Body compression: `lz4` is a raw LZ4 block (no frame, no size prefix; the size travels in
//! `x-log-bodyrawsize`), `deflate` is a zlib stream (RFC 1950), `zstd` a standard zstd frame.

use std::io::{Read, Write};
use std::str::FromStr;

/// Largest raw body accepted when decompressing: bounds the allocation a hostile
/// `x-log-bodyrawsize` could ask for (PullLogs returns at most about 1000 groups of 5 MB; PutLogs
/// allows 10 MB).
pub const MAX_RAW_SIZE: usize = 256 << 20;

/// A value of `x-log-compresstype` / `Accept-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// No compression (the header is absent).
    None,
    /// LZ4 raw block, the default of every official SDK.
    #[default]
    Lz4,
    /// zlib stream.
    Deflate,
    /// zstd frame.
    Zstd,
}

impl Compression {
    /// The header value; `""` for none.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Lz4 => "lz4",
            Compression::Deflate => "deflate",
            Compression::Zstd => "zstd",
        }
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "identity" => Ok(Compression::None),
            "lz4" => Ok(Compression::Lz4),
            "deflate" => Ok(Compression::Deflate),
            "zstd" => Ok(Compression::Zstd),
            other => Err(other.to_string()),
        }
    }
}

/// Why a body could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// The declared raw size is above [`MAX_RAW_SIZE`].
    #[error("raw size {0} is above the limit of {MAX_RAW_SIZE} bytes")]
    TooLarge(usize),
    /// The data is corrupt.
    #[error("corrupt {compression} data: {reason}")]
    Corrupt {
        /// The compression.
        compression: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The decompressed length differs from the declared raw size.
    #[error("decompressed {actual} bytes, expected {expected}")]
    SizeMismatch {
        /// Declared in `x-log-bodyrawsize`.
        expected: usize,
        /// Produced.
        actual: usize,
    },
}

/// Compresses `raw`.
pub fn compress(compression: Compression, raw: &[u8]) -> Vec<u8> {
    match compression {
        Compression::None => raw.to_vec(),
        Compression::Lz4 => lz4_flex::block::compress(raw),
        Compression::Deflate => {
            let mut enc = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(raw.len() / 2),
                flate2::Compression::fast(),
            );
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(raw);
            enc.finish().unwrap_or_default()
        }
        // Level 1 as the Go SDK's "SpeedFastest"; encoding into memory cannot fail.
        Compression::Zstd => zstd::bulk::compress(raw, 1).unwrap_or_default(),
    }
}

/// Decompresses `body` that decodes to exactly `raw_size` bytes.
pub fn decompress(
    compression: Compression,
    body: &[u8],
    raw_size: usize,
) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::new();
    let len = decompress_into(compression, body, raw_size, &mut out)?.len();
    out.truncate(len);
    Ok(out)
}

/// [`decompress`] into `buf`, reused between calls (a consumer decompresses megabytes per
/// pull; fresh buffers cost a page fault per 4 KiB). Returns the decompressed bytes, a prefix
/// of `buf`; `buf` may keep more bytes past them.
pub fn decompress_into<'b>(
    compression: Compression,
    body: &[u8],
    raw_size: usize,
    buf: &'b mut Vec<u8>,
) -> Result<&'b [u8], DecompressError> {
    if raw_size > MAX_RAW_SIZE {
        return Err(DecompressError::TooLarge(raw_size));
    }
    let corrupt = |reason: String| DecompressError::Corrupt {
        compression: compression.as_str(),
        reason,
    };
    let len = match compression {
        Compression::None => {
            buf.clear();
            buf.extend_from_slice(body);
            buf.len()
        }
        Compression::Lz4 => {
            // The block decoder writes into an initialized slice: grow (and zero) only what
            // was never used before.
            if buf.len() < raw_size {
                buf.resize(raw_size, 0);
            }
            lz4_flex::block::decompress_into(body, &mut buf[..raw_size])
                .map_err(|e| corrupt(e.to_string()))?
        }
        Compression::Deflate => {
            buf.clear();
            flate2::read::ZlibDecoder::new(body)
                .take(raw_size as u64 + 1)
                .read_to_end(buf)
                .map_err(|e| corrupt(e.to_string()))?
        }
        Compression::Zstd => {
            buf.clear();
            zstd::stream::read::Decoder::new(body)
                .map_err(|e| corrupt(e.to_string()))?
                .take(raw_size as u64 + 1)
                .read_to_end(buf)
                .map_err(|e| corrupt(e.to_string()))?
        }
    };
    if len != raw_size {
        return Err(DecompressError::SizeMismatch {
            expected: raw_size,
            actual: len,
        });
    }
    Ok(&buf[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compression_round_trips_and_checks_the_size() {
        let raw: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for c in [
            Compression::None,
            Compression::Lz4,
            Compression::Deflate,
            Compression::Zstd,
        ] {
            let body = compress(c, &raw);
            assert_eq!(decompress(c, &body, raw.len()).unwrap(), raw, "{c:?}");
            assert!(decompress(c, &body, raw.len() - 1).is_err(), "{c:?}");
        }
        assert!(decompress(Compression::Lz4, b"\xff\xff", 10).is_err());
        // A reused buffer holding a longer earlier body gives exactly the new bytes.
        let mut buf = vec![7u8; raw.len() * 2];
        for c in [Compression::Lz4, Compression::Zstd, Compression::None] {
            let body = compress(c, &raw[..100]);
            assert_eq!(
                decompress_into(c, &body, 100, &mut buf).unwrap(),
                &raw[..100]
            );
        }
        assert!(decompress(Compression::Lz4, b"", MAX_RAW_SIZE + 1).is_err());
    }

    #[test]
    fn lz4_is_a_raw_block_without_size_prefix() {
        // "aaaa" as one literal run: token 0x40, then the bytes; no 4-byte size in front.
        assert_eq!(compress(Compression::Lz4, b"aaaa"), b"\x40aaaa");
        assert_eq!("LZ4".parse::<Compression>(), Ok(Compression::Lz4));
        assert_eq!("".parse::<Compression>(), Ok(Compression::None));
    }
}
