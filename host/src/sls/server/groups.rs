//! Consumer groups: durable definitions and checkpoints, live consumers and shard assignment.
//!
//! Assignment is done by the server, as on the real service (protocol notes §5.5, §6):
//! - a consumer is alive while its last heartbeat is younger than the group's `timeout`;
//! - shards are balanced over the alive consumers (each gets ⌊n/k⌋ or ⌈n/k⌉), sticky: a shard
//!   stays with its owner unless the owner has more than its share or died; a shard a consumer
//!   reports holding and nobody owns goes to it;
//! - hand-off: a heartbeat answers the shards assigned to the consumer *minus* those another alive
//!   consumer still reports holding. The old owner learns it lost the shard, stops its worker,
//!   flushes its checkpoint and stops listing the shard; only then does the new owner get it.
//!
//! Group definitions and checkpoints are persisted (atomically, `groups.json`) on every change;
//! live consumers and assignments are memory only: after a restart, consumers re-register with
//! their next heartbeat.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::{ApiError, SlsServerError};
use super::store::write_json;
use crate::sls::types::{ConsumerCheckpoint, ConsumerGroupInfo};

/// Largest number of consumer groups per logstore (as the service).
pub const MAX_GROUPS: usize = 30;

#[derive(Debug, Default, Serialize, Deserialize)]
struct GroupsFile {
    groups: BTreeMap<String, GroupRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupRecord {
    timeout: u32,
    order: bool,
    checkpoints: BTreeMap<u32, ConsumerCheckpoint>,
}

#[derive(Debug, Default)]
struct LiveGroup {
    consumers: BTreeMap<String, LiveConsumer>,
    assignment: BTreeMap<u32, String>,
}

#[derive(Debug)]
struct LiveConsumer {
    last_heartbeat: Instant,
    held: BTreeSet<u32>,
}

/// The consumer groups of one logstore.
pub struct Groups {
    path: PathBuf,
    state: Mutex<(GroupsFile, BTreeMap<String, LiveGroup>)>,
}

fn no_group(name: &str) -> ApiError {
    ApiError::new(
        404,
        "ConsumerGroupNotExist",
        format!("consumer group {name} does not exist"),
    )
}

impl Groups {
    /// Loads `groups.json` (absent: no groups).
    pub fn open(path: PathBuf) -> Result<Self, SlsServerError> {
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SlsServerError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => GroupsFile::default(),
            Err(source) => return Err(SlsServerError::Io { path, source }),
        };
        Ok(Self {
            path,
            state: Mutex::new((file, BTreeMap::new())),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut GroupsFile, &mut BTreeMap<String, LiveGroup>) -> Result<(T, bool), ApiError>,
    ) -> Result<T, ApiError> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (file, live) = &mut *guard;
        let (value, dirty) = f(file, live)?;
        if dirty {
            write_json(&self.path, file)?;
        }
        Ok(value)
    }

    /// CreateConsumerGroup.
    pub fn create(&self, name: &str, timeout: u32, order: bool) -> Result<(), ApiError> {
        if !super::config::valid_name(name) {
            return Err(ApiError::invalid(format!(
                "invalid consumer group name {name:?}"
            )));
        }
        if timeout == 0 {
            return Err(ApiError::invalid("timeout must be positive"));
        }
        self.with(|file, _| {
            if file.groups.contains_key(name) {
                return Err(ApiError::new(
                    400,
                    "ConsumerGroupAlreadyExist",
                    format!("consumer group {name} already exists"),
                ));
            }
            if file.groups.len() >= MAX_GROUPS {
                return Err(ApiError::new(
                    400,
                    "ExceedQuota",
                    format!("at most {MAX_GROUPS} consumer groups per logstore"),
                ));
            }
            file.groups.insert(
                name.into(),
                GroupRecord {
                    timeout,
                    order,
                    checkpoints: BTreeMap::new(),
                },
            );
            Ok(((), true))
        })
    }

    /// UpdateConsumerGroup: absent fields keep their value.
    pub fn update(
        &self,
        name: &str,
        timeout: Option<u32>,
        order: Option<bool>,
    ) -> Result<(), ApiError> {
        self.with(|file, _| {
            let g = file.groups.get_mut(name).ok_or_else(|| no_group(name))?;
            if let Some(t) = timeout.filter(|t| *t > 0) {
                g.timeout = t;
            }
            if let Some(o) = order {
                g.order = o;
            }
            Ok(((), true))
        })
    }

    /// DeleteConsumerGroup.
    pub fn delete(&self, name: &str) -> Result<(), ApiError> {
        self.with(|file, live| {
            file.groups.remove(name).ok_or_else(|| no_group(name))?;
            live.remove(name);
            Ok(((), true))
        })
    }

    /// ListConsumerGroup.
    pub fn list(&self) -> Vec<ConsumerGroupInfo> {
        self.with(|file, _| {
            let list = file
                .groups
                .iter()
                .map(|(name, g)| ConsumerGroupInfo {
                    name: name.clone(),
                    timeout: g.timeout,
                    order: g.order,
                })
                .collect();
            Ok((list, false))
        })
        .unwrap_or_default()
    }

    /// ConsumerGroupHeartBeat at `now`: records the consumer's held shards, rebalances, and
    /// answers the shards it may work on.
    pub fn heartbeat(
        &self,
        name: &str,
        consumer: &str,
        held: &[u32],
        shards: &[u32],
        now: Instant,
    ) -> Result<Vec<u32>, ApiError> {
        if consumer.is_empty() {
            return Err(ApiError::invalid("consumer is empty"));
        }
        self.with(|file, live| {
            let g = file.groups.get(name).ok_or_else(|| no_group(name))?;
            let timeout = Duration::from_secs(u64::from(g.timeout));
            let group = live.entry(name.to_string()).or_default();
            let held: BTreeSet<u32> = held
                .iter()
                .copied()
                .filter(|s| shards.contains(s))
                .collect();
            group.consumers.insert(
                consumer.to_string(),
                LiveConsumer {
                    last_heartbeat: now,
                    held: held.clone(),
                },
            );
            group
                .consumers
                .retain(|_, c| now.saturating_duration_since(c.last_heartbeat) <= timeout);
            let LiveGroup {
                consumers,
                assignment,
            } = group;
            assignment.retain(|s, owner| consumers.contains_key(owner) && shards.contains(s));
            for s in &held {
                assignment.entry(*s).or_insert_with(|| consumer.to_string());
            }
            rebalance(
                assignment,
                &consumers.keys().cloned().collect::<Vec<_>>(),
                shards,
            );
            let mine = assignment
                .iter()
                .filter(|(s, owner)| {
                    owner.as_str() == consumer
                        && !consumers
                            .iter()
                            .any(|(other, c)| other != consumer && c.held.contains(s))
                })
                .map(|(s, _)| *s)
                .collect();
            Ok((mine, false))
        })
    }

    /// GetCheckPoint: every shard of the logstore (checkpoint `""` when never set), or one.
    pub fn checkpoints(
        &self,
        name: &str,
        shard: Option<u32>,
        shards: &[u32],
    ) -> Result<Vec<ConsumerCheckpoint>, ApiError> {
        self.with(|file, _| {
            let g = file.groups.get(name).ok_or_else(|| no_group(name))?;
            let list = shards
                .iter()
                .filter(|s| shard.is_none_or(|want| want == **s))
                .map(|s| {
                    g.checkpoints.get(s).cloned().unwrap_or(ConsumerCheckpoint {
                        shard: *s,
                        checkpoint: String::new(),
                        update_time: 0,
                        consumer: String::new(),
                    })
                })
                .collect();
            Ok((list, false))
        })
    }

    /// UpdateCheckPoint. Without `force`, the consumer must be alive (`ConsumerNotExsit`) and own
    /// the shard (`ConsumerNotMatch`).
    #[allow(clippy::too_many_arguments)]
    pub fn update_checkpoint(
        &self,
        name: &str,
        consumer: &str,
        shard: u32,
        cursor: &str,
        force: bool,
        shards: &[u32],
        now: Instant,
    ) -> Result<(), ApiError> {
        self.with(|file, live| {
            let g = file.groups.get_mut(name).ok_or_else(|| no_group(name))?;
            if !shards.contains(&shard) {
                return Err(ApiError::new(
                    400,
                    "ShardNotExsit",
                    format!("shard {shard} does not exist"),
                ));
            }
            if !force {
                let timeout = Duration::from_secs(u64::from(g.timeout));
                let group = live.get(name);
                let alive = group
                    .and_then(|l| l.consumers.get(consumer))
                    .is_some_and(|c| now.saturating_duration_since(c.last_heartbeat) <= timeout);
                if !alive {
                    return Err(ApiError::new(
                        400,
                        "ConsumerNotExsit",
                        format!("consumer {consumer} does not exist in group {name}"),
                    ));
                }
                if group
                    .and_then(|l| l.assignment.get(&shard))
                    .map(String::as_str)
                    != Some(consumer)
                {
                    return Err(ApiError::new(
                        400,
                        "ConsumerNotMatch",
                        format!("shard {shard} is not held by consumer {consumer}"),
                    ));
                }
            }
            let micros = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64);
            g.checkpoints.insert(
                shard,
                ConsumerCheckpoint {
                    shard,
                    checkpoint: cursor.to_string(),
                    update_time: micros,
                    consumer: consumer.to_string(),
                },
            );
            Ok(((), true))
        })
    }
}

/// Balances `shards` over `consumers` (sorted names), keeping owners where possible.
fn rebalance(assignment: &mut BTreeMap<u32, String>, consumers: &[String], shards: &[u32]) {
    if consumers.is_empty() {
        assignment.clear();
        return;
    }
    let mut owned: BTreeMap<&str, Vec<u32>> =
        consumers.iter().map(|c| (c.as_str(), Vec::new())).collect();
    for (s, owner) in assignment.iter() {
        if let Some(v) = owned.get_mut(owner.as_str()) {
            v.push(*s);
        }
    }
    let (base, extra) = (
        shards.len() / consumers.len(),
        shards.len() % consumers.len(),
    );
    // Consumers that own the most keep the larger shares, so fewer shards move.
    let mut order: Vec<&str> = consumers.iter().map(String::as_str).collect();
    order.sort_by_key(|c| (std::cmp::Reverse(owned[c].len()), *c));
    let quota: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, base + usize::from(i < extra)))
        .collect();
    for (c, list) in owned.iter_mut() {
        while list.len() > quota[c] {
            if let Some(s) = list.pop() {
                assignment.remove(&s);
            }
        }
    }
    for s in shards {
        if assignment.contains_key(s) {
            continue;
        }
        let target = order
            .iter()
            .filter(|c| owned[**c].len() < quota[**c])
            .min_by_key(|c| (owned[**c].len(), **c));
        if let Some(c) = target {
            assignment.insert(*s, c.to_string());
            if let Some(v) = owned.get_mut(*c) {
                v.push(*s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> (tempfile::TempDir, Groups) {
        let dir = tempfile::tempdir().unwrap();
        let g = Groups::open(dir.path().join("groups.json")).unwrap();
        g.create("cg", 10, false).unwrap();
        (dir, g)
    }

    #[test]
    fn shards_are_balanced_and_handed_over_only_when_released() {
        let (_dir, g) = groups();
        let shards = [0, 1, 2, 3];
        let t0 = Instant::now();
        assert_eq!(
            g.heartbeat("cg", "a", &[], &shards, t0).unwrap(),
            vec![0, 1, 2, 3]
        );
        // a holds everything; b joins: b's share is assigned but still held by a.
        assert_eq!(
            g.heartbeat("cg", "a", &shards, &shards, t0).unwrap(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(
            g.heartbeat("cg", "b", &[], &shards, t0).unwrap(),
            Vec::<u32>::new()
        );
        // a is told to give up two shards; until it stops listing them, b gets nothing.
        let a = g.heartbeat("cg", "a", &shards, &shards, t0).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            g.heartbeat("cg", "b", &[], &shards, t0).unwrap(),
            Vec::<u32>::new()
        );
        let b = g.heartbeat("cg", "a", &a, &shards, t0).unwrap();
        assert_eq!(b, a);
        let b = g.heartbeat("cg", "b", &[], &shards, t0).unwrap();
        let all: BTreeSet<u32> = a.iter().chain(&b).copied().collect();
        assert_eq!((b.len(), all.len()), (2, 4));
        // a dies (no heartbeat for longer than the timeout): b gets everything.
        let later = t0 + Duration::from_secs(11);
        assert_eq!(
            g.heartbeat("cg", "b", &b, &shards, later).unwrap(),
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn checkpoints_check_ownership_unless_forced_and_persist() {
        let (dir, g) = groups();
        let shards = [0, 1];
        let now = Instant::now();
        let err = g
            .update_checkpoint("cg", "a", 0, "MQ==", false, &shards, now)
            .unwrap_err();
        assert_eq!(err.code, "ConsumerNotExsit");
        g.heartbeat("cg", "a", &[], &shards, now).unwrap();
        g.heartbeat("cg", "b", &[], &shards, now).unwrap();
        g.heartbeat("cg", "a", &[0, 1], &shards, now).unwrap();
        // a owns both until it releases one; b does not own shard 0.
        let err = g
            .update_checkpoint("cg", "b", 0, "MQ==", false, &shards, now)
            .unwrap_err();
        assert_eq!(err.code, "ConsumerNotMatch");
        g.update_checkpoint("cg", "b", 0, "MQ==", true, &shards, now)
            .unwrap();
        let err = g
            .update_checkpoint("cg", "a", 7, "MQ==", true, &shards, now)
            .unwrap_err();
        assert_eq!(err.code, "ShardNotExsit");
        drop(g);
        let g = Groups::open(dir.path().join("groups.json")).unwrap();
        let cps = g.checkpoints("cg", None, &shards).unwrap();
        assert_eq!(cps[0].checkpoint, "MQ==");
        assert_eq!(cps[0].consumer, "b");
        assert_eq!(cps[1].checkpoint, "");
        assert_eq!(
            g.create("cg", 5, false).unwrap_err().code,
            "ConsumerGroupAlreadyExist"
        );
        assert_eq!(
            g.heartbeat("nope", "a", &[], &shards, now)
                .unwrap_err()
                .status,
            404
        );
    }
}
