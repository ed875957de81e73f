//! wproc: MySQL/MariaDB binlog changes to HDFS or files in near real time, with user logic as
//! sandboxed WebAssembly.
//!
//! ```text
//! binlog (ROW) -> source -> transport (local log | SLS) -> transform -> sink (files | HDFS)
//!                 capture half                            process half
//! ```
//! - [`source`]: reads the binlog as a replica and decodes typed [`event::ChangeEvent`]s.
//! - [`transport`]: carries batches durably between the halves; capture advances its binlog
//!   checkpoint only after the transport acknowledged a batch.
//! - [`sink`]: writes batches exactly once; the transport checkpoint is committed only after the
//!   files are durable.
//! - [`pipeline`]: wires the halves with bounded channels and one shutdown token.
//!
//! `main.rs` only parses the command line, sets up logging and calls into this library, so that
//! tests drive the same code.

pub mod cli;
pub mod config;
pub mod error;
pub mod event;
pub mod fsutil;
pub mod pipeline;
pub mod position;
pub mod retry;
pub mod sink;
pub mod sls;
pub mod source;
pub mod telemetry;
pub mod transport;

pub use error::Error;
