//! The log itself: opening, appending, reading and consumer checkpoints.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::{info, warn};

use super::config::LocalLogConfig;
use super::error::LocalLogError;
use super::segment::{self, Frame, HEADER_LEN};
use crate::event::codec::EventDecoder;
use crate::event::{ChangeEvent, EventPosition};
use crate::fsutil;
use crate::source::SourceCheckpoint;

const META_FILE: &str = "meta.json";
const CAPTURE_CHECKPOINT_FILE: &str = "capture.json";
const WRITER_LOCK_FILE: &str = "writer.lock";
const READ_BUFFER: usize = 1 << 20;

#[derive(Serialize, Deserialize)]
struct Meta {
    version: u32,
    shards: u32,
}

/// An open local log. Shared by the appender (one per log, enforced by a file lock) and any
/// number of shard readers.
#[derive(Debug)]
pub struct LocalLog {
    config: LocalLogConfig,
    shard_dirs: Vec<PathBuf>,
    /// Durable end offset of each shard, published by the in-process appender.
    ends: Vec<watch::Sender<u64>>,
    /// Whether an appender runs in this process (then readers stop at the durable end).
    local_writer: AtomicBool,
}

fn shard_dir(dir: &Path, shard: usize) -> PathBuf {
    dir.join(format!("shard-{shard:04}"))
}

impl LocalLog {
    /// Opens the log in `config.dir`, creating it when missing.
    pub fn open(config: &LocalLogConfig) -> Result<Arc<Self>, LocalLogError> {
        let dir = &config.dir;
        fsutil::create_dir_all_durable(dir).map_err(LocalLogError::io(dir))?;
        let meta_path = dir.join(META_FILE);
        let shards = match fs::read(&meta_path) {
            Ok(bytes) => {
                let meta: Meta =
                    serde_json::from_slice(&bytes).map_err(|e| LocalLogError::Corrupt {
                        path: meta_path.clone(),
                        offset: 0,
                        message: e.to_string(),
                    })?;
                if meta.shards != config.shards.get() {
                    return Err(LocalLogError::ShardMismatch {
                        path: dir.clone(),
                        found: meta.shards,
                        configured: config.shards.get(),
                    });
                }
                meta.shards
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let meta = Meta {
                    version: 1,
                    shards: config.shards.get(),
                };
                let bytes = serde_json::to_vec(&meta).unwrap_or_default();
                fsutil::write_atomic(&meta_path, &bytes).map_err(LocalLogError::io(&meta_path))?;
                meta.shards
            }
            Err(e) => return Err(LocalLogError::io(&meta_path)(e)),
        };
        let mut shard_dirs = Vec::new();
        let mut ends = Vec::new();
        for shard in 0..shards as usize {
            let path = shard_dir(dir, shard);
            fsutil::create_dir_all_durable(&path).map_err(LocalLogError::io(&path))?;
            shard_dirs.push(path);
            ends.push(watch::channel(0).0);
        }
        Ok(Arc::new(Self {
            config: config.clone(),
            shard_dirs,
            ends,
            local_writer: AtomicBool::new(false),
        }))
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shard_dirs.len()
    }

    /// The shard that holds a table's changes.
    pub fn shard_for(&self, db: &str, table: &str) -> usize {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(db.as_bytes());
        hasher.update(b".");
        hasher.update(table.as_bytes());
        hasher.finalize() as usize % self.shard_count()
    }

    /// Takes the single writer role: locks the log, truncates torn tails, and finds each shard's
    /// end and last event position.
    pub fn appender(self: &Arc<Self>) -> Result<Appender, LocalLogError> {
        let lock_path = self.config.dir.join(WRITER_LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(LocalLogError::io(&lock_path))?;
        lock.try_lock().map_err(|_| LocalLogError::Io {
            path: lock_path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another wproc process is writing this log",
            ),
        })?;
        let mut writers = Vec::new();
        for (shard, dir) in self.shard_dirs.iter().enumerate() {
            let writer = ShardWriter::recover(dir, self.config.segment_bytes)?;
            self.ends[shard].send_replace(writer.base + writer.len);
            writers.push(writer);
        }
        self.local_writer.store(true, Ordering::SeqCst);
        Ok(Appender {
            log: self.clone(),
            writers,
            _lock: lock,
        })
    }

    /// A reader of `shard` starting at shard offset `from`.
    pub fn reader(self: &Arc<Self>, shard: usize, from: u64) -> ShardReader {
        ShardReader {
            log: self.clone(),
            shard,
            offset: from,
            open: None,
            end: self.ends[shard].subscribe(),
            decoder: EventDecoder::new(),
        }
    }

    /// The capture checkpoint, if capture ever wrote one.
    pub fn capture_checkpoint(&self) -> Result<Option<SourceCheckpoint>, LocalLogError> {
        let path = self.config.dir.join(CAPTURE_CHECKPOINT_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| LocalLogError::Corrupt {
                        path,
                        offset: 0,
                        message: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LocalLogError::io(path)(e)),
        }
    }

    /// Records where capture resumes. Call only after the events before it were appended.
    pub fn write_capture_checkpoint(&self, cp: &SourceCheckpoint) -> Result<(), LocalLogError> {
        let path = self.config.dir.join(CAPTURE_CHECKPOINT_FILE);
        let bytes = serde_json::to_vec_pretty(cp).unwrap_or_default();
        fsutil::write_atomic(&path, &bytes).map_err(LocalLogError::io(path))
    }

    fn group_file(&self, group: &str, shard: usize) -> PathBuf {
        self.config
            .dir
            .join("groups")
            .join(group)
            .join(format!("shard-{shard:04}.offset"))
    }

    /// The committed offset of `group` for `shard` (0 when it never committed).
    pub fn committed(&self, group: &str, shard: usize) -> Result<u64, LocalLogError> {
        let path = self.group_file(group, shard);
        match fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|e| LocalLogError::Corrupt {
                    path,
                    offset: 0,
                    message: format!("checkpoint {text:?}: {e}"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(LocalLogError::io(path)(e)),
        }
    }

    /// Commits `group`'s offset for `shard`: every record before `offset` is durable downstream.
    /// Then deletes segments that every group has passed, unless `retain_consumed`.
    pub fn commit(&self, group: &str, shard: usize, offset: u64) -> Result<(), LocalLogError> {
        let path = self.group_file(group, shard);
        if let Some(dir) = path.parent() {
            fsutil::create_dir_all_durable(dir).map_err(LocalLogError::io(dir))?;
        }
        fsutil::write_atomic(&path, format!("{offset}\n").as_bytes())
            .map_err(LocalLogError::io(&path))?;
        if !self.config.retain_consumed {
            self.delete_consumed(shard)?;
        }
        Ok(())
    }

    fn delete_consumed(&self, shard: usize) -> Result<(), LocalLogError> {
        let dir = &self.shard_dirs[shard];
        let bases = segment::list_segments(dir).map_err(LocalLogError::io(dir))?;
        if bases.len() <= 2 {
            // Nothing is ever deleted below two segments: skip reading the group offsets.
            return Ok(());
        }
        let groups_dir = self.config.dir.join("groups");
        let mut min = u64::MAX;
        let entries = fs::read_dir(&groups_dir).map_err(LocalLogError::io(&groups_dir))?;
        for entry in entries {
            let entry = entry.map_err(LocalLogError::io(&groups_dir))?;
            let group = entry.file_name().to_string_lossy().into_owned();
            min = min.min(self.committed(&group, shard)?);
        }
        // Keep the two newest segments: the active one and the last one that holds records.
        let mut deleted = false;
        for i in 0..bases.len().saturating_sub(2) {
            let (base, next) = (bases[i], bases[i + 1]);
            if next <= min {
                let path = segment::segment_path(dir, base);
                match fs::remove_file(&path) {
                    Ok(()) => deleted = true,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(LocalLogError::io(path)(e)),
                }
            }
        }
        if deleted {
            fsutil::sync_dir(dir).map_err(LocalLogError::io(dir))?;
        }
        Ok(())
    }
}

/// The write side of one shard.
#[derive(Debug)]
struct ShardWriter {
    dir: PathBuf,
    segment_bytes: u64,
    /// Base offset of the active segment.
    base: u64,
    /// Bytes in the active segment.
    len: u64,
    file: File,
    last_position: Option<EventPosition>,
    dirty: bool,
}

impl ShardWriter {
    /// Opens the newest segment, truncating a torn tail, and remembers the last event position.
    fn recover(dir: &Path, segment_bytes: u64) -> Result<Self, LocalLogError> {
        let bases = segment::list_segments(dir).map_err(LocalLogError::io(dir))?;
        let base = bases.last().copied().unwrap_or(0);
        let path = segment::segment_path(dir, base);
        let (valid_len, mut last_position) = scan_segment(&path, base)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(LocalLogError::io(&path))?;
        let on_disk = file.metadata().map_err(LocalLogError::io(&path))?.len();
        if on_disk > valid_len {
            warn!(
                message = "Truncating a torn record at the tail of the local log.",
                segment = %path.display(),
                valid_bytes = valid_len,
                file_bytes = on_disk
            );
            file.set_len(valid_len).map_err(LocalLogError::io(&path))?;
            file.sync_all().map_err(LocalLogError::io(&path))?;
        }
        if bases.is_empty() {
            fsutil::sync_dir(dir).map_err(LocalLogError::io(dir))?;
        }
        if last_position.is_none() && bases.len() >= 2 {
            let prev = bases[bases.len() - 2];
            last_position = scan_segment(&segment::segment_path(dir, prev), prev)?.1;
        }
        Ok(Self {
            dir: dir.to_owned(),
            segment_bytes,
            base,
            len: valid_len,
            file,
            last_position,
            dirty: false,
        })
    }

    fn write_record(&mut self, record: &[u8]) -> Result<(), LocalLogError> {
        if self.len > 0 && self.len + record.len() as u64 > self.segment_bytes {
            self.file
                .sync_data()
                .map_err(LocalLogError::io(&self.dir))?;
            self.base += self.len;
            self.len = 0;
            let path = segment::segment_path(&self.dir, self.base);
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(LocalLogError::io(&path))?;
            fsutil::sync_dir(&self.dir).map_err(LocalLogError::io(&self.dir))?;
        }
        self.file
            .write_all(record)
            .map_err(LocalLogError::io(&self.dir))?;
        self.len += record.len() as u64;
        self.dirty = true;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), LocalLogError> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(LocalLogError::io(&self.dir))?;
            self.dirty = false;
        }
        Ok(())
    }
}

/// Reads a segment's valid prefix: its length and the position of its last event.
fn scan_segment(path: &Path, base: u64) -> Result<(u64, Option<EventPosition>), LocalLogError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, None)),
        Err(e) => return Err(LocalLogError::io(path)(e)),
    };
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let mut len = 0u64;
    let mut last_payload = None;
    while let Frame::Record(payload) =
        segment::read_frame(&mut reader).map_err(LocalLogError::io(path))?
    {
        len += HEADER_LEN + payload.len() as u64;
        last_payload = Some(payload);
    }
    let last_position = match last_payload {
        Some(payload) => segment::decode_payload(&mut EventDecoder::new(), &payload)
            .map_err(|message| LocalLogError::Corrupt {
                path: path.to_owned(),
                offset: base + len,
                message,
            })?
            .last()
            .map(|e| e.pos.clone()),
        None => None,
    };
    Ok((len, last_position))
}

/// The single writer of a log.
#[derive(Debug)]
pub struct Appender {
    log: Arc<LocalLog>,
    writers: Vec<ShardWriter>,
    _lock: File,
}

impl Appender {
    /// The log this appender writes.
    pub fn log(&self) -> &Arc<LocalLog> {
        &self.log
    }

    /// Routes events to their shards, drops those a shard already holds (by position), writes
    /// one record per shard, fsyncs, and publishes the new ends. Returns how many events were
    /// appended. When this returns `Ok`, the events are durable.
    pub fn append(&mut self, events: Vec<ChangeEvent>) -> Result<usize, LocalLogError> {
        let mut per_shard: Vec<Vec<ChangeEvent>> = vec![Vec::new(); self.writers.len()];
        let mut skipped = 0usize;
        for event in events {
            let shard = self.log.shard_for(&event.db, &event.table);
            let held = self.writers[shard].last_position.as_ref();
            if held.is_some_and(|last| event.pos <= *last) {
                skipped += 1;
                continue;
            }
            per_shard[shard].push(event);
        }
        if skipped > 0 {
            info!(
                message = "Dropped events the local log already holds.",
                count = skipped
            );
        }
        let mut appended = 0;
        for (shard, events) in per_shard.iter().enumerate() {
            if events.is_empty() {
                continue;
            }
            let record = segment::encode_record(events).map_err(|e| LocalLogError::Corrupt {
                path: self.writers[shard].dir.clone(),
                offset: self.writers[shard].base + self.writers[shard].len,
                message: format!("cannot encode record: {e}"),
            })?;
            self.writers[shard].write_record(&record)?;
            crate::telemetry::metrics::bytes(
                crate::telemetry::metrics::Stage::Capture,
                record.len(),
            );
            self.writers[shard].last_position = events.last().map(|e| e.pos.clone());
            appended += events.len();
        }
        for (shard, writer) in self.writers.iter_mut().enumerate() {
            if writer.dirty {
                writer.sync()?;
                self.log.ends[shard].send_replace(writer.base + writer.len);
            }
        }
        Ok(appended)
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        self.log.local_writer.store(false, Ordering::SeqCst);
    }
}

/// Records read from a shard.
#[derive(Debug)]
pub struct Record {
    /// Shard offset of the record.
    pub offset: u64,
    /// Shard offset just after it: the cursor to commit once it is processed.
    pub next: u64,
    /// Its events.
    pub events: Vec<ChangeEvent>,
    /// Size of its encoded payload.
    pub bytes: usize,
}

/// Sequential reader of one shard.
#[derive(Debug)]
pub struct ShardReader {
    log: Arc<LocalLog>,
    shard: usize,
    offset: u64,
    open: Option<(u64, BufReader<File>)>,
    end: watch::Receiver<u64>,
    decoder: EventDecoder,
}

impl ShardReader {
    /// The shard read.
    pub fn shard(&self) -> usize {
        self.shard
    }

    /// The offset of the next record to read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Waits until an in-process appender publishes data past the cursor, or `poll` passes
    /// (data from an appender in another process is only seen by polling).
    pub async fn wait(&mut self, poll: std::time::Duration) {
        let offset = self.offset;
        let _ = tokio::time::timeout(poll, self.end.wait_for(|end| *end > offset)).await;
    }

    /// Reads whole records from the cursor, up to about `max_bytes`. With an in-process
    /// appender it stops at the durable end; otherwise at the last complete record on disk.
    pub fn read(&mut self, max_bytes: usize) -> Result<Vec<Record>, LocalLogError> {
        let limit = self
            .log
            .local_writer
            .load(Ordering::SeqCst)
            .then(|| *self.end.borrow());
        let dir = self.log.shard_dirs[self.shard].clone();
        let mut records = Vec::new();
        let mut bytes = 0usize;
        while bytes < max_bytes && limit.is_none_or(|l| self.offset < l) {
            if self.open.is_none() && !self.open_segment(&dir)? {
                break;
            }
            let Some((base, reader)) = self.open.as_mut() else {
                break;
            };
            let base = *base;
            let path = segment::segment_path(&dir, base);
            match segment::read_frame(reader).map_err(LocalLogError::io(&path))? {
                Frame::Record(payload) => {
                    let events = segment::decode_payload(&mut self.decoder, &payload).map_err(
                        |message| LocalLogError::Corrupt {
                            path: path.clone(),
                            offset: self.offset,
                            message,
                        },
                    )?;
                    let next = self.offset + HEADER_LEN + payload.len() as u64;
                    bytes += payload.len();
                    records.push(Record {
                        offset: self.offset,
                        next,
                        events,
                        bytes: payload.len(),
                    });
                    self.offset = next;
                }
                Frame::Incomplete => {
                    reader
                        .seek(SeekFrom::Start(self.offset - base))
                        .map_err(LocalLogError::io(&path))?;
                    // The segment may have ended here because the writer rolled to a new one.
                    let next_exists = segment::segment_path(&dir, self.offset).exists();
                    if next_exists && self.offset != base {
                        self.open = None;
                        continue;
                    }
                    break;
                }
                Frame::Bad(message) => {
                    if limit.is_some() {
                        return Err(LocalLogError::Corrupt {
                            path,
                            offset: self.offset,
                            message,
                        });
                    }
                    // Another process may be in the middle of writing this record.
                    reader
                        .seek(SeekFrom::Start(self.offset - base))
                        .map_err(LocalLogError::io(&path))?;
                    break;
                }
            }
        }
        Ok(records)
    }

    /// Opens the segment that holds the cursor; false when the shard has no data there yet.
    fn open_segment(&mut self, dir: &Path) -> Result<bool, LocalLogError> {
        let bases = segment::list_segments(dir).map_err(LocalLogError::io(dir))?;
        let Some(&base) = bases.iter().rev().find(|&&b| b <= self.offset) else {
            if let Some(&first) = bases.first() {
                return Err(LocalLogError::Corrupt {
                    path: dir.to_owned(),
                    offset: self.offset,
                    message: format!(
                        "offset {} was already deleted; the oldest segment starts at {first}",
                        self.offset
                    ),
                });
            }
            return Ok(false);
        };
        let path = segment::segment_path(dir, base);
        let file = File::open(&path).map_err(LocalLogError::io(&path))?;
        let mut reader = BufReader::with_capacity(READ_BUFFER, file);
        reader
            .seek(SeekFrom::Start(self.offset - base))
            .map_err(LocalLogError::io(&path))?;
        self.open = Some((base, reader));
        Ok(true)
    }
}
