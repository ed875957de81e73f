//! Writing and recovering batches of JSON Lines files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use tracing::info;

use super::config::FilesSinkConfig;
use super::error::FilesSinkError;
use crate::event::jsonl;
use crate::fsutil;
use crate::sink::{OutputBatch, PathTemplate};
use crate::telemetry::metrics;

const FINAL_PREFIX: &str = "part-";
const TEMP_PREFIX: &str = ".part-";
const SUFFIX: &str = ".jsonl";
const TEMP_SUFFIX: &str = ".jsonl.tmp";

/// The local-files sink (see the module docs for the commit protocol).
#[derive(Debug, Clone)]
pub struct FilesSink {
    root: PathBuf,
    template: PathTemplate,
}

/// Identifies a batch: shard and offset range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct BatchId {
    shard: usize,
    start: u64,
    end: u64,
}

impl BatchId {
    fn file_stem(&self) -> String {
        format!(
            "{FINAL_PREFIX}{:04}-{:020}-{:020}",
            self.shard, self.start, self.end
        )
    }

    fn final_name(&self) -> String {
        format!("{}{SUFFIX}", self.file_stem())
    }

    fn temp_name(&self) -> String {
        format!(".{}{TEMP_SUFFIX}", self.file_stem())
    }

    /// Parses `part-S-A-B.jsonl` (temp: false) or `.part-S-A-B.jsonl.tmp` (temp: true).
    fn parse(name: &str) -> Option<(Self, bool)> {
        let (body, temp) = if let Some(b) = name.strip_prefix(TEMP_PREFIX) {
            (b.strip_suffix(TEMP_SUFFIX)?, true)
        } else {
            (
                name.strip_prefix(FINAL_PREFIX)?.strip_suffix(SUFFIX)?,
                false,
            )
        };
        let mut it = body.split('-');
        let shard = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        let end = it.next()?.parse().ok()?;
        it.next()
            .is_none()
            .then_some((BatchId { shard, start, end }, temp))
    }
}

impl FilesSink {
    /// A sink for the configuration (validated, so the template parses).
    pub fn new(config: &FilesSinkConfig) -> Result<Self, String> {
        Ok(Self {
            root: config.dir.clone(),
            template: PathTemplate::parse(&config.path)?,
        })
    }

    /// The output root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Finishes or removes the temporaries of `shards` left by a crash and returns, per shard
    /// of `shards`, the highest offset that final files cover.
    pub fn recover(&self, shards: &[usize]) -> Result<HashMap<usize, u64>, FilesSinkError> {
        fsutil::create_dir_all_durable(&self.root)
            .map_err(FilesSinkError::at("creating", &self.root))?;
        let mut finals = BTreeSet::new();
        let mut temps = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).map_err(FilesSinkError::at("listing", &dir))? {
                let entry = entry.map_err(FilesSinkError::at("listing", &dir))?;
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .map_err(FilesSinkError::at("inspecting", &path))?;
                if kind.is_dir() {
                    stack.push(path);
                    continue;
                }
                if let Some((id, temp)) = BatchId::parse(&entry.file_name().to_string_lossy()) {
                    if !shards.contains(&id.shard) {
                        continue;
                    }
                    if temp {
                        temps.push((id, path));
                    } else {
                        finals.insert(id);
                    }
                }
            }
        }
        let mut touched = BTreeSet::new();
        for (id, path) in temps {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            if finals.contains(&id) {
                let target = dir.join(id.final_name());
                info!(message = "Completing a batch interrupted by a crash.", file = %target.display());
                fs::rename(&path, &target).map_err(FilesSinkError::at("renaming", &path))?;
            } else {
                fs::remove_file(&path).map_err(FilesSinkError::at("removing", &path))?;
            }
            touched.insert(dir);
        }
        for dir in touched {
            fsutil::sync_dir(&dir).map_err(FilesSinkError::at("syncing", &dir))?;
        }
        let mut ends = HashMap::new();
        for id in finals {
            let end = ends.entry(id.shard).or_insert(0);
            *end = id.end.max(*end);
        }
        Ok(ends)
    }

    /// Writes the events of `batch` durably. Returns the number of files written (0 for an
    /// empty batch). Safe to call again for the same range after a failure: temporaries are
    /// rewritten from scratch.
    pub fn write_batch(&self, batch: &OutputBatch) -> Result<usize, FilesSinkError> {
        let id = BatchId {
            shard: batch.shard,
            start: batch.start,
            end: batch.end,
        };
        let mut partitions: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
        let mut last: Option<(&str, &str, u64, Option<&str>, PathBuf)> = None;
        for (i, event) in batch.events.iter().enumerate() {
            let hour = event.ts_ms / 3_600_000;
            let route = batch.route(i);
            let dir = match &last {
                Some((db, table, h, r, dir))
                    if *db == &*event.db
                        && *table == &*event.table
                        && *h == hour
                        && *r == route =>
                {
                    dir.clone()
                }
                _ => {
                    let dir = self.template.render(event, route);
                    last = Some((&event.db, &event.table, hour, route, dir.clone()));
                    dir
                }
            };
            jsonl::write_event(partitions.entry(dir).or_default(), event);
        }
        let mut written = Vec::with_capacity(partitions.len());
        for (relative, bytes) in &partitions {
            let dir = self.root.join(relative);
            fsutil::create_dir_all_durable(&dir).map_err(FilesSinkError::at("creating", &dir))?;
            let temp = dir.join(id.temp_name());
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&temp)
                .map_err(FilesSinkError::at("creating", &temp))?;
            file.write_all(bytes)
                .map_err(FilesSinkError::at("writing", &temp))?;
            file.sync_all()
                .map_err(FilesSinkError::at("syncing", &temp))?;
            written.push((dir, temp));
        }
        for (dir, temp) in &written {
            let target = dir.join(id.final_name());
            fs::rename(temp, &target).map_err(FilesSinkError::at("renaming", temp))?;
        }
        for (dir, _) in &written {
            fsutil::sync_dir(dir).map_err(FilesSinkError::at("syncing", dir))?;
        }
        metrics::sink_files(metrics::Component::Files, written.len());
        metrics::bytes(
            metrics::Stage::Sink,
            partitions.values().map(Vec::len).sum(),
        );
        Ok(written.len())
    }
}

#[cfg(test)]
pub(super) fn batch_name(shard: usize, start: u64, end: u64) -> (String, String) {
    let id = BatchId { shard, start, end };
    (id.final_name(), id.temp_name())
}
