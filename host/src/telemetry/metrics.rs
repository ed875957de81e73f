//! Prometheus metrics: the names, their meaning, and the small API the components call.
//!
//! **Crate.** `prometheus-client`, the Prometheus project's own Rust client, rather than the
//! `metrics` facade with `metrics-exporter-prometheus`: its registry is an explicit value (here
//! one process-wide [`LazyLock`]) with typed metric families, so every label set is a closed
//! Rust type and no call site can invent a label value; it encodes the OpenMetrics text that
//! Prometheus scrapes without a background recorder or its own HTTP stack, and the endpoint
//! ([`super::server`]) is served with the hyper stack that the SLS server already uses.
//!
//! **Conventions.** Every name starts with `wproc_`. Counters end in `_total`; units are in the
//! name (`_seconds`, `_bytes`). Labels have bounded cardinality: `stage`, `component`,
//! `error_type` and `checkpoint` take the few values of the enums below, `shard` is bounded by
//! the transport's shard count; no label carries a table name, a position or a file.
//!
//! **Semantics per stage.** `events_in{stage}` counts events a stage received,
//! `events_out{stage}` the events it handed on *durably* (appended and fsynced, written and
//! renamed). With the local transport and no transform, after a drained run,
//! `events_out{stage="source"}` = `events_out{stage="capture"}` + deduplicated replays, and
//! `events_out{stage="sink"}` = the lines in the output files written by that process.
//!
//! Calling any function here before the endpoint is started is cheap and harmless: values are
//! recorded in memory and served once someone scrapes.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Counter `{stage}`: events a stage received (source: decoded from the binlog; capture: taken
/// from the source; process: read from the transport; transform: given to the transform; sink:
/// given to the sink).
pub const EVENTS_IN: &str = "wproc_events_in_total";
/// Counter `{stage}`: events a stage handed on durably (capture: appended to the transport and
/// acknowledged; sink: in files that are durable).
pub const EVENTS_OUT: &str = "wproc_events_out_total";
/// Counter `{stage}`, bytes: encoded bytes a stage wrote (capture: transport records; sink:
/// file bytes) or read (process: transport records).
pub const BYTES: &str = "wproc_bytes_total";
/// Counter `{component}`: output files made durable by a sink.
pub const SINK_FILES: &str = "wproc_sink_files_total";
/// Histogram `{stage}`, seconds: `capture`: from receiving source batches to their durable
/// append; `process`: from a batch's first event read from the transport to its checkpoint
/// commit (the landing latency); `sink`: making one batch durable (transforms, writes and
/// retries included).
pub const BATCH_LATENCY: &str = "wproc_batch_latency_seconds";
/// Histogram, seconds: time spent in transform calls, per batch.
pub const TRANSFORM_DURATION: &str = "wproc_transform_duration_seconds";
/// Counter `{component, error_type}`: errors by component and class (`transient`: retried;
/// `definite`: stopped the pipeline or, by policy, skipped a batch).
pub const COMPONENT_ERRORS: &str = "wproc_component_errors_total";
/// Gauge, seconds: now minus the timestamp of the last binlog event read; 0 after a heartbeat
/// (the server had nothing more to send). Binlog timestamps have one-second resolution.
pub const REPLICATION_LAG: &str = "wproc_replication_lag_seconds";
/// Gauge `{shard}`, events: how far the SLS consumer is behind the end of each shard it holds.
pub const SLS_CONSUMER_LAG: &str = "wproc_sls_consumer_lag";
/// Gauge `{checkpoint}`, seconds: time since the checkpoint last advanced (`capture`: the binlog
/// position; `process`: the transport offsets). It grows while the pipeline is idle too: alert
/// on it together with the lag.
pub const CHECKPOINT_AGE: &str = "wproc_checkpoint_age_seconds";
/// Counter `{checkpoint}`: checkpoint commits.
pub const CHECKPOINT_COMMITS: &str = "wproc_checkpoint_commits_total";

/// A pipeline stage, the `stage` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading the binlog (or another source).
    Source,
    /// Appending source batches to the transport.
    Capture,
    /// Reading the transport and batching for the sink.
    Process,
    /// Running the WASM transforms.
    Transform,
    /// Writing output (files, HDFS).
    Sink,
}

impl Stage {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Source => "source",
            Stage::Capture => "capture",
            Stage::Process => "process",
            Stage::Transform => "transform",
            Stage::Sink => "sink",
        }
    }
}

/// A component, the `component` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// The MySQL/MariaDB source.
    Mysql,
    /// The embedded local log transport.
    LocalLog,
    /// The SLS transport.
    Sls,
    /// The WASM transform runtime.
    Wasm,
    /// The local files sink.
    Files,
    /// The HDFS sink.
    Hdfs,
    /// Wiring, configuration, internal failures.
    Pipeline,
}

impl Component {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Component::Mysql => "mysql",
            Component::LocalLog => "local_log",
            Component::Sls => "sls",
            Component::Wasm => "wasm",
            Component::Files => "files",
            Component::Hdfs => "hdfs",
            Component::Pipeline => "pipeline",
        }
    }
}

/// An error class, the `error_type` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Retried (network, throttling, I/O).
    Transient,
    /// Not retried: stops the pipeline, or skips per policy.
    Definite,
}

impl ErrorClass {
    /// From an error's `is_retriable()`.
    pub const fn from_retriable(retriable: bool) -> Self {
        if retriable {
            ErrorClass::Transient
        } else {
            ErrorClass::Definite
        }
    }

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Definite => "definite",
        }
    }
}

/// A checkpoint, the `checkpoint` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Checkpoint {
    /// Capture's binlog position, written after the transport acknowledged.
    Capture,
    /// The process half's transport offsets (or SLS cursors), committed after the sink.
    Process,
}

impl Checkpoint {
    const ALL: [Checkpoint; 2] = [Checkpoint::Capture, Checkpoint::Process];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Checkpoint::Capture => "capture",
            Checkpoint::Process => "process",
        }
    }
}

type Labels1 = [(&'static str, &'static str); 1];
type Labels2 = [(&'static str, &'static str); 2];
type FloatGauge = Gauge<f64, AtomicU64>;

struct Metrics {
    registry: Registry,
    events_in: Family<Labels1, Counter>,
    events_out: Family<Labels1, Counter>,
    bytes: Family<Labels1, Counter>,
    sink_files: Family<Labels1, Counter>,
    batch_latency: Family<Labels1, Histogram, fn() -> Histogram>,
    transform_duration: Histogram,
    errors: Family<Labels2, Counter>,
    replication_lag: FloatGauge,
    sls_consumer_lag: Family<[(&'static str, String); 1], Gauge>,
    checkpoint_age: Family<Labels1, FloatGauge>,
    checkpoint_commits: Family<Labels1, Counter>,
    /// Unix milliseconds of each checkpoint's last commit (0: never), read at scrape time.
    last_commit_ms: [AtomicI64; 2],
}

fn latency_histogram() -> Histogram {
    // 1 ms … about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Registers `metric` under `name`, which the registry prints with `_total` for counters.
fn register<M>(registry: &mut Registry, name: &str, help: &str, metric: M)
where
    M: prometheus_client::registry::Metric,
{
    let base = name.strip_suffix("_total").unwrap_or(name);
    registry.register(base, help, metric);
}

type LagReader = Box<dyn Fn() -> Duration + Send + Sync>;

/// Where the replication lag comes from (see [`set_replication_lag_fn`]).
static LAG_READER: Mutex<Option<LagReader>> = Mutex::new(None);

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let m = Metrics {
        events_in: Family::default(),
        events_out: Family::default(),
        bytes: Family::default(),
        sink_files: Family::default(),
        batch_latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
        transform_duration: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
        errors: Family::default(),
        replication_lag: FloatGauge::default(),
        sls_consumer_lag: Family::default(),
        checkpoint_age: Family::default(),
        checkpoint_commits: Family::default(),
        last_commit_ms: [AtomicI64::new(0), AtomicI64::new(0)],
        registry: Registry::default(),
    };
    let r = &mut registry;
    register(
        r,
        EVENTS_IN,
        "Events a stage received.",
        m.events_in.clone(),
    );
    register(
        r,
        EVENTS_OUT,
        "Events a stage handed on durably.",
        m.events_out.clone(),
    );
    register(
        r,
        BYTES,
        "Encoded bytes a stage wrote or read.",
        m.bytes.clone(),
    );
    register(
        r,
        SINK_FILES,
        "Output files made durable.",
        m.sink_files.clone(),
    );
    register(
        r,
        BATCH_LATENCY,
        "Seconds from a batch's first event to its durable write.",
        m.batch_latency.clone(),
    );
    register(
        r,
        TRANSFORM_DURATION,
        "Seconds spent in transform calls per batch.",
        m.transform_duration.clone(),
    );
    register(
        r,
        COMPONENT_ERRORS,
        "Errors by component and class.",
        m.errors.clone(),
    );
    register(
        r,
        REPLICATION_LAG,
        "Now minus the timestamp of the last binlog event read.",
        m.replication_lag.clone(),
    );
    register(
        r,
        SLS_CONSUMER_LAG,
        "Events between the SLS consumer's cursor and the shard end.",
        m.sls_consumer_lag.clone(),
    );
    register(
        r,
        CHECKPOINT_AGE,
        "Seconds since the checkpoint last advanced.",
        m.checkpoint_age.clone(),
    );
    register(
        r,
        CHECKPOINT_COMMITS,
        "Checkpoint commits.",
        m.checkpoint_commits.clone(),
    );
    Metrics { registry, ..m }
});

fn usize_to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `stage` received `n` events.
pub fn events_in(stage: Stage, n: usize) {
    METRICS
        .events_in
        .get_or_create(&[("stage", stage.as_str())])
        .inc_by(usize_to_u64(n));
}

/// `stage` handed `n` events on durably.
pub fn events_out(stage: Stage, n: usize) {
    METRICS
        .events_out
        .get_or_create(&[("stage", stage.as_str())])
        .inc_by(usize_to_u64(n));
}

/// `stage` wrote (or, for `Process`, read) `n` encoded bytes.
pub fn bytes(stage: Stage, n: usize) {
    METRICS
        .bytes
        .get_or_create(&[("stage", stage.as_str())])
        .inc_by(usize_to_u64(n));
}

/// `sink` made `n` output files durable.
pub fn sink_files(sink: Component, n: usize) {
    METRICS
        .sink_files
        .get_or_create(&[("component", sink.as_str())])
        .inc_by(usize_to_u64(n));
}

/// A batch of `stage` took `elapsed` from its first event to its durable write.
pub fn batch_latency(stage: Stage, elapsed: Duration) {
    METRICS
        .batch_latency
        .get_or_create(&[("stage", stage.as_str())])
        .observe(elapsed.as_secs_f64());
}

/// A transform call took `elapsed`.
pub fn transform_time(elapsed: Duration) {
    METRICS.transform_duration.observe(elapsed.as_secs_f64());
}

/// `component` met an error of `class`.
pub fn error(component: Component, class: ErrorClass) {
    METRICS
        .errors
        .get_or_create(&[
            ("component", component.as_str()),
            ("error_type", class.as_str()),
        ])
        .inc();
}

/// Sets the replication lag.
pub fn set_replication_lag(lag: Duration) {
    METRICS.replication_lag.set(lag.as_secs_f64());
}

/// Reads the replication lag from `read` at every scrape (and status line update) from now on:
/// the source keeps its own atomics and the gauge follows them without a call per event.
pub fn set_replication_lag_fn(read: impl Fn() -> Duration + Send + Sync + 'static) {
    *LAG_READER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(read));
}

/// Updates the gauge from the registered reader, if any.
fn refresh_replication_lag() {
    let reader = LAG_READER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(read) = reader.as_ref() {
        set_replication_lag(read());
    }
}

/// Sets the SLS consumer lag of `shard`, in events (or log groups, as the service reports).
pub fn set_sls_consumer_lag(shard: u32, lag: i64) {
    METRICS
        .sls_consumer_lag
        .get_or_create(&[("shard", shard.to_string())])
        .set(lag);
}

/// Drops the SLS consumer lag of a shard this worker no longer holds.
pub fn clear_sls_consumer_lag(shard: u32) {
    METRICS
        .sls_consumer_lag
        .remove(&[("shard", shard.to_string())]);
}

/// `checkpoint` was committed just now.
pub fn checkpoint_committed(checkpoint: Checkpoint) {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    METRICS.last_commit_ms[checkpoint as usize].store(now_ms, Ordering::Relaxed);
    METRICS
        .checkpoint_commits
        .get_or_create(&[("checkpoint", checkpoint.as_str())])
        .inc();
}

/// A counter's current value, for tests and the status line.
pub fn events_out_count(stage: Stage) -> u64 {
    METRICS
        .events_out
        .get(&[("stage", stage.as_str())])
        .map_or(0, |c| c.get())
}

/// The current replication lag, for the status line.
pub fn replication_lag() -> f64 {
    refresh_replication_lag();
    METRICS.replication_lag.get()
}

/// The OpenMetrics text of every metric, with the checkpoint ages computed now.
pub fn render() -> String {
    refresh_replication_lag();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    for checkpoint in Checkpoint::ALL {
        let last = METRICS.last_commit_ms[checkpoint as usize].load(Ordering::Relaxed);
        if last > 0 {
            let age = now_ms.saturating_sub(last).max(0) as f64 / 1000.0;
            METRICS
                .checkpoint_age
                .get_or_create(&[("checkpoint", checkpoint.as_str())])
                .set(age);
        }
    }
    let mut text = String::with_capacity(8 << 10);
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &METRICS.registry);
    text
}
