//! The SLS client: signed HTTP calls with retries.
//!
//! Every call is built as a [`Call`] (method, path, query, body) that can be sent again: each
//! attempt gets a fresh `Date` and signature. Retriable failures ([`SlsError::is_retriable`]) are
//! retried with capped exponential backoff and full jitter, bounded by
//! [`ClientOptions::max_attempts`] and [`ClientOptions::max_elapsed`]; definite ones return at
//! once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use super::compress::{self, Compression};
use super::error::SlsError;
use super::proto::{self, LogGroup};
use super::sign;
use super::types::{
    ConsumerCheckpoint, ConsumerGroupInfo, CursorFrom, ErrorBody, ShardInfo, cursor_to_seq,
};
use crate::retry::Backoff;

pub use super::config::{ClientOptions, Credentials, SlsEndpoint};

/// What PullLogs returned.
#[derive(Debug, Clone, PartialEq)]
pub struct PullLogsResponse {
    /// The LogGroups, in shard order.
    pub groups: Vec<LogGroup>,
    /// The cursor after the last group returned; equal to the request cursor when no data.
    pub next_cursor: String,
    /// Uncompressed body size.
    pub raw_size: usize,
    /// `x-log-count`: the number of groups.
    pub count: u32,
}

/// A serialized, compressed LogGroup ready for PutLogs ([`SlsClient::encode_group`]).
#[derive(Debug, Clone)]
pub struct EncodedGroup {
    body: Bytes,
    raw_size: usize,
    compression: Compression,
    logs: usize,
}

impl EncodedGroup {
    /// Logs in the group.
    pub fn logs(&self) -> usize {
        self.logs
    }

    /// Size before compression.
    pub fn raw_size(&self) -> usize {
        self.raw_size
    }
}

/// What PullLogs returned, the body still compressed.
#[derive(Debug, Clone)]
pub struct PulledBody {
    /// The cursor after the last group returned; equal to the request cursor when no data.
    pub next_cursor: String,
    /// Uncompressed body size (`x-log-bodyrawsize`).
    pub raw_size: usize,
    /// `x-log-count`: the number of groups.
    pub count: u32,
    compression: Compression,
    body: Bytes,
    operation: String,
    request_id: String,
}

impl PulledBody {
    /// The serialized LogGroupList (empty when the pull returned no data). The size is capped
    /// at [`super::compress::MAX_RAW_SIZE`].
    pub fn decompress(&self) -> Result<Vec<u8>, SlsError> {
        if self.raw_size == 0 {
            return Ok(Vec::new());
        }
        compress::decompress(self.compression, &self.body, self.raw_size)
            .map_err(|e| self.bad(e.to_string()))
    }

    /// [`PulledBody::decompress`] into a buffer reused between pulls; returns the body, a
    /// prefix of `buf`.
    pub fn decompress_into<'b>(&self, buf: &'b mut Vec<u8>) -> Result<&'b [u8], SlsError> {
        if self.raw_size == 0 {
            return Ok(&[]);
        }
        compress::decompress_into(self.compression, &self.body, self.raw_size, buf)
            .map_err(|e| self.bad(e.to_string()))
    }

    /// A [`SlsError::BadResponse`] about this reply.
    pub fn bad(&self, reason: String) -> SlsError {
        SlsError::BadResponse {
            operation: self.operation.clone(),
            request_id: self.request_id.clone(),
            reason,
        }
    }
}

/// A client of one project. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct SlsClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    project: String,
    base_url: String,
    host_header: Option<HeaderValue>,
    credentials: Credentials,
    options: ClientOptions,
    /// ListShards results per logstore, for [`SlsClient::put_logs_to_shard`].
    shards: Mutex<HashMap<String, Vec<ShardInfo>>>,
}

impl std::fmt::Debug for SlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlsClient")
            .field("project", &self.inner.project)
            .field("base_url", &self.inner.base_url)
            .field("access_key_id", &self.inner.credentials.access_key_id)
            .finish_non_exhaustive()
    }
}

/// One request, repeatable.
struct Call {
    /// For errors and logs, e.g. `PullLogs logstore=s shard=1`.
    operation: String,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Body>,
    accept_encoding: Option<Compression>,
}

struct Body {
    bytes: Bytes,
    content_type: &'static str,
    raw_size: usize,
    compression: Compression,
}

/// A successful response.
struct Reply {
    headers: HeaderMap,
    body: Bytes,
    request_id: String,
}

impl SlsClient {
    /// A client of `project` at `endpoint`.
    pub fn new(
        endpoint: SlsEndpoint,
        project: &str,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Self, SlsError> {
        if project.is_empty()
            || !project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(SlsError::Config(format!(
                "invalid project name {project:?}"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("wproc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SlsError::Config(format!("HTTP client: {e}")))?;
        let (base_url, host) = endpoint.base(project);
        let host_header = host
            .map(|h| HeaderValue::from_str(&h))
            .transpose()
            .map_err(|e| SlsError::Config(format!("Host header: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                project: project.into(),
                base_url,
                host_header,
                credentials,
                options,
                shards: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The project.
    pub fn project(&self) -> &str {
        &self.inner.project
    }

    /// PutLogs of one group: routed by `hash_key` (32 hex digits, see
    /// [`super::types::hash_key_for`]) to the shard whose range holds it, else load-balanced.
    pub async fn put_logs(
        &self,
        logstore: &str,
        hash_key: Option<&str>,
        group: &LogGroup,
    ) -> Result<(), SlsError> {
        let encoded = self.encode_group(&proto::encode_log_group(group), group.logs.len());
        self.put_encoded(logstore, hash_key, &encoded).await
    }

    /// Compresses a serialized LogGroup as this client sends it (CPU work: call it off the
    /// async runtime when groups are large).
    pub fn encode_group(&self, raw: &[u8], logs: usize) -> EncodedGroup {
        let compression = self.inner.options.put_compression;
        EncodedGroup {
            body: Bytes::from(compress::compress(compression, raw)),
            raw_size: raw.len(),
            compression,
            logs,
        }
    }

    /// PutLogs of a group made by [`SlsClient::encode_group`], as [`SlsClient::put_logs`].
    pub async fn put_encoded(
        &self,
        logstore: &str,
        hash_key: Option<&str>,
        group: &EncodedGroup,
    ) -> Result<(), SlsError> {
        let (path, query) = match hash_key {
            Some(key) => (
                format!("/logstores/{logstore}/shards/route"),
                vec![("key".to_string(), key.to_string())],
            ),
            None => (format!("/logstores/{logstore}/shards/lb"), Vec::new()),
        };
        let operation = format!(
            "PutLogs logstore={logstore} key={}",
            hash_key.unwrap_or("lb")
        );
        self.put(operation, path, query, group).await
    }

    /// PutLogs to one shard: routed by the shard's first hash key (the service has no
    /// "write to shard N" call). The shard list is cached; it is refreshed once when the shard is
    /// unknown.
    pub async fn put_logs_to_shard(
        &self,
        logstore: &str,
        shard: u32,
        group: &LogGroup,
    ) -> Result<(), SlsError> {
        let key = match self.cached_begin_key(logstore, shard) {
            Some(k) => k,
            None => {
                let shards = self.list_shards(logstore).await?;
                self.cached_begin_key(logstore, shard)
                    .ok_or_else(|| SlsError::Service {
                        operation: format!("PutLogs logstore={logstore} shard={shard}"),
                        status: 400,
                        code: "ShardNotExist".into(),
                        message: format!(
                            "shard {shard} is not among the {} writable shards",
                            shards.iter().filter(|s| s.is_writable()).count()
                        ),
                        request_id: String::new(),
                    })?
            }
        };
        let operation = format!("PutLogs logstore={logstore} shard={shard}");
        let query = vec![("key".to_string(), key)];
        let encoded = self.encode_group(&proto::encode_log_group(group), group.logs.len());
        self.put(
            operation,
            format!("/logstores/{logstore}/shards/route"),
            query,
            &encoded,
        )
        .await
    }

    fn cached_begin_key(&self, logstore: &str, shard: u32) -> Option<String> {
        let cache = self.inner.shards.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(logstore)?
            .iter()
            .find(|s| s.shard_id == shard && s.is_writable())
            .map(|s| s.inclusive_begin_key.clone())
    }

    async fn put(
        &self,
        operation: String,
        path: String,
        query: Vec<(String, String)>,
        group: &EncodedGroup,
    ) -> Result<(), SlsError> {
        let call = Call {
            operation,
            method: Method::POST,
            path,
            query,
            body: Some(Body {
                bytes: group.body.clone(),
                content_type: "application/x-protobuf",
                raw_size: group.raw_size,
                compression: group.compression,
            }),
            accept_encoding: None,
        };
        self.execute(&call).await.map(drop)
    }

    /// ListShards (also refreshes the cache used by [`SlsClient::put_logs_to_shard`]).
    pub async fn list_shards(&self, logstore: &str) -> Result<Vec<ShardInfo>, SlsError> {
        let call = Call::get(
            format!("ListShards logstore={logstore}"),
            format!("/logstores/{logstore}/shards"),
            vec![],
        );
        let shards: Vec<ShardInfo> = self.json(&call).await?;
        self.inner
            .shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(logstore.to_string(), shards.clone());
        Ok(shards)
    }

    /// GetCursor: the cursor at the beginning, the end, or a receive time.
    pub async fn get_cursor(
        &self,
        logstore: &str,
        shard: u32,
        from: CursorFrom,
    ) -> Result<String, SlsError> {
        #[derive(serde::Deserialize)]
        struct Cursor {
            cursor: String,
        }
        let call = Call::get(
            format!("GetCursor logstore={logstore} shard={shard} from={from:?}"),
            format!("/logstores/{logstore}/shards/{shard}"),
            vec![
                ("type".into(), "cursor".into()),
                ("from".into(), from.query_value()),
            ],
        );
        Ok(self.json::<Cursor>(&call).await?.cursor)
    }

    /// GetCursorTime: the receive time (unix seconds) of the LogGroup at `cursor`.
    pub async fn get_cursor_time(
        &self,
        logstore: &str,
        shard: u32,
        cursor: &str,
    ) -> Result<i64, SlsError> {
        #[derive(serde::Deserialize)]
        struct CursorTime {
            cursor_time: i64,
        }
        let call = Call::get(
            format!("GetCursorTime logstore={logstore} shard={shard} cursor={cursor}"),
            format!("/logstores/{logstore}/shards/{shard}"),
            vec![
                ("type".into(), "cursor_time".into()),
                ("cursor".into(), cursor.into()),
            ],
        );
        Ok(self.json::<CursorTime>(&call).await?.cursor_time)
    }

    /// PullLogs: up to `count` (1..=1000) LogGroups from `cursor`, stopping before
    /// `end_cursor`, decoded.
    pub async fn pull_logs(
        &self,
        logstore: &str,
        shard: u32,
        cursor: &str,
        count: u32,
        end_cursor: Option<&str>,
    ) -> Result<PullLogsResponse, SlsError> {
        let pulled = self
            .pull_logs_raw(logstore, shard, cursor, count, end_cursor)
            .await?;
        let raw = pulled.decompress()?;
        let list = proto::decode_log_group_list(&raw).map_err(|e| pulled.bad(e.to_string()))?;
        Ok(PullLogsResponse {
            count: u32::try_from(list.log_groups.len()).unwrap_or(pulled.count),
            groups: list.log_groups,
            next_cursor: pulled.next_cursor,
            raw_size: pulled.raw_size,
        })
    }

    /// PullLogs as [`SlsClient::pull_logs`], with the body left compressed: the consumer
    /// decompresses and reads it through [`super::proto_view`] off the async runtime.
    pub async fn pull_logs_raw(
        &self,
        logstore: &str,
        shard: u32,
        cursor: &str,
        count: u32,
        end_cursor: Option<&str>,
    ) -> Result<PulledBody, SlsError> {
        let mut query = vec![
            ("type".to_string(), "logs".to_string()),
            ("cursor".to_string(), cursor.to_string()),
            ("count".to_string(), count.to_string()),
        ];
        if let Some(end) = end_cursor {
            query.push(("end_cursor".into(), end.into()));
        }
        let mut call = Call::get(
            format!("PullLogs logstore={logstore} shard={shard} cursor={cursor}"),
            format!("/logstores/{logstore}/shards/{shard}"),
            query,
        );
        call.accept_encoding = Some(self.inner.options.pull_compression);
        let reply = self.execute(&call).await?;
        pull_reply(&call.operation, reply)
    }

    /// CreateConsumerGroup; an existing group (`ConsumerGroupAlreadyExist`) is a success.
    pub async fn create_consumer_group(
        &self,
        logstore: &str,
        group: &str,
        timeout_secs: u32,
        in_order: bool,
    ) -> Result<(), SlsError> {
        let body =
            serde_json::json!({"consumerGroup": group, "timeout": timeout_secs, "order": in_order});
        let call = Call::json_body(
            format!("CreateConsumerGroup logstore={logstore} group={group}"),
            Method::POST,
            format!("/logstores/{logstore}/consumergroups"),
            vec![],
            &body,
        )?;
        match self.execute(&call).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConsumerGroupAlreadyExist") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// UpdateConsumerGroup: set the timeout and the order flag.
    pub async fn update_consumer_group(
        &self,
        logstore: &str,
        group: &str,
        timeout_secs: u32,
        in_order: bool,
    ) -> Result<(), SlsError> {
        let body = serde_json::json!({"timeout": timeout_secs, "order": in_order});
        let call = Call::json_body(
            format!("UpdateConsumerGroup logstore={logstore} group={group}"),
            Method::PUT,
            format!("/logstores/{logstore}/consumergroups/{group}"),
            vec![],
            &body,
        )?;
        self.execute(&call).await.map(drop)
    }

    /// DeleteConsumerGroup.
    pub async fn delete_consumer_group(&self, logstore: &str, group: &str) -> Result<(), SlsError> {
        let call = Call {
            method: Method::DELETE,
            ..Call::get(
                format!("DeleteConsumerGroup logstore={logstore} group={group}"),
                format!("/logstores/{logstore}/consumergroups/{group}"),
                vec![],
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// ListConsumerGroup.
    pub async fn list_consumer_groups(
        &self,
        logstore: &str,
    ) -> Result<Vec<ConsumerGroupInfo>, SlsError> {
        let call = Call::get(
            format!("ListConsumerGroup logstore={logstore}"),
            format!("/logstores/{logstore}/consumergroups"),
            vec![],
        );
        self.json(&call).await
    }

    /// ConsumerGroupHeartBeat: reports the shards `consumer` holds (those it was given and those
    /// whose workers are still stopping); returns the shards the server assigns to it.
    pub async fn heartbeat(
        &self,
        logstore: &str,
        group: &str,
        consumer: &str,
        held_shards: &[u32],
    ) -> Result<Vec<u32>, SlsError> {
        let call = Call::json_body(
            format!("Heartbeat logstore={logstore} group={group} consumer={consumer}"),
            Method::POST,
            format!("/logstores/{logstore}/consumergroups/{group}"),
            vec![
                ("type".into(), "heartbeat".into()),
                ("consumer".into(), consumer.into()),
            ],
            &held_shards,
        )?;
        self.json(&call).await
    }

    /// GetCheckPoint of every shard of the group.
    pub async fn get_checkpoints(
        &self,
        logstore: &str,
        group: &str,
    ) -> Result<Vec<ConsumerCheckpoint>, SlsError> {
        let call = Call::get(
            format!("GetCheckPoint logstore={logstore} group={group}"),
            format!("/logstores/{logstore}/consumergroups/{group}"),
            vec![],
        );
        self.json(&call).await
    }

    /// UpdateCheckPoint: `cursor` is the first unprocessed LogGroup of `shard`. Without `force`
    /// the server refuses (`ConsumerNotMatch`) when `consumer` does not hold the shard.
    pub async fn update_checkpoint(
        &self,
        logstore: &str,
        group: &str,
        consumer: &str,
        shard: u32,
        cursor: &str,
        force: bool,
    ) -> Result<(), SlsError> {
        let body = serde_json::json!({"shard": shard, "checkpoint": cursor});
        let call = Call::json_body(
            format!(
                "UpdateCheckPoint logstore={logstore} group={group} consumer={consumer} shard={shard} seq={:?}",
                cursor_to_seq(cursor)
            ),
            Method::POST,
            format!("/logstores/{logstore}/consumergroups/{group}"),
            vec![
                ("type".into(), "checkpoint".into()),
                ("consumer".into(), consumer.into()),
                ("forceSuccess".into(), force.to_string()),
            ],
            &body,
        )?;
        self.execute(&call).await.map(drop)
    }

    async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, SlsError> {
        let reply = self.execute(call).await?;
        serde_json::from_slice(&reply.body).map_err(|e| SlsError::BadResponse {
            operation: call.operation.clone(),
            request_id: reply.request_id,
            reason: format!("JSON: {e}"),
        })
    }

    /// Sends `call`, retrying retriable failures within the attempt and time budget.
    async fn execute(&self, call: &Call) -> Result<Reply, SlsError> {
        let options = &self.inner.options;
        let started = Instant::now();
        let mut backoff = Backoff::new(options.initial_backoff, options.max_backoff);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match self.send_once(call).await {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            if !error.is_retriable() {
                return Err(error);
            }
            let delay = backoff.next_delay();
            if attempts >= options.max_attempts.max(1)
                || started.elapsed() + delay > options.max_elapsed
            {
                return Err(SlsError::GaveUp {
                    operation: call.operation.clone(),
                    attempts,
                    elapsed: started.elapsed(),
                    last: Box::new(error),
                });
            }
            warn!(
                message = "SLS call failed; retrying.",
                operation = %call.operation,
                attempt = attempts,
                delay_ms = delay.as_millis() as u64,
                error = %error
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(&self, call: &Call) -> Result<Reply, SlsError> {
        let inner = &self.inner;
        let mut headers = HeaderMap::new();
        let header = |v: &str| {
            HeaderValue::from_str(v).map_err(|e| SlsError::Config(format!("header value: {e}")))
        };
        headers.insert("date", header(&httpdate::fmt_http_date(SystemTime::now()))?);
        headers.insert(
            "x-log-apiversion",
            HeaderValue::from_static(sign::API_VERSION),
        );
        headers.insert(
            "x-log-signaturemethod",
            HeaderValue::from_static(sign::SIGNATURE_METHOD),
        );
        match &call.body {
            Some(body) => {
                headers.insert("content-type", HeaderValue::from_static(body.content_type));
                headers.insert("content-md5", header(&sign::content_md5(&body.bytes))?);
                headers.insert("x-log-bodyrawsize", header(&body.raw_size.to_string())?);
                if body.compression != Compression::None {
                    headers.insert(
                        "x-log-compresstype",
                        HeaderValue::from_static(body.compression.as_str()),
                    );
                }
            }
            None => {
                headers.insert("x-log-bodyrawsize", HeaderValue::from_static("0"));
            }
        }
        if let Some(enc) = call.accept_encoding {
            headers.insert("accept", HeaderValue::from_static("application/x-protobuf"));
            headers.insert("accept-encoding", HeaderValue::from_static(enc.as_str()));
        }
        if let Some(token) = &inner.credentials.security_token {
            headers.insert("x-acs-security-token", header(token.expose())?);
        }
        let to_sign = sign::string_to_sign(call.method.as_str(), &headers, &call.path, &call.query);
        let auth = sign::authorization(
            &inner.credentials.access_key_id,
            inner.credentials.access_key_secret.expose(),
            &to_sign,
        );
        let mut auth = header(&auth)?;
        auth.set_sensitive(true);
        headers.insert("authorization", auth);
        if let Some(host) = &inner.host_header {
            headers.insert("host", host.clone());
        }

        let mut url = format!("{}{}", inner.base_url, call.path);
        if !call.query.is_empty() {
            url.push('?');
            url.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&call.query)
                    .finish(),
            );
        }
        let mut request = inner
            .http
            .request(call.method.clone(), &url)
            .headers(headers);
        if let Some(body) = &call.body {
            request = request.body(body.bytes.clone());
        }
        let network = |source| SlsError::Network {
            operation: call.operation.clone(),
            source,
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-log-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response.bytes().await.map_err(network)?;
        debug!(
            message = "SLS call.",
            operation = %call.operation,
            status = status.as_u16(),
            request_id = %request_id,
            bytes = body.len()
        );
        if status.is_success() {
            return Ok(Reply {
                headers,
                body,
                request_id,
            });
        }
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => (e.error_code, e.error_message),
            Err(_) => (
                format!("HttpStatus{}", status.as_u16()),
                String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            ),
        };
        Err(SlsError::Service {
            operation: call.operation.clone(),
            status: status.as_u16(),
            code,
            message,
            request_id,
        })
    }
}

impl Call {
    fn get(operation: String, path: String, query: Vec<(String, String)>) -> Self {
        Self {
            operation,
            method: Method::GET,
            path,
            query,
            body: None,
            accept_encoding: None,
        }
    }

    fn json_body(
        operation: String,
        method: Method,
        path: String,
        query: Vec<(String, String)>,
        body: &impl Serialize,
    ) -> Result<Self, SlsError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| SlsError::Config(format!("{operation}: JSON body: {e}")))?;
        Ok(Self {
            body: Some(Body {
                raw_size: bytes.len(),
                bytes: Bytes::from(bytes),
                content_type: "application/json",
                compression: Compression::None,
            }),
            method,
            ..Self::get(operation, path, query)
        })
    }
}

/// Reads the PullLogs headers; the body stays compressed.
fn pull_reply(operation: &str, reply: Reply) -> Result<PulledBody, SlsError> {
    let bad = |reason: String| SlsError::BadResponse {
        operation: operation.to_string(),
        request_id: reply.request_id.clone(),
        reason,
    };
    let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok());
    let next_cursor = header("x-log-cursor")
        .ok_or_else(|| bad("no x-log-cursor header".into()))?
        .to_string();
    let count: u32 = header("x-log-count")
        .unwrap_or("0")
        .trim()
        .parse()
        .map_err(|e| bad(format!("x-log-count: {e}")))?;
    let raw_size: usize = header("x-log-bodyrawsize")
        .unwrap_or("0")
        .trim()
        .parse()
        .map_err(|e| bad(format!("x-log-bodyrawsize: {e}")))?;
    let compression: Compression = header("x-log-compresstype")
        .unwrap_or("")
        .parse()
        .map_err(|c| bad(format!("unknown x-log-compresstype {c:?}")))?;
    Ok(PulledBody {
        next_cursor,
        raw_size,
        count,
        compression,
        body: reply.body,
        operation: operation.to_owned(),
        request_id: reply.request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn debug_output_hides_secrets() {
        let client = SlsClient::new(
            SlsEndpoint::parse("http://127.0.0.1:1").unwrap(),
            "proj",
            Credentials {
                access_key_id: "AKID".into(),
                access_key_secret: Secret::new("TOPSECRET"),
                security_token: Some(Secret::new("STSTOKEN")),
            },
            ClientOptions::default(),
        )
        .unwrap();
        let text = format!("{client:?} {:?}", client.inner.credentials);
        assert!(
            !text.contains("TOPSECRET") && !text.contains("STSTOKEN"),
            "{text}"
        );
    }
}
