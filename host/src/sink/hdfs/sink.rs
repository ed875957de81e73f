//! Writing and recovering batches of files in HDFS (see the module docs for the protocol).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdfs_native::{Client, ClientBuilder, HdfsError, WriteOptions};
use tokio::sync::Semaphore;
use tracing::{info, warn};

use super::config::HdfsSinkConfig;
use super::error::HdfsSinkError;
use crate::retry::Backoff;
use crate::sink::batch_file::{BatchFileName, BatchId, Compression, encode_partitions};
use crate::sink::{OutputBatch, PathTemplate};

/// Bytes handed to one `write_bytes` call, each under its own `op_timeout`.
const WRITE_CHUNK: usize = 8 << 20;
const DIR_PERMISSION: u32 = 0o755;

/// The HDFS sink. Shared by every shard processor.
#[derive(Debug)]
pub struct HdfsSink {
    client: Client,
    root: String,
    template: PathTemplate,
    compression: Compression,
    op_timeout: Duration,
    give_up_after: Duration,
    open_files: Semaphore,
    /// Batches whose renames have started in this process: a retry only finishes renaming.
    renaming: Mutex<HashSet<BatchId>>,
    /// Per shard, since when its writes have been failing.
    failing_since: Mutex<HashMap<usize, Instant>>,
}

impl HdfsSink {
    /// A sink for a validated configuration. Connects lazily: an unreachable NameNode shows up
    /// on the first call.
    pub fn new(config: &HdfsSinkConfig) -> Result<Self, HdfsSinkError> {
        let mut builder = ClientBuilder::new();
        if let Some(url) = &config.url {
            builder = builder.with_url(url);
        }
        if let Some(dir) = &config.config_dir {
            builder = builder.with_config_dir(dir.to_string_lossy());
        }
        if let Some(user) = &config.user {
            builder = builder.with_user(user);
        }
        if let Some(p) = &config.kerberos_principal {
            builder = builder.with_kerberos_principal(p);
        }
        if let Some(k) = &config.kerberos_keytab {
            builder = builder.with_kerberos_keytab(k.to_string_lossy());
        }
        if let Some(c) = &config.kerberos_cache {
            builder = builder.with_kerberos_cache(c.to_string_lossy());
        }
        let client = builder.build().map_err(|source| HdfsSinkError::Setup {
            url: config.url.clone().unwrap_or_else(|| "fs.defaultFS".into()),
            source,
        })?;
        let template = PathTemplate::parse(&config.path).map_err(|m| HdfsSinkError::Setup {
            url: config.path.clone(),
            source: HdfsError::InvalidArgument(m),
        })?;
        Ok(Self {
            client,
            root: config.dir.trim_end_matches('/').to_owned(),
            template,
            compression: config.compression,
            op_timeout: config.op_timeout,
            give_up_after: config.give_up_after,
            open_files: Semaphore::new(config.max_open_files.get()),
            renaming: Mutex::new(HashSet::new()),
            failing_since: Mutex::new(HashMap::new()),
        })
    }

    /// The client (for tests and tools reading the output back).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The output root.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Runs one HDFS call under `op_timeout`.
    async fn call<T>(
        &self,
        action: &'static str,
        path: &str,
        fut: impl Future<Output = Result<T, HdfsError>>,
    ) -> Result<T, HdfsSinkError> {
        match tokio::time::timeout(self.op_timeout, fut).await {
            Ok(result) => result.map_err(HdfsSinkError::at(action, path)),
            Err(_) => Err(HdfsSinkError::Timeout {
                action,
                path: path.to_owned(),
                after: self.op_timeout,
            }),
        }
    }

    /// Finishes or removes the temporaries of `shards` left by a crash and returns, per shard
    /// of `shards`, the highest offset that final files cover. Transient failures (a NameNode
    /// still starting) are retried for up to `give_up_after`.
    pub async fn recover(&self, shards: &[usize]) -> Result<HashMap<usize, u64>, HdfsSinkError> {
        let started = Instant::now();
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            match self.try_recover(shards).await {
                Ok(ends) => return Ok(ends),
                Err(e) if e.is_retriable() && started.elapsed() < self.give_up_after => {
                    warn!(message = "HDFS recovery failed; retrying.", error = %e);
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(e) if e.is_retriable() => {
                    return Err(HdfsSinkError::GaveUp {
                        shard: shards.first().copied().unwrap_or(0),
                        start: 0,
                        end: 0,
                        failing_for: started.elapsed(),
                        last: Box::new(e),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn try_recover(&self, shards: &[usize]) -> Result<HashMap<usize, u64>, HdfsSinkError> {
        let root = &self.root;
        self.call(
            "creating",
            root,
            self.client.mkdirs(root, DIR_PERMISSION, true),
        )
        .await?;
        let listing = self
            .call("listing", root, self.client.list_status(root, true))
            .await?;
        let mut finals = BTreeSet::new();
        let mut temps = Vec::new();
        for status in listing.into_iter().filter(|s| !s.isdir) {
            let name = status.path.rsplit('/').next().unwrap_or_default();
            let Some(parsed) = BatchFileName::parse(name) else {
                continue;
            };
            if !shards.contains(&parsed.id.shard) {
                continue;
            }
            if parsed.temporary {
                temps.push((parsed, status.path));
            } else {
                finals.insert(parsed.id);
            }
        }
        for (parsed, path) in temps {
            if finals.contains(&parsed.id) {
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                let target = format!("{dir}/{}", parsed.final_name());
                info!(message = "Completing a batch interrupted by a crash.", file = %target);
                self.call("renaming", &path, self.client.rename(&path, &target, true))
                    .await?;
            } else {
                info!(message = "Removing a temporary of an uncommitted batch.", file = %path);
                self.call("removing", &path, self.client.delete(&path, false))
                    .await?;
            }
        }
        let mut ends = HashMap::new();
        for id in finals {
            let end = ends.entry(id.shard).or_insert(0);
            *end = id.end.max(*end);
        }
        Ok(ends)
    }

    /// Writes `batch` durably; returns the number of files. Transient failures are returned
    /// as such (the caller retries the same batch) until the shard has been failing for
    /// `give_up_after`; then the error is [`HdfsSinkError::GaveUp`], which is definite.
    pub async fn write_batch(
        self: &Arc<Self>,
        batch: Arc<OutputBatch>,
    ) -> Result<usize, HdfsSinkError> {
        let result = self.try_write_batch(batch.clone()).await;
        let mut failing = self.failing_since.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(n) => {
                failing.remove(&batch.shard);
                Ok(n)
            }
            Err(e) if e.is_retriable() => {
                let since = *failing.entry(batch.shard).or_insert_with(Instant::now);
                if since.elapsed() >= self.give_up_after {
                    failing.remove(&batch.shard);
                    return Err(HdfsSinkError::GaveUp {
                        shard: batch.shard,
                        start: batch.start,
                        end: batch.end,
                        failing_for: since.elapsed(),
                        last: Box::new(e),
                    });
                }
                Err(e)
            }
            Err(e) => {
                failing.remove(&batch.shard);
                Err(e)
            }
        }
    }

    async fn try_write_batch(
        self: &Arc<Self>,
        batch: Arc<OutputBatch>,
    ) -> Result<usize, HdfsSinkError> {
        if batch.events.is_empty() {
            return Ok(0);
        }
        let id = BatchId::of(&batch);
        let (template, compression) = (self.template.clone(), self.compression);
        let encoded =
            tokio::task::spawn_blocking(move || encode_partitions(&template, &batch, compression))
                .await
                .map_err(|e| HdfsSinkError::Task(e.to_string()))?
                .map_err(|source| HdfsSinkError::Compress {
                    shard: id.shard,
                    start: id.start,
                    end: id.end,
                    source,
                })?;
        let dirs: Vec<String> = encoded.iter().map(|(d, _)| self.dir_of(d)).collect();
        let renaming_started = self.renaming_set().contains(&id);
        if !renaming_started {
            let mut writes = tokio::task::JoinSet::new();
            for (dir, (_, body)) in dirs.iter().zip(encoded) {
                let (sink, dir) = (self.clone(), dir.clone());
                writes.spawn(async move { sink.write_temporary(id, &dir, body).await });
            }
            // On an error, dropping the set aborts the other writes; the retry replaces them.
            while let Some(joined) = writes.join_next().await {
                joined.map_err(|e| HdfsSinkError::Task(e.to_string()))??;
            }
            // From here on the batch may have final files: never rewrite its temporaries.
            self.renaming_set().insert(id);
        }
        for dir in &dirs {
            self.rename_to_final(id, dir).await?;
        }
        self.renaming_set().remove(&id);
        Ok(dirs.len())
    }

    fn renaming_set(&self) -> std::sync::MutexGuard<'_, HashSet<BatchId>> {
        self.renaming.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn dir_of(&self, relative: &Path) -> String {
        format!("{}/{}", self.root, relative.to_string_lossy())
    }

    /// Writes one temporary: create (replacing a leftover of a failed attempt), write, hsync,
    /// close. Returns once the NameNode has completed the file.
    async fn write_temporary(
        &self,
        id: BatchId,
        dir: &str,
        body: Vec<u8>,
    ) -> Result<(), HdfsSinkError> {
        let _permit = self
            .open_files
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let path = format!("{dir}/{}", id.temp_name(self.compression));
        let options = || WriteOptions::default().overwrite(false).create_parent(true);
        let mut writer = match self
            .call("creating", &path, self.client.create(&path, options()))
            .await
        {
            Err(HdfsSinkError::Hdfs {
                source: HdfsError::AlreadyExists(_),
                ..
            }) => {
                // A failed attempt's temporary, possibly still open under another lease:
                // deleting it is safe (no final of this batch exists yet).
                self.call("removing", &path, self.client.delete(&path, false))
                    .await?;
                self.call("creating", &path, self.client.create(&path, options()))
                    .await?
            }
            other => other?,
        };
        let mut body = Bytes::from(body);
        while !body.is_empty() {
            let chunk = body.split_to(body.len().min(WRITE_CHUNK));
            self.call("writing", &path, writer.write_bytes(chunk))
                .await?;
        }
        self.call("syncing", &path, writer.hsync()).await?;
        self.call("closing", &path, writer.close()).await?;
        Ok(())
    }

    /// Renames the temporary of `id` in `dir` to its final name; a temporary already gone
    /// with its final present (an earlier attempt whose answer was lost) counts as done.
    async fn rename_to_final(&self, id: BatchId, dir: &str) -> Result<(), HdfsSinkError> {
        let temp = format!("{dir}/{}", id.temp_name(self.compression));
        let target = format!("{dir}/{}", id.final_name(self.compression));
        match self
            .call("renaming", &temp, self.client.rename(&temp, &target, true))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let final_exists = self
                    .call("inspecting", &target, self.client.get_file_info(&target))
                    .await
                    .is_ok();
                let temp_gone = matches!(
                    self.call("inspecting", &temp, self.client.get_file_info(&temp))
                        .await,
                    Err(HdfsSinkError::Hdfs {
                        source: HdfsError::FileNotFound(_),
                        ..
                    })
                );
                if final_exists && temp_gone {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
