//! Bad input for `wproc binlog dump`: every recorded fixture binlog, plus truncated and
//! bit-flipped copies of each, run through the real binary. None may panic (exit 101) or die on a
//! signal; a failure is exit code 1 with an error naming the file and a byte offset.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wproc_tests::{Lcg, repo_root, wproc_bin};

/// Longest one dump may take before it counts as a hang.
const DUMP_TIMEOUT: Duration = Duration::from_secs(60);
/// Bit-flipped copies per fixture.
const FLIPS_PER_FIXTURE: u64 = 6;

/// `shared/fixtures/binlogs/mysql-common` beside the checkout, or under `$WPROC_SHARED_DIR`.
fn fixture_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("WPROC_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"));
    let dir = shared.join("fixtures/binlogs/mysql-common");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the shared binlog fixtures are missing at {} (required under CI)",
        dir.display()
    );
    eprintln!(
        "skipping: no shared binlog fixtures at {} (they live beside the checkout)",
        dir.display()
    );
    None
}

/// What one dump did.
struct Outcome {
    code: Option<i32>,
    stderr: String,
}

fn dump(path: &Path) -> Outcome {
    let mut child = Command::new(wproc_bin())
        .args(["-q", "binlog", "dump"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", wproc_bin().display()));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for wproc") {
            break status;
        }
        if started.elapsed() > DUMP_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "wproc binlog dump {} hung for {DUMP_TIMEOUT:?}",
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.code(),
        stderr: reader.join().unwrap_or_default(),
    }
}

/// Whether `text` holds `name:OFFSET` (the file name, a colon and digits).
fn names_file_and_offset(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let rest = &text[at + name.len()..];
        rest.strip_prefix(':')
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Whether the dump succeeded (false) or failed clearly (true); `Err` says what went wrong.
fn check(path: &Path, what: &str) -> Result<bool, String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let outcome = dump(path);
    match outcome.code {
        Some(0) => Ok(false),
        Some(1) if !names_file_and_offset(&outcome.stderr, &name) => Err(format!(
            "{what}: the error does not name {name}:OFFSET: {}",
            outcome.stderr
        )),
        Some(1) => Ok(true),
        other => {
            let label: String = what
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bad-input-{label}"));
            let _ = std::fs::copy(path, &kept);
            Err(format!(
                "{what}: wproc binlog dump exited with {other:?} (101 is a panic, None a \
                 signal); input kept as {}:\n{}",
                kept.display(),
                outcome
                    .stderr
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
        }
    }
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("LICENSE")
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "expected the 41 shared fixtures, found {}",
        files.len()
    );
    files
}

#[test]
fn checker_recognises_file_and_offset() {
    assert!(names_file_and_offset(
        "x: binlog file at a.000001:1234: bad",
        "a.000001"
    ));
    assert!(!names_file_and_offset("x: a.000001: bad", "a.000001"));
    assert!(!names_file_and_offset("x: b.000001:12", "a.000001"));
}

#[test]
fn every_fixture_dumps_or_fails_clearly() {
    let Some(dir) = fixture_dir() else { return };
    let (mut failed, mut problems) = (Vec::new(), Vec::new());
    for path in fixtures(&dir) {
        match check(&path, &format!("fixture {}", path.display())) {
            Ok(true) => failed.push(path.file_name().unwrap().to_string_lossy().into_owned()),
            Ok(false) => {}
            Err(problem) => problems.push(problem),
        }
    }
    eprintln!("fixtures that end in a clear error: {failed:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn truncated_copies_fail_clearly() {
    let Some(dir) = fixture_dir() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let mut rng = Lcg::new(0x7275_6e63);
    let (mut runs, mut problems) = (0, Vec::new());
    for path in fixtures(&dir) {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Inside the magic, inside the first event header, and at random points after it.
        let mut cuts = vec![2, 4 + 10];
        for _ in 0..3 {
            if bytes.len() > 40 {
                cuts.push(23 + rng.next(bytes.len() as u64 - 24) as usize);
            }
        }
        for cut in cuts.into_iter().filter(|c| *c < bytes.len()) {
            let copy = scratch.path().join(&name);
            std::fs::write(&copy, &bytes[..cut]).unwrap();
            match check(&copy, &format!("{name} cut at {cut}")) {
                // A cut inside the magic or the first header can never decode.
                Ok(false) if cut <= 23 => problems.push(format!("{name} cut at {cut} decoded")),
                Ok(_) => {}
                Err(problem) => problems.push(problem),
            }
            runs += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("{runs} truncated copies: no panic, every failure names file and offset");
}

#[test]
fn bit_flipped_copies_never_panic() {
    let Some(dir) = fixture_dir() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let mut rng = Lcg::new(0x666c_6970);
    let (mut runs, mut errors, mut problems) = (0, 0, Vec::new());
    for path in fixtures(&dir) {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if bytes.len() <= 4 {
            continue;
        }
        for flip in 0..FLIPS_PER_FIXTURE {
            let mut copy_bytes = bytes.clone();
            // Flip 1 to 4 bits after the magic.
            for _ in 0..=rng.next(4) {
                let at = 4 + rng.next(bytes.len() as u64 - 4) as usize;
                copy_bytes[at] ^= 1 << rng.next(8);
            }
            let copy = scratch.path().join(&name);
            std::fs::write(&copy, &copy_bytes).unwrap();
            match check(&copy, &format!("{name} flip #{flip}")) {
                Ok(failed) => errors += usize::from(failed),
                Err(problem) => problems.push(problem),
            }
            runs += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("{runs} bit-flipped copies: no panic; {errors} ended in a clear error");
}
