//! Durable storage: projects, logstores and append-only shard logs.
//!
//! Layout under the data directory:
//! ```text
//! {project}/project.json                 {"name", "createTime"}
//! {project}/{logstore}/logstore.json     {"name", "ttl", "shards": [ShardInfo]}
//! {project}/{logstore}/shard-{id}.log    records: len u32 | crc32 u32 | receive_time u32 | LogGroup
//! {project}/{logstore}/groups.json       consumer groups and checkpoints (see groups.rs)
//! ```
//! A PutLogs is appended and `fdatasync`ed before it is acknowledged. On open each shard log is
//! scanned; a torn or corrupt tail (a crash mid-append) is truncated away, so sequence numbers
//! stay dense: LogGroup `n` of a shard has cursor `seq_to_cursor(n)`. Nothing expires (no TTL).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tracing::warn;

use super::error::{ApiError, SlsServerError};
use super::groups::Groups;
use crate::fsutil::{create_dir_all_durable, write_atomic};
use crate::sls::proto::LogTag;
use crate::sls::types::{MAX_HASH_KEY, ShardInfo};

const RECORD_HEADER: usize = 12;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SlsServerError + '_ {
    move |source| SlsServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Unix seconds now.
pub fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// All projects.
pub struct Store {
    root: PathBuf,
    projects: RwLock<BTreeMap<String, Arc<Project>>>,
}

/// A project.
pub struct Project {
    /// Its name.
    pub name: String,
    /// Creation time.
    pub create_time: i64,
    dir: PathBuf,
    logstores: RwLock<BTreeMap<String, Arc<Logstore>>>,
}

#[derive(Serialize, Deserialize)]
struct ProjectMeta {
    name: String,
    #[serde(rename = "createTime")]
    create_time: i64,
}

#[derive(Serialize, Deserialize)]
struct LogstoreMeta {
    name: String,
    ttl: u32,
    shards: Vec<ShardInfo>,
}

/// A logstore: shards and consumer groups.
pub struct Logstore {
    /// Its name.
    pub name: String,
    /// Retention days as created (not enforced).
    pub ttl: u32,
    /// The shards, indexed by id.
    pub shards: Vec<Shard>,
    /// Consumer groups.
    pub groups: Groups,
    lb_next: AtomicUsize,
}

/// One shard: its range and its log.
pub struct Shard {
    /// ListShards view.
    pub info: ShardInfo,
    path: PathBuf,
    log: Mutex<ShardLog>,
    reader: File,
}

struct ShardLog {
    file: File,
    /// Per LogGroup: (file offset of the payload, payload length, receive time).
    index: Vec<(u64, u32, u32)>,
    end: u64,
    /// Write-rate window: (second, writes in it).
    window: (u32, u32),
}

/// Key ranges of `n` shards splitting the MD5 space evenly.
fn shard_ranges(n: u32, create_time: i64) -> Vec<ShardInfo> {
    let n = u128::from(n.max(1));
    let step = (1u128 << 127) / n;
    (0..n)
        .map(|i| {
            let begin = step * (2 * i);
            let end = if i + 1 == n {
                MAX_HASH_KEY.to_string()
            } else {
                format!("{:032x}", step * (2 * (i + 1)))
            };
            ShardInfo {
                shard_id: i as u32,
                status: "readwrite".into(),
                inclusive_begin_key: format!("{begin:032x}"),
                exclusive_end_key: end,
                create_time,
            }
        })
        .collect()
}

impl Store {
    /// Opens (or creates) the data directory and loads every project.
    pub fn open(root: &Path) -> Result<Self, SlsServerError> {
        create_dir_all_durable(root).map_err(io_err(root))?;
        let mut projects = BTreeMap::new();
        for entry in std::fs::read_dir(root).map_err(io_err(root))? {
            let dir = entry.map_err(io_err(root))?.path();
            let meta_path = dir.join("project.json");
            if !meta_path.is_file() {
                continue;
            }
            let meta: ProjectMeta = read_json(&meta_path)?;
            let project = Project::open(meta, dir)?;
            projects.insert(project.name.clone(), Arc::new(project));
        }
        Ok(Self {
            root: root.to_path_buf(),
            projects: RwLock::new(projects),
        })
    }

    /// The project, or 404 ProjectNotExist.
    pub fn project(&self, name: &str) -> Result<Arc<Project>, ApiError> {
        self.projects
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::no_project(name))
    }

    /// Creates a project; `Ok(false)` when it already existed.
    pub fn create_project(&self, name: &str) -> Result<bool, SlsServerError> {
        let mut projects = self.projects.write().unwrap_or_else(|p| p.into_inner());
        if projects.contains_key(name) {
            return Ok(false);
        }
        let dir = self.root.join(name);
        create_dir_all_durable(&dir).map_err(io_err(&dir))?;
        let meta = ProjectMeta {
            name: name.into(),
            create_time: i64::from(unix_now()),
        };
        write_json(&dir.join("project.json"), &meta)?;
        let project = Project::open(meta, dir)?;
        projects.insert(name.into(), Arc::new(project));
        Ok(true)
    }
}

impl Project {
    fn open(meta: ProjectMeta, dir: PathBuf) -> Result<Self, SlsServerError> {
        let mut logstores = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let ls_dir = entry.map_err(io_err(&dir))?.path();
            let meta_path = ls_dir.join("logstore.json");
            if meta_path.is_file() {
                let meta: LogstoreMeta = read_json(&meta_path)?;
                let ls = Logstore::open(meta, &ls_dir)?;
                logstores.insert(ls.name.clone(), Arc::new(ls));
            }
        }
        Ok(Self {
            name: meta.name,
            create_time: meta.create_time,
            dir,
            logstores: RwLock::new(logstores),
        })
    }

    /// The logstore, or 404 LogStoreNotExist.
    pub fn logstore(&self, name: &str) -> Result<Arc<Logstore>, ApiError> {
        self.logstores
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::no_logstore(name))
    }

    /// Logstore names, sorted.
    pub fn logstore_names(&self) -> Vec<String> {
        let guard = self.logstores.read().unwrap_or_else(|p| p.into_inner());
        guard.keys().cloned().collect()
    }

    /// Creates a logstore of `shards` shards; `Ok(false)` when it already existed.
    pub fn create_logstore(
        &self,
        name: &str,
        shards: u32,
        ttl: u32,
    ) -> Result<bool, SlsServerError> {
        let mut logstores = self.logstores.write().unwrap_or_else(|p| p.into_inner());
        if logstores.contains_key(name) {
            return Ok(false);
        }
        let dir = self.dir.join(name);
        create_dir_all_durable(&dir).map_err(io_err(&dir))?;
        let meta = LogstoreMeta {
            name: name.into(),
            ttl,
            shards: shard_ranges(shards, i64::from(unix_now())),
        };
        let ls = Logstore::open(
            LogstoreMeta {
                name: meta.name.clone(),
                ttl,
                shards: meta.shards.clone(),
            },
            &dir,
        )?;
        // The shard files exist before the metadata that makes the logstore visible.
        write_json(&dir.join("logstore.json"), &meta)?;
        logstores.insert(name.into(), Arc::new(ls));
        Ok(true)
    }
}

impl Logstore {
    fn open(meta: LogstoreMeta, dir: &Path) -> Result<Self, SlsServerError> {
        let shards = meta
            .shards
            .into_iter()
            .map(|info| Shard::open(info, dir))
            .collect::<Result<Vec<_>, _>>()?;
        crate::fsutil::sync_dir(dir).map_err(io_err(dir))?;
        Ok(Self {
            name: meta.name,
            ttl: meta.ttl,
            groups: Groups::open(dir.join("groups.json"))?,
            shards,
            lb_next: AtomicUsize::new(0),
        })
    }

    /// The shard, or 400 ShardNotExist.
    pub fn shard(&self, id: &str) -> Result<&Shard, ApiError> {
        id.parse::<usize>()
            .ok()
            .and_then(|i| self.shards.get(i))
            .ok_or_else(|| ApiError::no_shard(id))
    }

    /// Shard ids.
    pub fn shard_ids(&self) -> Vec<u32> {
        self.shards.iter().map(|s| s.info.shard_id).collect()
    }

    /// The next shard for a load-balanced write (round robin over writable shards).
    pub fn next_lb_shard(&self) -> &Shard {
        let i = self.lb_next.fetch_add(1, Ordering::Relaxed);
        &self.shards[i % self.shards.len()]
    }

    /// The shard whose range holds `hash_key`.
    pub fn shard_for_key(&self, hash_key: &str) -> Result<&Shard, ApiError> {
        let normalized = hash_key.to_ascii_lowercase();
        if normalized.is_empty() || !normalized.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::invalid(format!("invalid hash key {hash_key:?}")));
        }
        // Shorter keys are padded as the service does: compared as the 128-bit prefix.
        let key = format!("{normalized:0<32}");
        self.shards
            .iter()
            .find(|s| s.info.contains_key(&key))
            .or_else(|| self.shards.last())
            .ok_or_else(|| ApiError::no_shard(hash_key))
    }
}

impl Shard {
    fn open(info: ShardInfo, dir: &Path) -> Result<Self, SlsServerError> {
        let path = dir.join(format!("shard-{}.log", info.shard_id));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let (index, end) = scan(&file, &path)?;
        let reader = file.try_clone().map_err(io_err(&path))?;
        Ok(Self {
            info,
            log: Mutex::new(ShardLog {
                file,
                index,
                end,
                window: (0, 0),
            }),
            path,
            reader,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ShardLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of LogGroups: the end sequence number.
    pub fn len(&self) -> u64 {
        self.lock().index.len() as u64
    }

    /// Counts one write in the current second; false when `qps` (non-zero) is exceeded.
    pub fn admit_write(&self, qps: u32, now: u32) -> bool {
        if qps == 0 {
            return true;
        }
        let mut log = self.lock();
        if log.window.0 != now {
            log.window = (now, 0);
        }
        log.window.1 += 1;
        log.window.1 <= qps
    }

    /// Appends a serialized LogGroup durably; returns its sequence number. With
    /// `tag_receive_time` the tag `__receive_time__` (unix seconds, never decreasing within the
    /// shard) is appended to the group. Blocking.
    pub fn append(
        &self,
        group: &[u8],
        now: u32,
        tag_receive_time: bool,
    ) -> Result<u64, SlsServerError> {
        let mut log = self.lock();
        let receive_time = log.index.last().map_or(now, |e| e.2.max(now));
        let mut payload = Vec::with_capacity(group.len() + 40);
        payload.extend_from_slice(group);
        if tag_receive_time {
            // A repeated field may be appended to an encoded message: LogTags is field 6.
            let tag = LogTag {
                key: "__receive_time__".into(),
                value: receive_time.to_string(),
            };
            prost::encoding::message::encode(6, &tag, &mut payload);
        }
        let len = u32::try_from(payload.len()).map_err(|_| SlsServerError::Corrupt {
            path: self.path.clone(),
            message: "LogGroup above 4 GiB".into(),
        })?;
        let mut record = Vec::with_capacity(RECORD_HEADER + payload.len());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&record_crc(receive_time, &payload).to_le_bytes());
        record.extend_from_slice(&receive_time.to_le_bytes());
        record.extend_from_slice(&payload);
        let result = log
            .file
            .write_all(&record)
            .and_then(|()| log.file.sync_data());
        if let Err(e) = result {
            // Cut back whatever part was written, so the next append starts on a boundary.
            let end = log.end;
            let _ = log.file.set_len(end);
            return Err(io_err(&self.path)(e));
        }
        let offset = log.end + RECORD_HEADER as u64;
        log.end += record.len() as u64;
        log.index.push((offset, len, receive_time));
        Ok(log.index.len() as u64 - 1)
    }

    /// Serialized LogGroups `[from, to)` (clamped to the shard), stopping early after
    /// `max_bytes` (at least one group is returned). Blocking.
    pub fn read(
        &self,
        from: u64,
        to: u64,
        max_bytes: usize,
    ) -> Result<Vec<Vec<u8>>, SlsServerError> {
        let entries: Vec<(u64, u32)> = {
            let log = self.lock();
            let to = to.min(log.index.len() as u64);
            let mut total = 0usize;
            let mut out = Vec::new();
            for &(offset, len, _) in log.index.get(from as usize..to as usize).unwrap_or(&[]) {
                if !out.is_empty() && total + len as usize > max_bytes {
                    break;
                }
                total += len as usize;
                out.push((offset, len));
            }
            out
        };
        let Some(&(first, _)) = entries.first() else {
            return Ok(Vec::new());
        };
        let (last_off, last_len) = entries[entries.len() - 1];
        let mut buf = vec![0u8; (last_off + u64::from(last_len) - first) as usize];
        self.reader
            .read_exact_at(&mut buf, first)
            .map_err(io_err(&self.path))?;
        Ok(entries
            .iter()
            .map(|&(off, len)| {
                let start = (off - first) as usize;
                buf[start..start + len as usize].to_vec()
            })
            .collect())
    }

    /// The first sequence number whose receive time is at or after `time`; the end when none.
    pub fn seq_at_time(&self, time: u32) -> u64 {
        let log = self.lock();
        log.index.partition_point(|e| e.2 < time) as u64
    }

    /// Receive time of LogGroup `seq`; for the end cursor the last group's (or now when empty).
    pub fn time_of(&self, seq: u64) -> Option<u32> {
        let log = self.lock();
        let n = log.index.len() as u64;
        match seq {
            s if s < n => Some(log.index[s as usize].2),
            s if s == n => Some(log.index.last().map_or_else(unix_now, |e| e.2)),
            _ => None,
        }
    }
}

fn record_crc(receive_time: u32, group: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&receive_time.to_le_bytes());
    h.update(group);
    h.finalize()
}

/// Reads every record; truncates a bad tail. Returns the index and the end offset.
type Index = Vec<(u64, u32, u32)>;
fn scan(file: &File, path: &Path) -> Result<(Index, u64), SlsServerError> {
    let size = file.metadata().map_err(io_err(path))?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file.try_clone().map_err(io_err(path))?);
    let mut index = Vec::new();
    let mut pos = 0u64;
    let mut header = [0u8; RECORD_HEADER];
    let mut payload = Vec::new();
    while pos + RECORD_HEADER as u64 <= size {
        reader.read_exact(&mut header).map_err(io_err(path))?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let time = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        let end = pos + RECORD_HEADER as u64 + u64::from(len);
        if end > size {
            break;
        }
        payload.resize(len as usize, 0);
        reader.read_exact(&mut payload).map_err(io_err(path))?;
        if record_crc(time, &payload) != crc {
            break;
        }
        index.push((pos + RECORD_HEADER as u64, len, time));
        pos = end;
    }
    if pos < size {
        warn!(
            message = "Truncating a torn or corrupt tail of a shard log.",
            path = %path.display(),
            valid_bytes = pos,
            dropped_bytes = size - pos
        );
        file.set_len(pos).map_err(io_err(path))?;
        file.sync_all().map_err(io_err(path))?;
    }
    Ok((index, pos))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SlsServerError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    serde_json::from_slice(&bytes).map_err(|e| SlsServerError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes `value` as JSON atomically and durably.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SlsServerError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| SlsServerError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges_split_the_md5_space() {
        let r = shard_ranges(4, 0);
        assert_eq!(r[0].inclusive_begin_key, "00000000000000000000000000000000");
        assert_eq!(r[1].inclusive_begin_key, "40000000000000000000000000000000");
        assert_eq!(r[3].exclusive_end_key, MAX_HASH_KEY);
        assert_eq!(r[2].exclusive_end_key, r[3].inclusive_begin_key);
        assert_eq!(shard_ranges(1, 0)[0].exclusive_end_key, MAX_HASH_KEY);
    }

    #[test]
    fn appends_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.create_project("proj").unwrap());
        let project = store.project("proj").unwrap();
        assert!(project.create_logstore("ls", 2, 1).unwrap());
        let ls = project.logstore("ls").unwrap();
        assert_eq!(ls.shards[1].append(b"one", 100, false).unwrap(), 0);
        assert_eq!(ls.shards[1].append(b"two", 90, false).unwrap(), 1);
        assert_eq!(
            ls.shards[1].time_of(1),
            Some(100),
            "receive times never go back"
        );
        let path = ls.shards[1].path.clone();
        drop((ls, project, store));
        // A half-written third record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(f);

        let store = Store::open(dir.path()).unwrap();
        let ls = store.project("proj").unwrap().logstore("ls").unwrap();
        let shard = ls.shard("1").unwrap();
        assert_eq!(
            shard.read(0, 10, 1 << 20).unwrap(),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
        assert_eq!(shard.read(1, 10, 0).unwrap(), vec![b"two".to_vec()]);
        assert_eq!(shard.seq_at_time(100), 0);
        assert_eq!(shard.seq_at_time(101), 2);
        assert_eq!(shard.append(b"three", 100, false).unwrap(), 2);
        assert!(ls.shard("2").is_err());
        assert_eq!(
            ls.shard_for_key("7fffffffffffffffffffffffffffffff")
                .unwrap()
                .info
                .shard_id,
            0
        );
        assert_eq!(ls.shard_for_key("8").unwrap().info.shard_id, 1);
        assert!(store.project("nope").is_err());
    }
}
