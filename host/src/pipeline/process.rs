//! The process half: each shard read in order, batched, handled, then committed.
//!
//! [`BatchHandler`] is what every transport's consumer does with a batch of one shard's range
//! `[start, end)`: run the transforms, then write the result durably through the [`Sink`],
//! retrying transient sink errors. This module drives it for the local log; the SLS consumer
//! drives the same handler.
//!
//! Invariant: a shard's consumer checkpoint moves to `end` only after
//! [`BatchHandler::handle`] returned for `[start, end)`. On start, the resume offset is the
//! larger of the checkpoint and the highest range the sink already holds (a crash between rename
//! and commit), and the checkpoint is brought up to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::error::Error;
use crate::event::ChangeEvent;
use crate::retry::Backoff;
use crate::sink::{BatchLimits, OutputBatch, Sink};
use crate::telemetry::health::{self, Part};
use crate::telemetry::metrics::{self, Checkpoint, ErrorClass, Stage};
use crate::transport::LocalLog;

/// How often a reader looks for data appended by another process.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const READ_CHUNK_BYTES: usize = 4 << 20;

/// Batching and naming settings of the process half.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// Consumer group.
    pub group: String,
    /// Events per batch.
    pub max_events: usize,
    /// Input bytes per batch.
    pub max_bytes: usize,
    /// Age of a batch's first event before it is written.
    pub max_wait: Duration,
}

impl ProcessSettings {
    /// From the sink's batching limits.
    pub fn new(limits: BatchLimits, group: &str) -> Self {
        Self {
            group: group.to_owned(),
            max_events: limits.max_events,
            max_bytes: limits.max_bytes,
            max_wait: limits.max_wait,
        }
    }
}

/// Transforms a batch and writes it durably. Cheap to clone: one per shard processor.
#[derive(Debug, Clone)]
pub struct BatchHandler {
    sink: Sink,
}

impl BatchHandler {
    /// A handler that writes into `sink`.
    pub fn new(sink: Sink) -> Self {
        Self { sink }
    }

    /// The sink.
    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    /// Handles the events of shard `shard`, offsets `[start, end)`: when this returns `Ok`, the
    /// output of the range is durable and the caller may commit `end`. Transient sink errors
    /// are retried with backoff until `shutdown`; definite ones are returned.
    pub async fn handle(
        &self,
        shard: usize,
        start: u64,
        end: u64,
        events: Vec<ChangeEvent>,
        shutdown: &CancellationToken,
    ) -> Result<(), Error> {
        let count = events.len();
        let started = Instant::now();
        metrics::events_in(Stage::Sink, count);
        let batch = Arc::new(OutputBatch {
            shard,
            start,
            end,
            events,
            routes: Vec::new(),
        });
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        loop {
            match self.sink.write_batch(batch.clone()).await {
                Ok(files) => {
                    debug!(
                        message = "Batch written.",
                        shard,
                        start,
                        end,
                        events = count,
                        files
                    );
                    metrics::events_out(Stage::Sink, count);
                    metrics::batch_latency(Stage::Sink, started.elapsed());
                    return Ok(());
                }
                Err(e) if e.is_retriable() && !shutdown.is_cancelled() => {
                    metrics::error(e.component(), ErrorClass::Transient);
                    let delay = backoff.next_delay();
                    warn!(message = "Sink write failed; retrying.", error = %e, shard, start, end);
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Runs one processor per shard until shutdown or a failure.
pub async fn run(
    log: Arc<LocalLog>,
    handler: BatchHandler,
    settings: ProcessSettings,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let all: Vec<usize> = (0..log.shard_count()).collect();
    let sink_ends = handler.sink().recover(&all).await?;
    health::set(Part::Sink, true);
    let mut shards = JoinSet::new();
    for shard in all {
        let sink_end = sink_ends.get(&shard).copied().unwrap_or(0);
        let worker = ShardProcessor {
            log: log.clone(),
            handler: handler.clone(),
            settings: settings.clone(),
            shard,
        };
        shards.spawn(worker.run(sink_end, shutdown.clone()));
    }
    let mut first_error = None;
    while let Some(joined) = shards.join_next().await {
        if let Err(e) = joined.map_err(Error::from).and_then(|r| r) {
            shutdown.cancel();
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

struct ShardProcessor {
    log: Arc<LocalLog>,
    handler: BatchHandler,
    settings: ProcessSettings,
    shard: usize,
}

/// Events read but not yet written.
struct PendingBatch {
    start: u64,
    end: u64,
    events: Vec<ChangeEvent>,
    bytes: usize,
    first_at: Option<Instant>,
}

impl ShardProcessor {
    async fn run(self, sink_end: u64, shutdown: CancellationToken) -> Result<(), Error> {
        let (log, group, shard) = (self.log.clone(), self.settings.group.clone(), self.shard);
        let committed = log.committed(&group, shard)?;
        let start = committed.max(sink_end);
        if start > committed {
            info!(
                message = "Sink holds a batch past the checkpoint; committing it.",
                shard, start
            );
            log.commit(&group, shard, start)?;
        }
        let mut reader = log.reader(shard, start);
        let mut batch = PendingBatch {
            start,
            end: start,
            events: Vec::new(),
            bytes: 0,
            first_at: None,
        };
        loop {
            let stopping = shutdown.is_cancelled();
            let (returned, records) = tokio::task::spawn_blocking(move || {
                let records = reader.read(READ_CHUNK_BYTES);
                (reader, records)
            })
            .await?;
            reader = returned;
            let records = records?;
            let got_data = !records.is_empty();
            for record in &records {
                metrics::events_in(Stage::Process, record.events.len());
                metrics::bytes(Stage::Process, record.bytes);
            }
            for record in records {
                batch.first_at.get_or_insert_with(Instant::now);
                batch.end = record.next;
                batch.bytes += record.bytes;
                batch.events.extend(record.events);
            }
            let due = batch.events.len() >= self.settings.max_events
                || batch.bytes >= self.settings.max_bytes
                || batch
                    .first_at
                    .is_some_and(|t| t.elapsed() >= self.settings.max_wait);
            if batch.end > batch.start && (due || stopping) {
                self.flush(&mut batch, &shutdown).await?;
            }
            // Stopping: drain to the end of the shard first (capture has stopped by now).
            if stopping && !got_data {
                return Ok(());
            }
            if !got_data {
                let wait = match batch.first_at {
                    Some(t) => self
                        .settings
                        .max_wait
                        .saturating_sub(t.elapsed())
                        .min(POLL_INTERVAL),
                    None => POLL_INTERVAL,
                };
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = reader.wait(wait) => {}
                }
            }
        }
    }

    /// Handles the batch (transforms, durable write), then commits its end.
    async fn flush(
        &self,
        batch: &mut PendingBatch,
        shutdown: &CancellationToken,
    ) -> Result<(), Error> {
        let events = std::mem::take(&mut batch.events);
        let (shard, start, end) = (self.shard, batch.start, batch.end);
        self.handler
            .handle(shard, start, end, events, shutdown)
            .await?;
        let log = self.log.clone();
        let group = self.settings.group.clone();
        tokio::task::spawn_blocking(move || log.commit(&group, shard, end)).await??;
        metrics::checkpoint_committed(Checkpoint::Process);
        if let Some(first_at) = batch.first_at {
            metrics::batch_latency(Stage::Process, first_at.elapsed());
        }
        batch.start = end;
        batch.bytes = 0;
        batch.first_at = None;
        Ok(())
    }
}
