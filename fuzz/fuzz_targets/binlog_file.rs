//! The offline binlog decoder (`wproc binlog dump`) on arbitrary file contents: it must return
//! events or an error, never panic, abort or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wproc::source::mysql::decode_bytes(data);
});
