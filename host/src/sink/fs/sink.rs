//! Writing and recovering batches of JSON Lines files.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use tracing::info;

use super::config::FilesSinkConfig;
use super::error::FilesSinkError;
use crate::fsutil;
use crate::sink::batch_file::{BatchFileName, BatchId, Compression, encode_partitions};
use crate::sink::{OutputBatch, PathTemplate};
use crate::telemetry::metrics;

/// The local-files sink (see the module docs for the commit protocol).
#[derive(Debug, Clone)]
pub struct FilesSink {
    root: PathBuf,
    template: PathTemplate,
    compression: Compression,
}

impl FilesSink {
    /// A sink for the configuration (validated, so the template parses).
    pub fn new(config: &FilesSinkConfig) -> Result<Self, String> {
        Ok(Self {
            root: config.dir.clone(),
            template: PathTemplate::parse(&config.path)?,
            compression: config.compression,
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
                if let Some(name) = BatchFileName::parse(&entry.file_name().to_string_lossy()) {
                    if !shards.contains(&name.id.shard) {
                        continue;
                    }
                    if name.temporary {
                        temps.push((name, path));
                    } else {
                        finals.insert(name.id);
                    }
                }
            }
        }
        let mut touched = BTreeSet::new();
        for (name, path) in temps {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            if finals.contains(&name.id) {
                let target = dir.join(name.final_name());
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
        let id = BatchId::of(batch);
        let partitions = encode_partitions(&self.template, batch, self.compression)
            .map_err(FilesSinkError::at("compressing", &self.root))?;
        let final_name = id.final_name(self.compression);
        if partitions
            .iter()
            .any(|(relative, _)| self.root.join(relative).join(&final_name).exists())
        {
            // A previous attempt got as far as renaming: every temporary of the batch was
            // durable then, so finish the renames instead of rewriting a temporary whose batch
            // already has a final file (a crash mid-rewrite would let recovery rename a torn one).
            return self.finish_renames(id, &partitions);
        }
        let mut written = Vec::with_capacity(partitions.len());
        for (relative, bytes) in &partitions {
            let dir = self.root.join(relative);
            fsutil::create_dir_all_durable(&dir).map_err(FilesSinkError::at("creating", &dir))?;
            let temp = dir.join(id.temp_name(self.compression));
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
            let target = dir.join(id.final_name(self.compression));
            fs::rename(temp, &target).map_err(FilesSinkError::at("renaming", temp))?;
        }
        for (dir, _) in &written {
            fsutil::sync_dir(dir).map_err(FilesSinkError::at("syncing", dir))?;
        }
        metrics::sink_files(metrics::Component::Files, written.len());
        metrics::bytes(
            metrics::Stage::Sink,
            partitions.iter().map(|(_, b)| b.len()).sum(),
        );
        Ok(written.len())
    }

    fn finish_renames(
        &self,
        id: BatchId,
        partitions: &[(PathBuf, Vec<u8>)],
    ) -> Result<usize, FilesSinkError> {
        for (relative, _) in partitions {
            let dir = self.root.join(relative);
            let temp = dir.join(id.temp_name(self.compression));
            if temp.exists() {
                fs::rename(&temp, dir.join(id.final_name(self.compression)))
                    .map_err(FilesSinkError::at("renaming", &temp))?;
            }
            fsutil::sync_dir(&dir).map_err(FilesSinkError::at("syncing", &dir))?;
        }
        Ok(partitions.len())
    }
}

#[cfg(test)]
pub(super) fn batch_name(shard: usize, start: u64, end: u64) -> (String, String) {
    let id = BatchId { shard, start, end };
    (
        id.final_name(Compression::None),
        id.temp_name(Compression::None),
    )
}
