//! HTTP plumbing: accept loop, request parsing (absolute-form targets, Host → project,
//! decoded query), authentication, fault injection, dispatch to [`super::handlers`], and error
//! bodies with `x-log-requestid`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::auth::Authenticator;
use super::error::ApiError;
use super::faults::{FaultPhase, FaultRule, Faults, RequestKey};
use super::handlers;
use super::store::Store;
use crate::sls::sign;
use crate::sls::types::ErrorBody;

/// Largest request body accepted (compressed); the raw limit is checked after decompression.
pub const MAX_BODY: usize = 64 << 20;

/// Everything a request handler needs.
pub struct State {
    /// Projects, logstores, shards, groups.
    pub store: Store,
    /// Signature checks.
    pub auth: Authenticator,
    /// Injected faults.
    pub faults: Faults,
    /// PutLogs per second and shard (0: unlimited).
    pub shard_write_qps: u32,
    boot: u64,
    requests: AtomicU64,
}

impl State {
    /// A state over an opened store.
    pub fn new(store: Store, auth: Authenticator, faults: Faults, shard_write_qps: u32) -> Self {
        let boot = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            store,
            auth,
            faults,
            shard_write_qps,
            boot,
            requests: AtomicU64::new(0),
        }
    }

    fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        format!("{:08X}{:016X}", self.boot as u32, n)
    }
}

/// A parsed request.
pub struct Req {
    /// Method.
    pub method: Method,
    /// Project from the Host header (`""` when the host has no project label).
    pub project: String,
    /// Path segments (no empty ones).
    pub segments: Vec<String>,
    /// Decoded query pairs, as received.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Req {
    /// The first value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Accepts connections until `shutdown`.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: CancellationToken) {
    loop {
        let stream = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    warn!(message = "Accept failed.", error = %e);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        debug!(message = "Connection ended with an error.", error = %e);
                    }
                }
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let request_id = state.next_request_id();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let error = ApiError::new(400, "PostBodyTooLarge", format!("request body: {e}"));
            return error_response(&error, &request_id);
        }
    };
    let host = parts
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let req = Req {
        method: parts.method,
        project: project_of_host(&host).to_string(),
        segments: path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        query,
        headers: parts.headers,
        body,
    };
    let result = if req.segments.first().map(String::as_str) == Some("_wproc") {
        control(state, &req)
    } else {
        api(state, &req, &path).await
    };
    let mut response = match result {
        Ok(r) => r,
        Err(e) => {
            debug!(
                message = "Request failed.",
                method = %req.method,
                path = %path,
                status = e.status,
                code = %e.code,
                error_message = %e.message
            );
            return error_response(&e, &request_id);
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-log-requestid", v);
    }
    response
}

/// Authentication, faults, then the operation.
async fn api(state: &State, req: &Req, path: &str) -> Result<Response<Full<Bytes>>, ApiError> {
    state.auth.check(
        req.method.as_str(),
        &req.headers,
        path,
        &req.query,
        SystemTime::now(),
    )?;
    if !req.body.is_empty()
        && let Some(md5) = req.header("content-md5")
        && !md5.eq_ignore_ascii_case(&sign::content_md5(&req.body))
    {
        return Err(ApiError::invalid("Content-MD5 does not match the body"));
    }
    let mut sorted: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    sorted.sort();
    let action = state.faults.check(&RequestKey {
        method: req.method.as_str(),
        path,
        query: &sorted.join("&"),
        project: &req.project,
    });
    if let Some(delay) = action.delay {
        tokio::time::sleep(delay).await;
    }
    let fail = |(status, code, message, _): (u16, String, String, FaultPhase)| ApiError {
        status,
        code,
        message,
    };
    match action.fail {
        Some(f) if f.3 == FaultPhase::Before => Err(fail(f)),
        Some(f) => {
            handlers::dispatch(state, req).await?;
            Err(fail(f))
        }
        None => handlers::dispatch(state, req).await,
    }
}

/// `/_wproc/faults` (POST a rule, GET the list, DELETE all) and `/_wproc/health`.
fn control(state: &State, req: &Req) -> Result<Response<Full<Bytes>>, ApiError> {
    let segments: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match (&req.method, segments.as_slice()) {
        (&Method::GET, ["_wproc", "health"]) => Ok(json_response(&serde_json::json!({"ok": true}))),
        (&Method::POST, ["_wproc", "faults"]) => {
            let rule: FaultRule = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::invalid(format!("fault rule: {e}")))?;
            rule.validate().map_err(ApiError::invalid)?;
            let id = state.faults.add(rule);
            Ok(json_response(&serde_json::json!({ "id": id })))
        }
        (&Method::GET, ["_wproc", "faults"]) => Ok(json_response(&state.faults.list())),
        (&Method::DELETE, ["_wproc", "faults"]) => {
            state.faults.clear();
            Ok(empty_response())
        }
        _ => Err(ApiError::new(
            404,
            "RequestURINotFound",
            "unknown control path",
        )),
    }
}

/// The project: the first label of the Host (without port); `""` for an IP or a single label.
pub fn project_of_host(host: &str) -> &str {
    let host = host.trim();
    let bare = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    if bare.parse::<std::net::Ipv4Addr>().is_ok() || bare.starts_with('[') {
        return "";
    }
    match bare.split_once('.') {
        Some((label, _)) => label,
        None => "",
    }
}

/// 200 with a JSON body.
pub fn json_response(value: &impl serde::Serialize) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

/// 200 with no body.
pub fn empty_response() -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::new()))
}

fn error_response(error: &ApiError, request_id: &str) -> Response<Full<Bytes>> {
    let body = ErrorBody {
        error_code: error.code.clone(),
        error_message: error.message.clone(),
    };
    let mut r = json_response(&body);
    *r.status_mut() =
        StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-log-requestid", v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_come_from_the_first_host_label() {
        assert_eq!(project_of_host("proj.cn-hangzhou.log.aliyuncs.com"), "proj");
        assert_eq!(project_of_host("proj.127.0.0.1:8080"), "proj");
        assert_eq!(project_of_host("proj.sls.test"), "proj");
        assert_eq!(project_of_host("127.0.0.1:8080"), "");
        assert_eq!(project_of_host("localhost"), "");
    }
}
