//! A PullLogs response body as a client receives it: compressed (the first byte picks none, lz4,
//! deflate or zstd), with a declared raw size (the next two bytes, as `x-log-bodyrawsize`), then
//! decompressed and decoded as a LogGroupList. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wproc::sls::Compression;

fuzz_target!(|data: &[u8]| {
    let [kind, a, b, body @ ..] = data else {
        return;
    };
    let compression = match kind % 4 {
        0 => Compression::None,
        1 => Compression::Lz4,
        2 => Compression::Deflate,
        _ => Compression::Zstd,
    };
    let raw_size = usize::from(u16::from_le_bytes([*a, *b]));
    if let Ok(raw) = wproc::sls::compress::decompress(compression, body, raw_size) {
        let _ = wproc::sls::proto::decode_log_group_list(&raw);
    }
});
