//! The process side: a consumer-group member that reads the shards the service assigns to it.
//!
//! The coordinator joins the group (creating or updating it), heartbeats every
//! `heartbeat_interval` with the shards it holds, starts a shard worker for each newly assigned
//! shard and stops the workers of shards the service took away. A stopping worker is still
//! reported as held until it has flushed and committed, so the service does not give its shard
//! to another consumer before that (the official libraries' hand-off). A newly assigned shard is
//! first only reported as held, and its worker starts when the next heartbeat (100 ms later)
//! still assigns it: the service then knows this consumer holds it, so it cannot also be
//! answered to a consumer that was assigned it a moment earlier (a consumer reports what it
//! holds only with its next heartbeat). If no heartbeat succeeds
//! for `timeout + heartbeat_interval`, every worker is stopped: the service has given the shards
//! away by then.
//!
//! **A shard worker** runs three stages joined by bounded channels: the fetcher (PullLogs,
//! decode, `max_in_flight` pulls ahead), the batcher (dedup, batching by `max_events`,
//! `max_bytes`, `max_wait`) and the writer (the sink, then UpdateCheckpoint). The writer handles
//! one range while the batcher fills the next; ranges are written and committed strictly in
//! order, and a range's cursor is committed only after the sink made it durable. A worker ends
//! only after its writer has finished every range handed to it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::error::Error;
use crate::event::ChangeEvent;
use crate::pipeline::process::BatchHandler;
use crate::retry::Backoff;
use crate::sink::BatchLimits;
use crate::sls::client::PulledBody;
use crate::sls::proto_view::scan_log_group_list;
use crate::sls::{CursorFrom, SlsClient, SlsError, seq_to_cursor};
use crate::telemetry::metrics::{self, Checkpoint, Component, ErrorClass, Stage};

use super::config::SlsTransportConfig;
use super::error::SlsTransportError;
use super::highwater::{last_position_before, seq_of};
use super::producer::client_of;
use super::wire::WireDecoder;

/// Delay of the heartbeat that confirms newly assigned shards.
const CLAIM_CONFIRM_AFTER: Duration = Duration::from_millis(100);
/// Sleep of a shard fetcher after a PullLogs that returned nothing.
const IDLE_PULL_SLEEP: Duration = Duration::from_millis(200);
/// How often a busy fetcher asks for the shard's end cursor (for the lag).
const END_CURSOR_EVERY: Duration = Duration::from_secs(5);

/// Consumer lag per shard held by this process: LogGroups between the committed checkpoint and
/// the end of the shard. Read by the metrics code through [`consumer_lag`].
#[derive(Debug, Default)]
pub struct ConsumerLag {
    shards: Mutex<BTreeMap<u32, (u64, u64)>>,
}

impl ConsumerLag {
    /// `(shard, lag in LogGroups)` of every shard this process holds.
    pub fn shards(&self) -> Vec<(u32, u64)> {
        let map = self.shards.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .map(|(shard, (end, committed))| (*shard, end.saturating_sub(*committed)))
            .collect()
    }

    /// The sum over the held shards.
    pub fn total(&self) -> u64 {
        self.shards().iter().map(|(_, lag)| lag).sum()
    }

    fn update(&self, shard: u32, end: Option<u64>, committed: Option<u64>) {
        let mut map = self.shards.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(shard).or_insert((0, 0));
        if let Some(end) = end {
            entry.0 = end;
        }
        if let Some(committed) = committed {
            entry.1 = committed;
            entry.0 = entry.0.max(committed);
        }
        let lag = entry.0.saturating_sub(entry.1);
        metrics::set_sls_consumer_lag(shard, i64::try_from(lag).unwrap_or(i64::MAX));
    }

    fn remove(&self, shard: u32) {
        let mut map = self.shards.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&shard);
        metrics::clear_sls_consumer_lag(shard);
    }
}

/// The process-wide consumer lag (one SLS consumer per process).
pub fn consumer_lag() -> &'static ConsumerLag {
    static LAG: OnceLock<ConsumerLag> = OnceLock::new();
    LAG.get_or_init(ConsumerLag::default)
}

/// What every shard worker shares.
struct Context {
    client: SlsClient,
    logstore: String,
    group: String,
    consumer: String,
    start: CursorFrom,
    fetch_count: u32,
    max_in_flight: usize,
    handler: BatchHandler,
    limits: BatchLimits,
    shutdown: CancellationToken,
}

/// Runs the consumer until `shutdown`: every held shard is flushed and committed before it
/// returns.
pub async fn run(
    config: &SlsTransportConfig,
    handler: BatchHandler,
    limits: BatchLimits,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let client = client_of(config)?;
    let c = &config.consumer;
    let logstore = config.logstore.clone();
    let timeout_secs = u32::try_from(c.timeout.as_secs()).unwrap_or(u32::MAX);
    join_group(&client, &logstore, &c.group, timeout_secs).await?;
    let ctx = Arc::new(Context {
        client: client.clone(),
        logstore: logstore.clone(),
        group: c.group.clone(),
        consumer: config.consumer_name(),
        start: c.start.cursor_from(),
        fetch_count: c.fetch_count,
        max_in_flight: c.max_in_flight,
        handler,
        limits,
        shutdown: shutdown.clone(),
    });
    info!(
        message = "Joined the SLS consumer group.",
        logstore = %logstore,
        group = %ctx.group,
        consumer = %ctx.consumer
    );
    let mut workers: HashMap<u32, CancellationToken> = HashMap::new();
    // Assigned by the last heartbeat, reported held by the next one, started when it confirms.
    let mut claimed: BTreeSet<u32> = BTreeSet::new();
    let mut tasks: JoinSet<(u32, Result<(), Error>)> = JoinSet::new();
    let mut ticker = tokio::time::interval(c.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let lost_after = c.timeout + c.heartbeat_interval;
    let mut last_ok = Instant::now();
    let mut first_error = None;
    loop {
        let draining = shutdown.is_cancelled() || first_error.is_some();
        if draining && workers.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            Some(joined) = tasks.join_next() => {
                let (shard, result) = joined.map_err(Error::from)?;
                workers.remove(&shard);
                consumer_lag().remove(shard);
                match result {
                    Ok(()) => info!(message = "Shard released.", shard),
                    Err(e) => {
                        warn!(message = "Shard worker failed; stopping.", shard, error = %e);
                        shutdown.cancel();
                        first_error.get_or_insert(e);
                    }
                }
            }
            _ = shutdown.cancelled(), if !draining => {
                for stop in workers.values() {
                    stop.cancel();
                }
            }
            _ = ticker.tick() => {
                let held: Vec<u32> = workers.keys().chain(&claimed).copied().collect();
                let assigned = match ctx.client.heartbeat(&logstore, &ctx.group, &ctx.consumer, &held).await {
                    Ok(a) => {
                        last_ok = Instant::now();
                        a.into_iter().collect::<BTreeSet<u32>>()
                    }
                    Err(e) if e.is_retriable() => {
                        metrics::error(Component::Sls, ErrorClass::Transient);
                        warn!(message = "Heartbeat failed.", error = %e);
                        if last_ok.elapsed() < lost_after {
                            continue;
                        }
                        warn!(message = "No heartbeat succeeded within the group timeout; releasing every shard.");
                        BTreeSet::new()
                    }
                    Err(e) => {
                        shutdown.cancel();
                        first_error.get_or_insert(SlsTransportError::from(e).into());
                        BTreeSet::new()
                    }
                };
                for (shard, stop) in &workers {
                    if !assigned.contains(shard) && !stop.is_cancelled() {
                        info!(message = "Shard taken away; flushing it before release.", shard);
                        stop.cancel();
                    }
                }
                claimed.retain(|s| assigned.contains(s));
                if draining {
                    claimed.clear();
                    continue;
                }
                for shard in assigned {
                    if workers.contains_key(&shard) {
                        continue;
                    }
                    if claimed.insert(shard) {
                        // Newly assigned: report it held, start once the service confirms.
                        ticker.reset_after(CLAIM_CONFIRM_AFTER);
                        continue;
                    }
                    claimed.remove(&shard);
                    info!(message = "Shard assigned.", shard);
                    let stop = shutdown.child_token();
                    workers.insert(shard, stop.clone());
                    let ctx = ctx.clone();
                    tasks.spawn(async move { (shard, ShardWorker::run(ctx, shard, stop).await) });
                }
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Creates the group, or updates its timeout when it exists with another one.
async fn join_group(
    client: &SlsClient,
    logstore: &str,
    group: &str,
    timeout_secs: u32,
) -> Result<(), SlsTransportError> {
    let groups = client.list_consumer_groups(logstore).await?;
    match groups.iter().find(|g| g.name == group) {
        Some(g) if g.timeout == timeout_secs && g.order => Ok(()),
        Some(_) => Ok(client
            .update_consumer_group(logstore, group, timeout_secs, true)
            .await?),
        None => Ok(client
            .create_consumer_group(logstore, group, timeout_secs, true)
            .await?),
    }
}

/// One PullLogs result, decoded.
struct Fetched {
    /// Sequence of the first group.
    start: u64,
    /// Sequence after the last group.
    end: u64,
    /// Cursor after the last group.
    next_cursor: String,
    /// Events with whether they carried an exact (typed) position.
    events: Vec<(ChangeEvent, bool)>,
    raw_bytes: usize,
}

/// Events read but not yet handled.
struct Pending {
    start: u64,
    end: u64,
    end_cursor: String,
    events: Vec<ChangeEvent>,
    bytes: usize,
    first_at: Option<Instant>,
}

/// A range handed to the shard's writer: handled (durable), then committed.
struct Flush {
    start: u64,
    end: u64,
    end_cursor: String,
    events: Vec<ChangeEvent>,
    first_at: Option<Instant>,
}

#[derive(Clone)]
struct ShardWorker {
    ctx: Arc<Context>,
    shard: u32,
}

impl ShardWorker {
    async fn run(ctx: Arc<Context>, shard: u32, stop: CancellationToken) -> Result<(), Error> {
        let worker = ShardWorker { ctx, shard };
        worker.consume(stop).await
    }

    /// Resume point, then fetch → dedup → batch → handle → commit until `stop`.
    async fn consume(&self, stop: CancellationToken) -> Result<(), Error> {
        let (ctx, shard) = (&*self.ctx, self.shard);
        let sink_end = ctx
            .handler
            .sink()
            .recover(&[shard as usize])
            .await?
            .get(&(shard as usize))
            .copied();
        let checkpoint = self.retry(|| self.checkpoint()).await?;
        let (mut cursor, committed) = match checkpoint {
            Some(c) => (c, true),
            None => (
                self.retry(|| ctx.client.get_cursor(&ctx.logstore, shard, ctx.start))
                    .await?,
                false,
            ),
        };
        let mut seq = seq_of(&ctx.logstore, shard, &cursor)?;
        if let Some(end) = sink_end.filter(|end| *end > seq) {
            info!(
                message = "Sink holds a batch past the checkpoint; committing it.",
                shard, end
            );
            seq = end;
            cursor = seq_to_cursor(end);
            self.commit(&cursor).await?;
        } else if !committed {
            self.commit(&cursor).await?;
        }
        consumer_lag().update(shard, None, Some(seq));
        let mut high = self
            .retry(|| async {
                last_position_before(&ctx.client, &ctx.logstore, shard, seq)
                    .await
                    .map_err(|e| match e {
                        SlsTransportError::Sls(e) => e,
                        other => SlsError::Config(other.to_string()),
                    })
            })
            .await?;
        info!(message = "Consuming shard.", shard, from = seq, high_water = %high.as_ref().map(ToString::to_string).unwrap_or_default());

        let (tx, mut rx) = mpsc::channel::<Fetched>(ctx.max_in_flight);
        let fetch_stop = stop.child_token();
        let fetcher = tokio::spawn(fetch(
            self.ctx.clone(),
            shard,
            cursor.clone(),
            tx,
            fetch_stop.clone(),
        ));
        // The writer handles and commits one range while the next one is being read.
        let (flushes, to_write) = mpsc::channel::<Flush>(1);
        let writer = tokio::spawn(self.clone().write(to_write));
        let mut pending = Pending {
            start: seq,
            end: seq,
            end_cursor: cursor,
            events: Vec::new(),
            bytes: 0,
            first_at: None,
        };
        let result = async {
            loop {
                let wait = match pending.first_at {
                    Some(t) => ctx.limits.max_wait.saturating_sub(t.elapsed()),
                    None => Duration::from_secs(3600),
                };
                let fetched = tokio::select! {
                    biased;
                    _ = stop.cancelled() => None,
                    // None: the fetcher ended, on stop or with an error reported below.
                    f = rx.recv() => f,
                    _ = tokio::time::sleep(wait) => {
                        Self::submit(&mut pending, &flushes).await?;
                        continue;
                    }
                };
                let Some(fetched) = fetched else {
                    Self::submit(&mut pending, &flushes).await?;
                    return Ok::<(), Error>(());
                };
                if fetched.start != pending.end {
                    return Err(SlsTransportError::Config(format!(
                        "shard {shard}: fetched range starts at {} but the batch ends at {}",
                        fetched.start, pending.end
                    ))
                    .into());
                }
                pending.first_at.get_or_insert_with(Instant::now);
                pending.end = fetched.end;
                pending.end_cursor = fetched.next_cursor;
                pending.bytes += fetched.raw_bytes;
                let mut dropped = 0usize;
                for (event, typed) in fetched.events {
                    if typed {
                        if high.as_ref().is_some_and(|h| event.pos <= *h) {
                            dropped += 1;
                            continue;
                        }
                        high = Some(event.pos.clone());
                    }
                    pending.events.push(event);
                }
                if dropped > 0 {
                    info!(
                        message = "Dropped events already written (duplicates in the logstore).",
                        shard, dropped
                    );
                }
                let due = pending.events.len() >= ctx.limits.max_events
                    || pending.bytes >= ctx.limits.max_bytes
                    || pending
                        .first_at
                        .is_some_and(|t| t.elapsed() >= ctx.limits.max_wait);
                if due {
                    Self::submit(&mut pending, &flushes).await?;
                }
            }
        }
        .await;
        fetch_stop.cancel();
        drop(flushes);
        // The writer's own error explains a failed hand-over: report it first.
        writer.await.map_err(Error::from)??;
        let fetched = fetcher.await.map_err(Error::from)?;
        result?;
        if !stop.is_cancelled() {
            fetched?;
        }
        Ok(())
    }

    /// Hands the pending range to the writer (waiting while it still writes the previous
    /// one) and starts the next range at its end.
    async fn submit(pending: &mut Pending, flushes: &mpsc::Sender<Flush>) -> Result<(), Error> {
        if pending.end == pending.start {
            return Ok(());
        }
        let flush = Flush {
            start: pending.start,
            end: pending.end,
            end_cursor: pending.end_cursor.clone(),
            events: std::mem::take(&mut pending.events),
            first_at: pending.first_at.take(),
        };
        pending.start = pending.end;
        pending.bytes = 0;
        flushes.send(flush).await.map_err(|_| {
            Error::from(SlsTransportError::Config(
                "the shard's writer stopped".to_owned(),
            ))
        })
    }

    /// The shard's writer: each range in order is handled (durable in the sink), then its end
    /// cursor is committed. Ends when the ranges end or on the first error.
    async fn write(self, mut flushes: mpsc::Receiver<Flush>) -> Result<(), Error> {
        while let Some(flush) = flushes.recv().await {
            let (start, end) = (flush.start, flush.end);
            // The handler counts the sink's events in and out.
            self.ctx
                .handler
                .handle(
                    self.shard as usize,
                    start,
                    end,
                    flush.events,
                    &self.ctx.shutdown,
                )
                .await?;
            self.commit(&flush.end_cursor).await?;
            metrics::checkpoint_committed(Checkpoint::Process);
            if let Some(first_at) = flush.first_at {
                metrics::batch_latency(Stage::Process, first_at.elapsed());
            }
            consumer_lag().update(self.shard, None, Some(end));
            debug!(message = "Committed.", shard = self.shard, start, end);
        }
        Ok(())
    }

    async fn checkpoint(&self) -> Result<Option<String>, SlsError> {
        let ctx = &self.ctx;
        let all = ctx
            .client
            .get_checkpoints(&ctx.logstore, &ctx.group)
            .await?;
        Ok(all
            .into_iter()
            .find(|c| c.shard == self.shard && !c.checkpoint.is_empty())
            .map(|c| c.checkpoint))
    }

    /// UpdateCheckpoint (forced, as the official libraries do), retried while transient. A
    /// commit is made even after the shard's stop (that is when the last batch is flushed).
    async fn commit(&self, cursor: &str) -> Result<(), Error> {
        let ctx = &self.ctx;
        self.retry(|| {
            ctx.client.update_checkpoint(
                &ctx.logstore,
                &ctx.group,
                &ctx.consumer,
                self.shard,
                cursor,
                true,
            )
        })
        .await
    }

    /// Calls `call` until it succeeds or fails definitely; transient failures are retried with
    /// backoff until the process shuts down.
    async fn retry<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SlsError>>,
    {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retriable() && !self.ctx.shutdown.is_cancelled() => {
                    metrics::error(Component::Sls, ErrorClass::Transient);
                    warn!(message = "SLS call failed; retrying.", shard = self.shard, error = %e);
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(e) => return Err(SlsTransportError::from(e).into()),
            }
        }
    }
}

/// Pulls `shard` from `cursor` and decodes, ahead of the worker, until `stop`.
async fn fetch(
    ctx: Arc<Context>,
    shard: u32,
    mut cursor: String,
    tx: mpsc::Sender<Fetched>,
    stop: CancellationToken,
) -> Result<(), Error> {
    let mut decoder = WireDecoder::new();
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut end_asked: Option<Instant> = None;
    let mut seq = seq_of(&ctx.logstore, shard, &cursor)?;
    // Groups per pull: `fetch_count`, fewer when groups are large, so that one pull holds about
    // one sink batch (`max_events`) and batches stay near their configured size.
    let mut count = ctx.fetch_count;
    loop {
        let pulled = tokio::select! {
            biased;
            _ = stop.cancelled() => return Ok(()),
            r = ctx.client.pull_logs_raw(&ctx.logstore, shard, &cursor, count, None) => r,
        };
        let pulled = match pulled {
            Ok(p) => {
                backoff.reset();
                p
            }
            Err(e) if e.is_retriable() => {
                metrics::error(Component::Sls, ErrorClass::Transient);
                warn!(message = "PullLogs failed; retrying.", shard, error = %e);
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(backoff.next_delay()) => continue,
                }
            }
            Err(e) => return Err(SlsTransportError::from(e).into()),
        };
        if pulled.next_cursor == cursor || pulled.count == 0 {
            consumer_lag().update(shard, Some(seq), None);
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(IDLE_PULL_SLEEP) => continue,
            }
        }
        let next = seq_of(&ctx.logstore, shard, &pulled.next_cursor)?;
        if end_asked.is_none_or(|t| t.elapsed() >= END_CURSOR_EVERY) {
            end_asked = Some(Instant::now());
            if let Ok(end) = ctx
                .client
                .get_cursor(&ctx.logstore, shard, CursorFrom::End)
                .await
                && let Some(end) = crate::sls::cursor_to_seq(&end)
            {
                consumer_lag().update(shard, Some(end), None);
            }
        }
        let raw_bytes = pulled.raw_size;
        metrics::bytes(Stage::Process, raw_bytes);
        let logstore = ctx.logstore.clone();
        let from = cursor.clone();
        let next_cursor = pulled.next_cursor.clone();
        let groups = pulled.count.max(1) as usize;
        let (returned, events) = tokio::task::spawn_blocking(move || {
            let events = decode_pulled(&mut decoder, &pulled, &logstore, shard, &from);
            (decoder, events)
        })
        .await?;
        decoder = returned;
        let events = events?;
        metrics::events_in(Stage::Process, events.len());
        let per_group = events.len().div_ceil(groups).max(1);
        count = u32::try_from(ctx.limits.max_events / per_group)
            .unwrap_or(u32::MAX)
            .clamp(1, ctx.fetch_count);
        let fetched = Fetched {
            start: seq,
            end: next,
            next_cursor: next_cursor.clone(),
            events,
            raw_bytes,
        };
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            sent = tx.send(fetched) => if sent.is_err() { return Ok(()) },
        }
        cursor = next_cursor;
        seq = next;
    }
}

/// Decompresses the pulled body and decodes every log of its groups, in order.
fn decode_pulled(
    decoder: &mut WireDecoder,
    pulled: &PulledBody,
    logstore: &str,
    shard: u32,
    cursor: &str,
) -> Result<Vec<(ChangeEvent, bool)>, Error> {
    let mut buf = std::mem::take(&mut decoder.pulled);
    let result = decode_body(decoder, pulled, &mut buf, logstore, shard, cursor);
    decoder.pulled = buf;
    result
}

fn decode_body(
    decoder: &mut WireDecoder,
    pulled: &PulledBody,
    buf: &mut Vec<u8>,
    logstore: &str,
    shard: u32,
    cursor: &str,
) -> Result<Vec<(ChangeEvent, bool)>, Error> {
    let raw = pulled
        .decompress_into(buf)
        .map_err(SlsTransportError::from)?;
    let groups =
        scan_log_group_list(raw).map_err(|e| SlsTransportError::from(pulled.bad(e.to_string())))?;
    let mut out = Vec::with_capacity(groups.iter().map(|g| g.logs.len()).sum());
    for (index, log) in groups.iter().flat_map(|g| &g.logs).enumerate() {
        let decoded = decoder
            .decode_view(log)
            .map_err(|source| SlsTransportError::Wire {
                logstore: logstore.to_owned(),
                shard,
                cursor: cursor.to_owned(),
                index,
                source,
            })?;
        out.push(decoded);
    }
    Ok(out)
}
