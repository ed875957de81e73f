//! [`TransformChain`]: the configured transforms, run in order over each batch, with the
//! error policy of each.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::apply::RejectedEvent;
use super::config::{ErrorPolicy, TransformSettings};
use super::engine::{CacheOutcome, WasmEngine};
use super::error::{BatchContext, GuestError, WasmError};
use super::instance::{LoadedTransform, TransformInstance};
use crate::event::ChangeEvent;
use crate::event::jsonl::{write_event, write_event_with};
use crate::sink::OutputBatch;

/// Counters of one transform, since the chain was loaded.
#[derive(Debug, Default)]
pub struct StageStats {
    /// Batches processed without error.
    pub batches_ok: AtomicU64,
    /// Batches that failed and were skipped or dead-lettered.
    pub batches_failed: AtomicU64,
    /// Events rejected one by one (skipped or dead-lettered).
    pub events_rejected: AtomicU64,
    /// Instances created after a trap.
    pub reinstantiations: AtomicU64,
}

struct Stage {
    loaded: LoadedTransform,
    policy: ErrorPolicy,
    dead_letter_dir: Option<PathBuf>,
    stats: StageStats,
}

/// One instance per stage, for one worker at a time (`None`: to create before the next batch).
type InstanceSet = Vec<Option<TransformInstance>>;

/// The transforms of a pipeline, in config order. Cheap to clone; each concurrent caller
/// gets its own set of instances (one `Store` per worker) from a small pool.
#[derive(Clone)]
pub struct TransformChain {
    stages: Arc<[Stage]>,
    pool: Arc<Mutex<Vec<InstanceSet>>>,
}

impl std::fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.stages.iter().map(|s| s.loaded.name()).collect();
        f.debug_struct("TransformChain")
            .field("transforms", &names)
            .finish_non_exhaustive()
    }
}

/// What one batch went through.
#[derive(Debug, Default)]
pub struct ChainReport {
    /// Events rejected (skipped or dead-lettered), per transform name.
    pub rejected: Vec<(String, RejectedEvent)>,
    /// A transform failed on the batch and its policy let the range commit without output.
    pub failed: Option<WasmError>,
}

impl TransformChain {
    /// Loads every transform (from the component cache when possible) and runs `init` once
    /// on a first instance of each, so that a bad config stops the pipeline at start.
    /// Blocking: compiling a component takes up to a few hundred milliseconds.
    pub fn load(settings: &[TransformSettings]) -> Result<Self, WasmError> {
        Ok(Self::load_reporting(settings)?.0)
    }

    /// [`TransformChain::load`], also saying for each transform whether the cache was hit.
    pub fn load_reporting(
        settings: &[TransformSettings],
    ) -> Result<(Self, Vec<CacheOutcome>), WasmError> {
        let engine = WasmEngine::shared()?;
        let mut stages = Vec::with_capacity(settings.len());
        let mut outcomes = Vec::with_capacity(settings.len());
        let mut first = Vec::with_capacity(settings.len());
        for s in settings {
            let (loaded, outcome) = engine.load(s)?;
            tracing::info!(
                message = "Transform loaded.",
                transform = %s.name,
                path = %s.path.display(),
                cache = ?outcome,
                policy = ?s.policy
            );
            first.push(Some(loaded.instantiate()?));
            outcomes.push(outcome);
            stages.push(Stage {
                loaded,
                policy: s.policy,
                dead_letter_dir: s.dead_letter_dir.clone(),
                stats: StageStats::default(),
            });
        }
        let chain = Self {
            stages: stages.into(),
            pool: Arc::new(Mutex::new(vec![first])),
        };
        Ok((chain, outcomes))
    }

    /// Whether the chain has no transform.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// The counters of transform `i` (config order).
    pub fn stats(&self, i: usize) -> Option<&StageStats> {
        self.stages.get(i).map(|s| &s.stats)
    }

    /// Runs the chain over `batch` on a blocking thread; see [`TransformChain::run_blocking`].
    pub async fn run(
        &self,
        mut batch: OutputBatch,
    ) -> Result<(OutputBatch, ChainReport), WasmError> {
        let chain = self.clone();
        tokio::task::spawn_blocking(move || {
            let report = chain.run_blocking(&mut batch)?;
            Ok((batch, report))
        })
        .await
        .map_err(|e| WasmError::Task(e.to_string()))?
    }

    /// Runs every transform in order over `batch`, replacing its events and routes with the
    /// output. With policy `fail`, any failure or rejected event is returned as the error (the
    /// caller must not commit the range). With `skip` or `dead-letter`, a failed batch ends
    /// with no events (the range commits without output) and rejected events are dropped
    /// (after being written aside for `dead-letter`).
    pub fn run_blocking(&self, batch: &mut OutputBatch) -> Result<ChainReport, WasmError> {
        let mut set = self
            .pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(|| self.stages.iter().map(|_| None).collect());
        let result = self.run_with(&mut set, batch);
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(set);
        }
        result
    }

    fn run_with(
        &self,
        set: &mut InstanceSet,
        batch: &mut OutputBatch,
    ) -> Result<ChainReport, WasmError> {
        let mut report = ChainReport::default();
        for (stage, slot) in self.stages.iter().zip(set.iter_mut()) {
            if slot.is_none() {
                *slot = Some(stage.loaded.instantiate()?);
            }
            let Some(instance) = slot.as_mut() else {
                continue;
            };
            let ctx = BatchContext {
                shard: batch.shard,
                start: batch.start,
                end: batch.end,
                first: batch.events.first().map(|e| e.pos.clone()),
            };
            match instance.process(batch) {
                Ok(rejected) => {
                    stage.stats.batches_ok.fetch_add(1, Ordering::Relaxed);
                    if rejected.is_empty() {
                        continue;
                    }
                    stage.handle_rejected(&ctx, &rejected)?;
                    let name = stage.loaded.name().to_owned();
                    report
                        .rejected
                        .extend(rejected.into_iter().map(|r| (name.clone(), r)));
                }
                Err(error) => {
                    if error.kills_instance() {
                        *slot = None;
                        stage.stats.reinstantiations.fetch_add(1, Ordering::Relaxed);
                    }
                    if stage.policy == ErrorPolicy::Fail {
                        return Err(error);
                    }
                    stage.handle_failure(&ctx, &batch.events, &error)?;
                    batch.events.clear();
                    batch.routes.clear();
                    report.failed = Some(error);
                    return Ok(report);
                }
            }
        }
        Ok(report)
    }
}

impl Stage {
    fn handle_failure(
        &self,
        ctx: &BatchContext,
        events: &[ChangeEvent],
        error: &WasmError,
    ) -> Result<(), WasmError> {
        if self.policy == ErrorPolicy::DeadLetter {
            let lines: Vec<(Option<&GuestError>, &ChangeEvent)> =
                events.iter().map(|e| (None, e)).collect();
            self.write_dead_letters(ctx, &error.to_string(), &lines)?;
        }
        self.stats.batches_failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            message = "Transform failed on a batch; committing the range without output.",
            transform = %self.loaded.name(),
            policy = ?self.policy,
            events = events.len(),
            error = %error
        );
        Ok(())
    }

    fn handle_rejected(
        &self,
        ctx: &BatchContext,
        rejected: &[RejectedEvent],
    ) -> Result<(), WasmError> {
        let first = &rejected[0];
        match self.policy {
            ErrorPolicy::Fail => {
                let p = &first.event.pos;
                return Err(WasmError::Rejected {
                    transform: self.loaded.name().to_owned(),
                    batch: Box::new(ctx.clone()),
                    index: first.index,
                    position: format!("{}:{}#{}", p.file, p.offset, p.row),
                    error: first.error.clone(),
                });
            }
            ErrorPolicy::Skip => {}
            ErrorPolicy::DeadLetter => {
                let lines: Vec<_> = rejected
                    .iter()
                    .map(|r| (Some(&r.error), &r.event))
                    .collect();
                let summary = format!("{} events rejected", rejected.len());
                self.write_dead_letters(ctx, &summary, &lines)?;
            }
        }
        self.stats
            .events_rejected
            .fetch_add(rejected.len() as u64, Ordering::Relaxed);
        tracing::warn!(
            message = "Transform rejected events; dropping them.",
            transform = %self.loaded.name(),
            policy = ?self.policy,
            events = rejected.len(),
            error = %first.error
        );
        Ok(())
    }

    /// Writes `<dir>/<transform>/shard<S>-<start>-<end>.jsonl`: a first line
    /// `{"error": …, "transform": …, "shard": …, "start": …, "end": …}`, then one line per
    /// event in the canonical format (with an `"error"` key for rejected events). The file is
    /// written atomically and fsynced: same name for the same range, so a replay overwrites it.
    fn write_dead_letters(
        &self,
        ctx: &BatchContext,
        error: &str,
        events: &[(Option<&GuestError>, &ChangeEvent)],
    ) -> Result<(), WasmError> {
        let Some(root) = &self.dead_letter_dir else {
            return Ok(());
        };
        let dir = root.join(self.loaded.name());
        let path = dir.join(format!(
            "shard{}-{}-{}.jsonl",
            ctx.shard, ctx.start, ctx.end
        ));
        let header = serde_json::json!({
            "error": error,
            "transform": self.loaded.name(),
            "shard": ctx.shard,
            "start": ctx.start,
            "end": ctx.end,
        });
        let mut out = header.to_string().into_bytes();
        out.push(b'\n');
        for (reason, event) in events {
            match reason {
                Some(reason) => write_event_with(&mut out, event, "error", &reason.to_string()),
                None => write_event(&mut out, event),
            }
        }
        let io = |source| WasmError::DeadLetter {
            transform: self.loaded.name().to_owned(),
            batch: Box::new(ctx.clone()),
            path: path.clone(),
            source,
        };
        crate::fsutil::create_dir_all_durable(&dir).map_err(io)?;
        crate::fsutil::write_atomic(&path, &out).map_err(io)?;
        tracing::info!(message = "Dead letters written.", file = %path.display(), events = events.len());
        Ok(())
    }
}
