//! The offline binlog decoder (`wproc binlog dump`) on arbitrary file contents: it must return
//! events or an error, never panic, abort or allocate without bound.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One scratch file per fuzzing process (in /dev/shm when it exists), rewritten per input.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("wproc-fuzz-binlog-{}.000001", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let mut changes = 0u64;
    let _ = wproc::source::mysql::dump_file(path, |_| changes += 1);
});
