//! The error policies, through the process half (local log -> transforms -> files sink):
//! `fail` commits nothing past the failed batch, `skip` commits it without output,
//! `dead-letter` writes the batch aside before committing. Rejected events follow the policy.

mod common;

use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{batch, cache_dir, events, guest};
use tokio_util::sync::CancellationToken;
use wproc::pipeline::process::{self, BatchHandler, ProcessSettings};
use wproc::runtime::wasm::{ErrorPolicy, TransformChain, TransformConfig, WasmError};
use wproc::sink::{FilesSinkConfig, Sink, SinkConfig};
use wproc::transport::{LocalLog, LocalLogConfig};

fn line(table: &str, offset: u64, id: i64) -> String {
    format!(
        r#"{{"op":"insert","db":"d","table":"{table}","ts_ms":1700000000000,"pos":{{"file":"b.000001","offset":{offset},"row":0,"gtid":null}},"before":null,"after":{{"id":{id}}}}}"#
    )
}

fn chain(config: &str, policy: ErrorPolicy, dead: Option<&Path>) -> TransformChain {
    let mut c = TransformConfig::for_path(guest("misbehave"));
    c.config = Some(serde_json::Value::String(config.to_owned()));
    c.cache_dir = Some(cache_dir());
    c.on_error = policy;
    c.dead_letter_dir = dead.map(Path::to_path_buf);
    TransformChain::load(&[c.validate("transform").unwrap()]).unwrap()
}

struct Pipeline {
    dir: tempfile::TempDir,
    log: Arc<LocalLog>,
    sink_config: SinkConfig,
}

impl Pipeline {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = LocalLog::open(&LocalLogConfig {
            dir: dir.path().join("log"),
            shards: NonZeroU32::new(1).unwrap(),
            ..LocalLogConfig::default()
        })
        .unwrap();
        let sink_config = SinkConfig::Files(FilesSinkConfig {
            dir: dir.path().join("out"),
            path: "{table}".into(),
            max_events: NonZeroUsize::new(1).unwrap(),
            max_wait: Duration::from_millis(10),
            ..FilesSinkConfig::default()
        });
        Self {
            dir,
            log,
            sink_config,
        }
    }

    fn append(&self, jsonl: &str) -> u64 {
        let mut appender = self.log.appender().unwrap();
        appender.append(events(jsonl)).unwrap();
        let mut reader = self.log.reader(0, 0);
        let mut end = 0;
        loop {
            let records = reader.read(1 << 20).unwrap();
            match records.last() {
                Some(r) => end = r.next,
                None => return end,
            }
        }
    }

    fn committed(&self) -> u64 {
        self.log.committed("g", 0).unwrap()
    }

    /// Runs the process half until shard 0 is committed up to `until` (then stops), or until
    /// it fails.
    async fn run(&self, chain: TransformChain, until: u64) -> Result<(), wproc::Error> {
        let sink = Sink::new(&self.sink_config).await.unwrap();
        let handler = BatchHandler::new(sink).with_transforms(chain);
        let settings = ProcessSettings::new(self.sink_config.batch_limits(), "g");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(process::run(
            self.log.clone(),
            handler,
            settings,
            shutdown.clone(),
        ));
        for _ in 0..600 {
            if task.is_finished() || self.committed() >= until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        shutdown.cancel();
        task.await.unwrap()
    }

    /// Every line of every output file, sorted.
    fn output(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for file in files(&self.dir.path().join("out")) {
            let text = std::fs::read_to_string(&file).unwrap();
            lines.extend(text.lines().map(str::to_owned));
        }
        lines.sort();
        lines
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
            out.push(p);
        }
    }
    out.sort();
    out
}

const ERROR: &str = "mode=error, table=boom, message=no boom";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_commits_nothing_past_the_failed_batch() {
    let p = Pipeline::new();
    let first = p.append(&line("ok", 10, 1));
    p.run(chain(ERROR, ErrorPolicy::Fail, None), first)
        .await
        .unwrap();
    assert_eq!(p.committed(), first);
    let end = p.append(&format!("{}\n{}", line("boom", 20, 2), line("ok", 20, 3)));
    let err = p
        .run(chain(ERROR, ErrorPolicy::Fail, None), end)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, wproc::Error::Wasm(WasmError::Guest { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("no boom"), "{err}");
    assert_eq!(p.committed(), first, "the failed batch is not committed");
    assert_eq!(p.output(), [line("ok", 10, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_commits_the_batch_without_output() {
    let p = Pipeline::new();
    let chain = chain(ERROR, ErrorPolicy::Skip, None);
    let first = p.append(&line("ok", 10, 1));
    p.run(chain.clone(), first).await.unwrap();
    let end = p.append(&format!("{}\n{}", line("boom", 20, 2), line("ok", 20, 3)));
    p.run(chain.clone(), end).await.unwrap();
    assert_eq!(p.committed(), end);
    assert_eq!(p.output(), [line("ok", 10, 1)]);
    let stats = chain.stats(0).unwrap();
    assert_eq!(
        stats
            .batches_failed
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_writes_the_batch_aside_then_commits() {
    let p = Pipeline::new();
    let dead = p.dir.path().join("dead");
    let end = p.append(&format!("{}\n{}", line("boom", 20, 2), line("ok", 20, 3)));
    p.run(chain(ERROR, ErrorPolicy::DeadLetter, Some(&dead)), end)
        .await
        .unwrap();
    assert_eq!(p.committed(), end);
    assert!(p.output().is_empty());
    let written = files(&dead);
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(
        written[0].file_name().unwrap().to_string_lossy(),
        format!("shard0-0-{end}.jsonl")
    );
    assert!(written[0].parent().unwrap().ends_with("dead/misbehave"));
    let text = std::fs::read_to_string(&written[0]).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["transform"], "misbehave");
    assert!(header["error"].as_str().unwrap().contains("no boom"));
    assert_eq!(
        lines.collect::<Vec<_>>(),
        [line("boom", 20, 2), line("ok", 20, 3)]
    );
}

#[test]
fn rejected_events_follow_the_policy() {
    let input = format!("{}\n{}", line("ok", 10, 1), line("boom", 10, 2));
    let config = "mode=reject, table=boom, message=bad row";
    let err = chain(config, ErrorPolicy::Fail, None)
        .run_blocking(&mut batch(0, events(&input)))
        .unwrap_err();
    assert!(
        matches!(&err, WasmError::Rejected { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("b.000001:10#0"), "{err}");

    let mut b = batch(0, events(&input));
    let report = chain(config, ErrorPolicy::Skip, None)
        .run_blocking(&mut b)
        .unwrap();
    assert_eq!(b.events.len(), 1);
    assert_eq!(report.rejected.len(), 1);

    let dead = tempfile::tempdir().unwrap();
    let mut b = batch(0, events(&input));
    chain(config, ErrorPolicy::DeadLetter, Some(dead.path()))
        .run_blocking(&mut b)
        .unwrap();
    assert_eq!(common::lines(&b), [line("ok", 10, 1)]);
    let text = std::fs::read_to_string(dead.path().join("misbehave/shard0-0-2.jsonl")).unwrap();
    let rejected = text.lines().nth(1).unwrap();
    let expected = line("boom", 10, 2);
    assert_eq!(
        rejected,
        format!(
            "{},\"error\":\"invalid input: bad row\"}}",
            &expected[..expected.len() - 1]
        )
    );
}
