//! Misbehaves on purpose, for the host's sandbox and error-policy tests.
//!
//! Config (`key=value` pairs, comma-separated):
//! `mode=loop|alloc|panic|error|reject|probe|none, at=process|init, table=NAME, message=TEXT,
//! kind=invalid-input|unsupported|other`
//!
//! - `mode`: `loop` spins forever (stopped by the CPU deadline); `alloc` allocates and
//!   touches 1 MiB blocks until the memory cap; `panic` panics with `message`; `error`
//!   returns a typed error (`kind`, `message`); `reject` keeps the batch but rejects the
//!   events of `table` (partial success); `probe` tries what the sandbox must deny (read
//!   `/etc/passwd`, list the environment and arguments), prints to stdout and stderr, and
//!   keeps every event with the findings in columns `probe_fs` (`ok` or the error),
//!   `probe_env` and `probe_args` (counts); `none` (default) passes everything on.
//! - `at`: misbehave in `init` or in `process` (default).
//! - `table`: in `process`, misbehave only for batches that contain an event of this table
//!   (`table` or `db.table`); other batches pass through. A host test can send a bad
//!   batch, then a good one, and check that a fresh instance processes the good one.
//!
//! Example: `mode=panic, table=boom, message=guest bug`.

use wproc_sdk::config::KeyValues;
use wproc_sdk::{Batch, Error, Image, Output, Result, Transform};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    Loop,
    Alloc,
    Panic,
    Error,
    Reject,
    Probe,
}

/// The misbehave transform.
pub struct Misbehave {
    mode: Mode,
    table: Option<String>,
    message: String,
    kind: String,
}

impl Misbehave {
    /// Does the misbehaving; returns only for `error` and `none`.
    fn act(&self) -> Result<()> {
        match self.mode {
            Mode::None | Mode::Reject | Mode::Probe => Ok(()),
            Mode::Loop => spin(),
            Mode::Alloc => exhaust_memory(),
            Mode::Panic => panic!("{}", self.message),
            Mode::Error => Err(match self.kind.as_str() {
                "invalid-input" => Error::InvalidInput(self.message.clone()),
                "unsupported" => Error::Unsupported(self.message.clone()),
                _ => Error::Other(self.message.clone()),
            }),
        }
    }
}

/// Spins forever (the host's deadline must stop it).
fn spin() -> ! {
    let mut i: u64 = 0;
    loop {
        i = std::hint::black_box(i.wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB blocks until allocation fails (the host's cap must stop it).
fn exhaust_memory() -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let block = vec![blocks.len() as u8 | 1; 1 << 20];
        blocks.push(std::hint::black_box(block));
    }
}

/// Tries the file system, the environment and the arguments; records what it got.
fn probe(batch: &Batch<'_>, out: &mut Output) {
    println!("probe: hello from stdout");
    eprintln!("probe: hello from stderr");
    let fs = match std::fs::read_to_string("/etc/passwd") {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    let env = std::env::vars().count() as i64;
    let args = std::env::args().count() as i64;
    for e in batch.events() {
        out.keep(&e)
            .set(Image::After, "probe_fs", fs.as_str())
            .set(Image::After, "probe_env", env)
            .set(Image::After, "probe_args", args);
    }
}

impl Transform for Misbehave {
    fn init(config: &str) -> Result<Self> {
        let kv = KeyValues::parse(config)?;
        kv.only(&["mode", "at", "table", "message", "kind"])?;
        let mode = match kv.get_or("mode", "none") {
            "none" => Mode::None,
            "loop" => Mode::Loop,
            "alloc" => Mode::Alloc,
            "panic" => Mode::Panic,
            "error" => Mode::Error,
            "reject" => Mode::Reject,
            "probe" => Mode::Probe,
            m => return Err(Error::InvalidInput(format!("config: unknown mode {m:?}"))),
        };
        let kind = kv.get_or("kind", "other").to_owned();
        if !["invalid-input", "unsupported", "other"].contains(&kind.as_str()) {
            return Err(Error::InvalidInput(format!(
                "config: unknown kind {kind:?}"
            )));
        }
        let t = Misbehave {
            mode,
            table: kv.get("table").map(str::to_owned),
            message: kv.get("message").map_or_else(
                || format!("misbehave: {}", kv.get_or("mode", "none")),
                str::to_owned,
            ),
            kind,
        };
        wproc_sdk::log::info(format!("misbehave: mode={mode:?} table={:?}", t.table));
        match kv.get_or("at", "process") {
            "init" => t.act().map(|()| t),
            "process" => Ok(t),
            at => Err(Error::InvalidInput(format!("config: unknown at {at:?}"))),
        }
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        let matching: Vec<bool> = match &self.table {
            None => vec![true; batch.tables().len()],
            Some(p) => batch.tables().iter().map(|t| t.matches(p)).collect(),
        };
        let triggered = batch.events().any(|e| matching[e.table_id()]);
        if self.mode == Mode::Reject {
            for e in batch.events() {
                if matching[e.table_id()] {
                    out.reject(&e, Error::InvalidInput(self.message.clone()));
                } else {
                    out.keep(&e);
                }
            }
            return Ok(());
        }
        if self.mode == Mode::Probe {
            probe(batch, out);
            return Ok(());
        }
        if triggered {
            self.act()?;
        }
        out.keep_all();
        Ok(())
    }
}

wproc_sdk::export_transform!(Misbehave);

#[cfg(test)]
mod tests {
    use wproc_sdk::Error;
    use wproc_sdk::testing::Harness;

    use super::Misbehave;

    const GOOD: &str = r#"{"op":"insert","db":"d","table":"ok","after":{"id":1}}"#;
    const BAD: &str = r#"{"op":"insert","db":"d","table":"ok","after":{"id":1}}
{"op":"insert","db":"d","table":"boom","after":{"id":2}}"#;

    #[test]
    fn typed_error_only_on_triggering_batches() {
        let mut h =
            Harness::<Misbehave>::new("mode=error, table=boom, kind=unsupported, message=no")
                .unwrap();
        assert_eq!(
            h.process_jsonl(BAD).unwrap_err(),
            Error::Unsupported("no".into())
        );
        assert_eq!(
            h.process_jsonl(GOOD).unwrap().events.len(),
            1,
            "instance still usable"
        );
    }

    #[test]
    #[should_panic(expected = "guest bug")]
    fn panics_with_the_message() {
        let mut h = Harness::<Misbehave>::new("mode=panic, message=guest bug").unwrap();
        let _ = h.process_jsonl(GOOD);
    }

    #[test]
    fn rejects_single_events() {
        let mut h = Harness::<Misbehave>::new("mode=reject, table=d.boom").unwrap();
        let out = h.process_jsonl(BAD).unwrap();
        assert_eq!(out.tables(), ["d.ok"]);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].index, 1);
    }

    #[test]
    fn init_errors() {
        assert!(Harness::<Misbehave>::new("mode=error, at=init").is_err());
        assert!(Harness::<Misbehave>::new("mode=explode").is_err());
        assert!(Harness::<Misbehave>::new("mode=loop, speed=fast").is_err());
        assert!(Harness::<Misbehave>::new("mode=error, kind=fatal").is_err());
        assert!(
            Harness::<Misbehave>::new("")
                .unwrap()
                .process_jsonl(BAD)
                .is_ok()
        );
    }
}
