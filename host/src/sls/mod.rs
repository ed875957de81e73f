//! Alibaba Cloud Log Service (SLS): the protocol, a client, and a local SLS-compatible server.
//!
//! - [`proto`]: the LogGroup protobuf messages (hand-derived with prost; no protoc).
//! - [`compress`]: lz4 raw block, zstd, deflate (zlib).
//! - [`sign`]: v1 HMAC-SHA1 request signing, shared by client and server.
//! - [`client`]: [`SlsClient`], the data-plane and consumer-group calls, with retries.
//! - [`server`]: `wproc sls-server`, a durable local emulator for tests.
//!
//! Why hand-written: the official Rust SDK cannot address `127.0.0.1:PORT` (no Host header
//! hook), has no hash-key routing and no consumer-group worker, and pulls OpenSSL and C lz4
//! (see `docs/` protocol notes §9.1). `aliyun-log-sdk-sign` is a dev-dependency that checks our
//! signer.
//!
//! Cursors: opaque strings on the real service, which happen to be base64 of a decimal integer;
//! [`cursor_to_seq`] / [`seq_to_cursor`] convert. A consumer's checkpoint is the cursor of the
//! first LogGroup it has not yet made durable.
//!
//! Untrusted bytes: [`proto::decode_log_group`] (PutLogs bodies, server side),
//! [`proto::decode_log_group_list`] and [`proto::decode_pull_body`] (PullLogs bodies, with
//! decompression; client side) never panic and bound their allocations: they are the fuzzing
//! entry points.
//!
//! Errors: [`SlsError`] names the call, HTTP status, `errorCode`, `errorMessage` and request id.
//! 5xx, throttling (`*QuotaExceed`, `ServerBusy`) and network errors are retriable; other 4xx
//! are definite and never retried. Credentials never appear in logs or `Debug` output.

pub mod client;
pub mod compress;
pub mod config;
pub mod error;
pub mod proto;
pub mod proto_view;
pub mod server;
pub mod sign;
pub mod types;

pub use client::{PullLogsResponse, SlsClient};
pub use compress::Compression;
pub use config::{ClientOptions, Credentials, SlsEndpoint};
pub use error::SlsError;
pub use proto::{Content, Log, LogGroup, LogGroupList, LogTag};
pub use types::{
    ConsumerCheckpoint, ConsumerGroupInfo, CursorFrom, ShardInfo, cursor_to_seq, hash_key_for,
    seq_to_cursor,
};

#[cfg(test)]
mod tests;
