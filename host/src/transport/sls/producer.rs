//! The capture side: change events to LogGroups, PutLogs per shard in order, then the ack.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::event::{ChangeEvent, EventPosition};
use crate::fsutil;
use crate::retry::Backoff;
use crate::sls::client::EncodedGroup;
use crate::sls::{ClientOptions, ShardInfo, SlsClient, SlsEndpoint, hash_key_for};
use crate::source::SourceCheckpoint;
use crate::telemetry::metrics::{self, Component, ErrorClass};

use super::config::SlsTransportConfig;
use super::error::SlsTransportError;
use super::highwater::{last_position_before, seq_of};
use super::wire::LogEncoder;

const CAPTURE_CHECKPOINT_FILE: &str = "capture.json";
/// Encoded groups waiting for their PutLogs, per shard.
const ENCODED_AHEAD: usize = 2;
const LOCK_FILE: &str = "capture.lock";

/// Builds the client of a configuration.
pub fn client_of(config: &SlsTransportConfig) -> Result<SlsClient, SlsTransportError> {
    let endpoint = SlsEndpoint::parse(&config.endpoint)?;
    let credentials = config.credentials(|name| std::env::var(name).ok())?;
    let options = ClientOptions {
        put_compression: config.compression,
        pull_compression: config.compression,
        ..ClientOptions::default()
    };
    Ok(SlsClient::new(
        endpoint,
        &config.project,
        credentials,
        options,
    )?)
}

/// `(db, table)`.
type TableName = (Arc<str>, Arc<str>);

/// One writable shard, its hash range, and the last position wproc wrote to it.
#[derive(Debug)]
struct ShardState {
    info: ShardInfo,
    last: Option<EventPosition>,
}

/// Writes change events into a logstore; see the module docs of [`super`] for the invariants.
#[derive(Debug)]
pub struct SlsProducer {
    client: SlsClient,
    config: Arc<SlsTransportConfig>,
    source: String,
    shards: Vec<ShardState>,
    /// `db.table` → index in `shards` and hash key.
    routes: HashMap<TableName, (usize, Arc<str>)>,
    checkpoint_path: PathBuf,
    _lock: File,
}

impl SlsProducer {
    /// Locks the state directory, lists the shards and reads each one's high-water mark.
    pub async fn open(config: &SlsTransportConfig) -> Result<Self, SlsTransportError> {
        let dir = config.state_dir.clone();
        let lock = tokio::task::spawn_blocking(move || lock_state_dir(&dir))
            .await
            .map_err(|e| SlsTransportError::Config(format!("state lock task: {e}")))??;
        let client = client_of(config)?;
        let logstore = &config.logstore;
        let mut shards = Vec::new();
        for info in client.list_shards(logstore).await? {
            if !info.is_writable() {
                continue;
            }
            let end = client
                .get_cursor(logstore, info.shard_id, crate::sls::CursorFrom::End)
                .await?;
            let end = seq_of(logstore, info.shard_id, &end)?;
            let last = last_position_before(&client, logstore, info.shard_id, end).await?;
            info!(
                message = "SLS shard high-water mark.",
                logstore = %logstore,
                shard = info.shard_id,
                end,
                last = %last.as_ref().map(ToString::to_string).unwrap_or_default()
            );
            shards.push(ShardState { info, last });
        }
        if shards.is_empty() {
            return Err(SlsTransportError::Config(format!(
                "logstore {logstore} has no writable shard"
            )));
        }
        Ok(Self {
            client,
            config: Arc::new(config.clone()),
            source: config.source_name(),
            shards,
            routes: HashMap::new(),
            checkpoint_path: config.state_dir.join(CAPTURE_CHECKPOINT_FILE),
            _lock: lock,
        })
    }

    /// The capture checkpoint, if capture ever wrote one.
    pub fn capture_checkpoint(&self) -> Result<Option<SourceCheckpoint>, SlsTransportError> {
        let path = &self.checkpoint_path;
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                SlsTransportError::StateCorrupt {
                    path: path.clone(),
                    message: e.to_string(),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SlsTransportError::state(path)(e)),
        }
    }

    /// Records where capture resumes. Call only after [`SlsProducer::append`] returned for
    /// every event before it.
    pub fn write_capture_checkpoint(&self, cp: &SourceCheckpoint) -> Result<(), SlsTransportError> {
        let bytes = serde_json::to_vec_pretty(cp).unwrap_or_default();
        fsutil::write_atomic(&self.checkpoint_path, &bytes)
            .map_err(SlsTransportError::state(&self.checkpoint_path))
    }

    fn route(&mut self, db: &Arc<str>, table: &Arc<str>) -> Result<usize, SlsTransportError> {
        if let Some((shard, _)) = self.routes.get(&(db.clone(), table.clone())) {
            return Ok(*shard);
        }
        let key = hash_key_for(format!("{db}.{table}").as_bytes());
        let shard = self
            .shards
            .iter()
            .position(|s| s.info.contains_key(&key))
            .ok_or_else(|| SlsTransportError::NoShard {
                logstore: self.config.logstore.clone(),
                table: format!("{db}.{table}"),
                hash_key: key.clone(),
            })?;
        self.routes
            .insert((db.clone(), table.clone()), (shard, key.into()));
        Ok(shard)
    }

    /// Writes `events` (in binlog order): drops those a shard already holds (by position),
    /// encodes the rest into LogGroups per shard, and puts each shard's groups in order, shards
    /// in parallel. Returns the number of events written once every PutLogs succeeded.
    /// Retriable failures are retried with backoff until `shutdown`.
    pub async fn append(
        &mut self,
        events: Vec<ChangeEvent>,
        shutdown: &CancellationToken,
    ) -> Result<usize, SlsTransportError> {
        let mut per_shard: Vec<Vec<ChangeEvent>> =
            (0..self.shards.len()).map(|_| Vec::new()).collect();
        let mut skipped = 0usize;
        for event in events {
            let shard = self.route(&event.db, &event.table)?;
            if self.shards[shard]
                .last
                .as_ref()
                .is_some_and(|last| event.pos <= *last)
            {
                skipped += 1;
                continue;
            }
            per_shard[shard].push(event);
        }
        if skipped > 0 {
            info!(
                message = "Dropped events the logstore already holds (replay after a restart).",
                skipped
            );
        }
        let mut sends = Vec::new();
        let mut written = 0;
        for (index, events) in per_shard.into_iter().enumerate() {
            let Some(last) = events.last() else {
                continue;
            };
            written += events.len();
            let last = last.pos.clone();
            let key = self.routes[&(events[0].db.clone(), events[0].table.clone())]
                .1
                .clone();
            let (config, source) = (self.config.clone(), self.source.clone());
            let client = self.client.clone();
            let encoder = client.clone();
            // Groups are sent as they are encoded: encoding the next group overlaps the
            // PutLogs of the previous one (the shard's order is the channel's order).
            let (tx, mut rx) = tokio::sync::mpsc::channel::<EncodedGroup>(ENCODED_AHEAD);
            let encoding = tokio::task::spawn_blocking(move || {
                encode_groups_with(&events, &config, &source, |raw, logs| {
                    // A closed channel means the sender failed: stop encoding.
                    tx.blocking_send(encoder.encode_group(raw, logs)).is_ok()
                });
            });
            let logstore = self.config.logstore.clone();
            let shard_id = self.shards[index].info.shard_id;
            let shutdown = shutdown.clone();
            sends.push(async move {
                while let Some(group) = rx.recv().await {
                    put_with_retry(&client, &logstore, shard_id, &key, &group, &shutdown).await?;
                }
                encoding.await.map_err(|e| {
                    SlsTransportError::Config(format!("LogGroup encoding task failed: {e}"))
                })?;
                Ok::<_, SlsTransportError>((index, last))
            });
        }
        for result in futures_util::future::join_all(sends).await {
            let (index, last) = result?;
            self.shards[index].last = Some(last);
        }
        Ok(written)
    }
}

/// PutLogs, retrying retriable failures (after the client's own retries) until shutdown.
async fn put_with_retry(
    client: &SlsClient,
    logstore: &str,
    shard: u32,
    hash_key: &str,
    group: &EncodedGroup,
    shutdown: &CancellationToken,
) -> Result<(), SlsTransportError> {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match client.put_encoded(logstore, Some(hash_key), group).await {
            Ok(()) => {
                debug!(message = "PutLogs done.", shard, logs = group.logs());
                return Ok(());
            }
            Err(e) if e.is_retriable() && !shutdown.is_cancelled() => {
                metrics::error(Component::Sls, ErrorClass::Transient);
                warn!(message = "PutLogs failed; retrying.", error = %e, shard);
                tokio::time::sleep(backoff.next_delay()).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Serializes `events` into LogGroup bodies of at most `max_group_logs` logs and about
/// `max_group_bytes` bytes (a single larger log gets a group of its own), in order: each is
/// `(serialized LogGroup, number of logs)`.
pub fn encode_groups(
    events: &[ChangeEvent],
    config: &SlsTransportConfig,
    source: &str,
) -> Vec<(Vec<u8>, usize)> {
    let mut groups = Vec::new();
    encode_groups_with(events, config, source, |raw, logs| {
        groups.push((raw.to_vec(), logs));
        true
    });
    groups
}

/// [`encode_groups`], handing each group to `emit` as soon as it is complete; stops early
/// when `emit` returns false.
fn encode_groups_with(
    events: &[ChangeEvent],
    config: &SlsTransportConfig,
    source: &str,
    mut emit: impl FnMut(&[u8], usize) -> bool,
) {
    let mut encoder = LogEncoder::default();
    let mut raw: Vec<u8> = Vec::with_capacity(config.max_group_bytes + (64 << 10));
    let mut logs = 0usize;
    let mut one = Vec::new();
    let mut finish = |raw: &mut Vec<u8>, logs: usize| {
        // Topic (3) and source (4) after the logs, where prost puts them.
        put_string_field(raw, 3, &config.topic);
        put_string_field(raw, 4, source);
        let go_on = emit(raw, logs);
        raw.clear();
        go_on
    };
    for event in events {
        one.clear();
        let size = encoder.encode(event, config.host.as_deref(), &mut one);
        let full = logs >= config.max_group_logs
            || (logs > 0 && raw.len() + size > config.max_group_bytes);
        if full {
            if !finish(&mut raw, logs) {
                return;
            }
            logs = 0;
        }
        raw.extend_from_slice(&one);
        logs += 1;
    }
    if logs > 0 {
        finish(&mut raw, logs);
    }
}

/// Appends a length-delimited string field.
fn put_string_field(out: &mut Vec<u8>, field: u32, value: &str) {
    prost::encoding::encode_key(field, prost::encoding::WireType::LengthDelimited, out);
    prost::encoding::encode_varint(value.len() as u64, out);
    out.extend_from_slice(value.as_bytes());
}

/// Creates the state directory and takes its lock: one capture per state directory.
fn lock_state_dir(dir: &std::path::Path) -> Result<File, SlsTransportError> {
    fsutil::create_dir_all_durable(dir).map_err(SlsTransportError::state(dir))?;
    let path = dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(SlsTransportError::state(&path))?;
    lock.try_lock().map_err(|_| SlsTransportError::State {
        path: path.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "another wproc capture uses this state directory",
        ),
    })?;
    Ok(lock)
}
