//! The operations: project and logstore control, PutLogs, ListShards, GetCursor,
//! GetCursorTime, PullLogs and the consumer-group calls.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Response};
use http_body_util::Full;
use serde::Deserialize;

use super::config::{MAX_SHARDS, valid_name};
use super::error::ApiError;
use super::routes::{Req, State, empty_response, json_response};
use super::store::{Logstore, unix_now};
use crate::sls::compress::{self, Compression};
use crate::sls::types::{cursor_to_seq, seq_to_cursor};
use crate::sls::{proto, proto_view};

/// Largest raw (decompressed) PutLogs body, as the service (10 MB).
pub const MAX_PUT_RAW: usize = 10 << 20;
/// Largest raw PullLogs response; at least one group is always returned.
pub const MAX_PULL_RAW: usize = 16 << 20;
/// Largest `count` of PullLogs.
pub const MAX_PULL_COUNT: u64 = 1000;

type Reply = Result<Response<Full<Bytes>>, ApiError>;

/// Routes a request to its operation.
pub async fn dispatch(state: &State, req: &Req) -> Reply {
    let segments: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    if segments.is_empty() {
        return match req.method {
            Method::POST => create_project(state, req),
            Method::GET => get_project(state, req),
            _ => Err(unsupported(req)),
        };
    }
    if segments[0] != "logstores" {
        return Err(unsupported(req));
    }
    let project = state.store.project(&req.project)?;
    if segments.len() == 1 {
        return match req.method {
            Method::POST => create_logstore(&project, req),
            Method::GET => Ok(json_response(&serde_json::json!({
                "count": project.logstore_names().len(),
                "total": project.logstore_names().len(),
                "logstores": project.logstore_names(),
            }))),
            _ => Err(unsupported(req)),
        };
    }
    let ls = project.logstore(segments[1])?;
    match (&req.method, &segments[2..]) {
        (&Method::GET, []) => Ok(json_response(&serde_json::json!({
            "logstoreName": ls.name,
            "ttl": ls.ttl,
            "shardCount": ls.shards.len(),
        }))),
        (&Method::POST, []) | (&Method::POST, ["shards", "lb"]) => {
            put_logs(state, ls, None, req).await
        }
        (&Method::POST, ["shards", "route"]) => {
            let key = req
                .param("key")
                .ok_or_else(|| ApiError::invalid("parameter key is required"))?
                .to_string();
            put_logs(state, ls, Some(key), req).await
        }
        (&Method::GET, ["shards"]) => Ok(json_response(
            &ls.shards.iter().map(|s| &s.info).collect::<Vec<_>>(),
        )),
        (&Method::GET, ["shards", shard]) => match req.param("type") {
            Some("cursor") => get_cursor(&ls, shard, req),
            Some("cursor_time") => get_cursor_time(&ls, shard, req),
            Some("log" | "logs") => pull_logs(ls.clone(), shard, req).await,
            other => Err(ApiError::invalid(format!("unsupported type {other:?}"))),
        },
        (&Method::POST, ["consumergroups"]) => {
            #[derive(Deserialize)]
            struct Create {
                #[serde(rename = "consumerGroup")]
                consumer_group: String,
                timeout: u32,
                #[serde(default)]
                order: bool,
            }
            let body: Create = json_body(req)?;
            ls.groups
                .create(&body.consumer_group, body.timeout, body.order)?;
            Ok(empty_response())
        }
        (&Method::GET, ["consumergroups"]) => Ok(json_response(&ls.groups.list())),
        (&Method::PUT, ["consumergroups", group]) => {
            #[derive(Deserialize)]
            struct Update {
                timeout: Option<u32>,
                order: Option<bool>,
            }
            let body: Update = json_body(req)?;
            ls.groups.update(group, body.timeout, body.order)?;
            Ok(empty_response())
        }
        (&Method::DELETE, ["consumergroups", group]) => {
            ls.groups.delete(group)?;
            Ok(empty_response())
        }
        (&Method::POST, ["consumergroups", group]) => match req.param("type") {
            Some("heartbeat") => heartbeat(&ls, group, req),
            Some("checkpoint") => update_checkpoint(&ls, group, req),
            other => Err(ApiError::invalid(format!("unsupported type {other:?}"))),
        },
        (&Method::GET, ["consumergroups", group]) => {
            let shard = match req.param("shard") {
                Some(s) => Some(
                    s.parse::<u32>()
                        .map_err(|_| ApiError::invalid(format!("invalid shard {s:?}")))?,
                ),
                None => None,
            };
            let list = ls.groups.checkpoints(group, shard, &ls.shard_ids())?;
            Ok(json_response(&list))
        }
        _ => Err(unsupported(req)),
    }
}

fn unsupported(req: &Req) -> ApiError {
    ApiError::invalid(format!(
        "unsupported operation {} /{}",
        req.method,
        req.segments.join("/")
    ))
}

fn json_body<T: serde::de::DeserializeOwned>(req: &Req) -> Result<T, ApiError> {
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::new(400, "PostBodyInvalid", format!("JSON body: {e}")))
}

fn create_project(state: &State, req: &Req) -> Reply {
    #[derive(Deserialize)]
    struct Body {
        #[serde(rename = "projectName")]
        project_name: Option<String>,
    }
    let body: Body = json_body(req)?;
    let name = body.project_name.unwrap_or_else(|| req.project.clone());
    if !valid_name(&name) || name.contains('_') {
        return Err(ApiError::invalid(format!("invalid project name {name:?}")));
    }
    if !state.store.create_project(&name)? {
        return Err(ApiError::new(
            400,
            "ProjectAlreadyExist",
            format!("project {name} already exists"),
        ));
    }
    Ok(empty_response())
}

fn get_project(state: &State, req: &Req) -> Reply {
    let p = state.store.project(&req.project)?;
    Ok(json_response(&serde_json::json!({
        "projectName": p.name,
        "status": "Normal",
        "createTime": p.create_time.to_string(),
        "description": "",
    })))
}

fn create_logstore(project: &super::store::Project, req: &Req) -> Reply {
    #[derive(Deserialize)]
    struct Body {
        #[serde(rename = "logstoreName")]
        logstore_name: String,
        #[serde(default = "default_ttl")]
        ttl: u32,
        #[serde(rename = "shardCount", default = "default_shard_count")]
        shard_count: u32,
    }
    const fn default_ttl() -> u32 {
        30
    }
    const fn default_shard_count() -> u32 {
        super::config::DEFAULT_SHARDS
    }
    let body: Body = json_body(req)?;
    if !valid_name(&body.logstore_name) {
        return Err(ApiError::invalid(format!(
            "invalid logstore name {:?}",
            body.logstore_name
        )));
    }
    if !(1..=MAX_SHARDS).contains(&body.shard_count) {
        return Err(ApiError::invalid(format!(
            "shardCount {} is not in 1..={MAX_SHARDS}",
            body.shard_count
        )));
    }
    if !project.create_logstore(&body.logstore_name, body.shard_count, body.ttl)? {
        return Err(ApiError::new(
            400,
            "LogStoreAlreadyExist",
            format!("logstore {} already exists", body.logstore_name),
        ));
    }
    Ok(empty_response())
}

async fn put_logs(state: &State, ls: Arc<Logstore>, key: Option<String>, req: &Req) -> Reply {
    let compression: Compression = req
        .header("x-log-compresstype")
        .unwrap_or("")
        .parse()
        .map_err(|c| ApiError::new(400, "InvalidCompressType", format!("compress type {c:?}")))?;
    let raw_size = match req.header("x-log-bodyrawsize") {
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            ApiError::new(
                400,
                "InvalidBodyRawSize",
                format!("x-log-bodyrawsize {v:?}"),
            )
        })?,
        None if compression == Compression::None => req.body.len(),
        None => {
            return Err(ApiError::new(
                400,
                "MissingBodyRawSize",
                "x-log-bodyrawsize is required with x-log-compresstype",
            ));
        }
    };
    if raw_size > MAX_PUT_RAW {
        return Err(ApiError::new(
            400,
            "PostBodyTooLarge",
            format!("raw body of {raw_size} bytes is above {MAX_PUT_RAW}"),
        ));
    }
    let raw = compress::decompress(compression, &req.body, raw_size)
        .map_err(|e| ApiError::new(400, "PostBodyUncompressError", e.to_string()))?;
    // Checked in place (no per-field allocation): structure, at least one log, keys that are
    // non-empty UTF-8, as the service requires.
    let group = proto_view::scan_log_group(&raw, 0)
        .map_err(|e| ApiError::new(400, "PostBodyInvalid", format!("LogGroup: {e}")))?;
    if group.logs.is_empty() {
        return Err(ApiError::new(
            400,
            "PostBodyInvalid",
            "the LogGroup has no logs",
        ));
    }
    for (i, log) in group.logs.iter().enumerate() {
        for (key, _) in log.contents() {
            if key.is_empty() {
                return Err(ApiError::new(
                    400,
                    "InvalidKey",
                    format!("log {i} has an empty key"),
                ));
            }
            if std::str::from_utf8(key).is_err() {
                return Err(ApiError::new(
                    400,
                    "PostBodyInvalid",
                    format!("LogGroup: log {i} has a key that is not UTF-8"),
                ));
            }
        }
    }
    drop(group);
    let shard_index = match &key {
        Some(k) => ls.shard_for_key(k)?.info.shard_id as usize,
        None => ls.next_lb_shard().info.shard_id as usize,
    };
    let now = unix_now();
    if !ls.shards[shard_index].admit_write(state.shard_write_qps, now) {
        return Err(ApiError::new(
            403,
            "ShardWriteQuotaExceed",
            format!("shard {shard_index} write quota exceeded"),
        ));
    }
    let seq = tokio::task::spawn_blocking(move || ls.shards[shard_index].append(&raw, now, true))
        .await
        .map_err(|e| ApiError::internal(format!("append task: {e}")))??;
    let mut r = empty_response();
    r.headers_mut()
        .insert("x-log-shard", HeaderValue::from(shard_index));
    r.headers_mut().insert("x-log-seq", HeaderValue::from(seq));
    Ok(r)
}

fn seq_param(req: &Req, names: &[&str]) -> Result<Option<u64>, ApiError> {
    let Some(cursor) = names.iter().find_map(|n| req.param(n)) else {
        return Ok(None);
    };
    cursor_to_seq(cursor).map(Some).ok_or_else(|| {
        ApiError::new(
            400,
            "InvalidCursor",
            format!("cursor {cursor:?} is invalid"),
        )
    })
}

fn get_cursor(ls: &Logstore, shard: &str, req: &Req) -> Reply {
    let shard = ls.shard(shard)?;
    let seq = match req.param("from") {
        Some("begin") => 0,
        Some("end") => shard.len(),
        Some(t) => match t.parse::<u32>() {
            Ok(t) => shard.seq_at_time(t),
            Err(_) => return Err(ApiError::invalid("Parameter From is not valid")),
        },
        None => return Err(ApiError::invalid("Parameter From is required")),
    };
    Ok(json_response(
        &serde_json::json!({"cursor": seq_to_cursor(seq)}),
    ))
}

fn get_cursor_time(ls: &Logstore, shard: &str, req: &Req) -> Reply {
    let shard = ls.shard(shard)?;
    let seq = seq_param(req, &["cursor"])?
        .ok_or_else(|| ApiError::invalid("parameter cursor is required"))?;
    let time = shard
        .time_of(seq)
        .ok_or_else(|| ApiError::new(400, "InvalidCursor", "the cursor is after the end cursor"))?;
    Ok(json_response(&serde_json::json!({"cursor_time": time})))
}

async fn pull_logs(ls: Arc<Logstore>, shard: &str, req: &Req) -> Reply {
    let shard_index = ls.shard(shard)?.info.shard_id as usize;
    let seq = seq_param(req, &["cursor"])?
        .ok_or_else(|| ApiError::invalid("parameter cursor is required"))?;
    let count = match req.param("count") {
        Some(c) => c
            .parse::<u64>()
            .ok()
            .filter(|c| (1..=MAX_PULL_COUNT).contains(c))
            .ok_or_else(|| ApiError::invalid(format!("count {c:?} is not in 1..=1000")))?,
        None => MAX_PULL_COUNT,
    };
    let end = seq_param(req, &["end_cursor", "endCursor"])?;
    let len = ls.shards[shard_index].len();
    let to = seq
        .saturating_add(count)
        .min(end.unwrap_or(u64::MAX))
        .min(len);
    let groups = if seq < to {
        let ls = ls.clone();
        tokio::task::spawn_blocking(move || ls.shards[shard_index].read(seq, to, MAX_PULL_RAW))
            .await
            .map_err(|e| ApiError::internal(format!("read task: {e}")))??
    } else {
        Vec::new()
    };
    let next = seq + groups.len() as u64;
    let raw = proto::encode_log_group_list_raw(groups.iter().map(Vec::as_slice));
    let compression = req
        .header("accept-encoding")
        .unwrap_or("")
        .split(',')
        .filter_map(|t| t.split(';').next()?.parse::<Compression>().ok())
        .find(|c| *c != Compression::None)
        .unwrap_or(Compression::None);
    let body = compress::compress(compression, &raw);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    let h = r.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-protobuf"),
    );
    if let Ok(v) = HeaderValue::from_str(&seq_to_cursor(next)) {
        h.insert("x-log-cursor", v);
    }
    h.insert("x-log-count", HeaderValue::from(groups.len()));
    h.insert("x-log-bodyrawsize", HeaderValue::from(raw.len()));
    if compression != Compression::None {
        h.insert(
            "x-log-compresstype",
            HeaderValue::from_static(compression.as_str()),
        );
    }
    h.insert(
        "x-log-end-of-cursor",
        HeaderValue::from_static(if next >= len { "1" } else { "0" }),
    );
    Ok(r)
}

fn heartbeat(ls: &Logstore, group: &str, req: &Req) -> Reply {
    let consumer = req
        .param("consumer")
        .ok_or_else(|| ApiError::invalid("parameter consumer is required"))?;
    let held: Vec<u32> = if req.body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        json_body(req)?
    };
    let shards = ls
        .groups
        .heartbeat(group, consumer, &held, &ls.shard_ids(), Instant::now())?;
    Ok(json_response(&shards))
}

fn update_checkpoint(ls: &Logstore, group: &str, req: &Req) -> Reply {
    #[derive(Deserialize)]
    struct Body {
        shard: u32,
        checkpoint: String,
    }
    let consumer = req.param("consumer").unwrap_or("");
    let force = req
        .param("forceSuccess")
        .is_none_or(|v| v.eq_ignore_ascii_case("true"));
    let body: Body = json_body(req)?;
    let seq = cursor_to_seq(&body.checkpoint).ok_or_else(|| {
        ApiError::new(
            400,
            "InvalidCursor",
            format!("checkpoint {:?} is invalid", body.checkpoint),
        )
    })?;
    if let Some(shard) = ls.shards.get(body.shard as usize)
        && seq > shard.len()
    {
        return Err(ApiError::new(
            400,
            "InvalidCursor",
            "the checkpoint is after the end cursor",
        ));
    }
    ls.groups.update_checkpoint(
        group,
        consumer,
        body.shard,
        &body.checkpoint,
        force,
        &ls.shard_ids(),
        Instant::now(),
    )?;
    Ok(empty_response())
}
