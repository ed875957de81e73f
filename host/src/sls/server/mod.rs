//! `wproc sls-server`: a local, durable, SLS-compatible server for tests and demos.
//!
//! It speaks the data-plane protocol of Alibaba Cloud Log Service closely enough for the
//! official SDKs (the Python SDK and its `ConsumerWorker` are tested against it) and wproc's
//! own client.
//!
//! **Emulated.**
//! - Several projects (first label of the Host header; absolute-form targets accepted), logstores
//!   and shards, from the config file or `CreateProject` (`POST /`) / `CreateLogStore`
//!   (`POST /logstores`); `GetProject`, `ListLogStore`, `GetLogStore`.
//! - v1 signatures against configured keys (401 `SignatureNotMatch` / `Unauthorized`), STS
//!   token check, `Date` skew (400 `RequestTimeTooSkewed`), `Content-MD5`.
//! - PutLogs on `/logstores/{ls}`, `/shards/lb` (round robin) and `/shards/route?key=` (MD5 key
//!   ranges); lz4 / zstd / deflate / none; `x-log-bodyrawsize` checked; all-or-nothing; the
//!   `__receive_time__` tag added; appended and fsynced before the 200 (survives a crash).
//! - ListShards; GetCursor (`begin`, `end`, unix time by receive time); GetCursorTime; PullLogs
//!   (`type=log|logs`, `count` 1..=1000, `end_cursor|endCursor`, Accept-Encoding, the headers
//!   `x-log-cursor`, `x-log-count`, `x-log-bodyrawsize`, `x-log-compresstype`). Cursors are
//!   base64 of the decimal sequence number; a cursor at or past the end reads nothing and
//!   returns itself as next cursor.
//! - Consumer groups: create, update, list, delete, heartbeat with server-side assignment and
//!   timeout-based reassignment (see [`groups`]), get/update checkpoint with `forceSuccess`,
//!   `ConsumerNotMatch`, `ConsumerNotExsit`, `ShardNotExsit` as the service spells them.
//! - Errors as JSON `{errorCode, errorMessage}` with `x-log-requestid`; per-shard write QPS quota
//!   (403 `ShardWriteQuotaExceed`) when configured; fault injection ([`faults`]).
//!
//! **Not emulated.** Signature v4 (rejected), TTL/expiry (begin is always sequence 0), shard
//! split/merge (all shards stay `readwrite`), indexes and queries (`GetLogs`, SPL pulls), byte
//! quotas, RAM policies (every configured key may access every project), project deletion.
//!
//! Storage layout and the durability argument are in [`store`].

mod auth;
mod config;
mod error;
pub mod faults;
mod groups;
mod handlers;
mod routes;
mod runner;
mod store;

pub use config::{AccessKeyConfig, LogstoreConfig, ProjectConfig, ServerConfig};
pub use error::SlsServerError;
pub use faults::{FaultPhase, FaultRule};
pub use runner::{SlsServer, SlsServerArgs, run_cli};
