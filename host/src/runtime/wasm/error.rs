//! [`WasmError`]: every way a transform can fail, with the transform, the batch and the cause.
//!
//! All conversions from `wasmtime::Error` live here (wasmtime's error type changes between
//! major versions; keeping them in one file keeps upgrades small).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::event::EventPosition;

/// The batch a failure happened on: shard, offset range and the first event's position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchContext {
    /// Transport shard.
    pub shard: usize,
    /// First offset of the range (inclusive).
    pub start: u64,
    /// End of the range (exclusive).
    pub end: u64,
    /// Binlog position of the batch's first event (none for an empty batch).
    pub first: Option<EventPosition>,
}

impl fmt::Display for BatchContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shard {} [{}..{})", self.shard, self.start, self.end)?;
        if let Some(p) = &self.first {
            write!(f, " from {}:{} row {}", p.file, p.offset, p.row)?;
        }
        Ok(())
    }
}

/// A typed error a guest returned (the WIT `transform-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestError {
    /// The input is not what the transform accepts.
    InvalidInput(String),
    /// The input is valid but not supported.
    Unsupported(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            GuestError::Unsupported(m) => write!(f, "unsupported: {m}"),
            GuestError::Other(m) => write!(f, "{m}"),
        }
    }
}

/// A failure of a WebAssembly transform.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The component could not be read, compiled or linked (including a `.wasm` file that is a
    /// core module, not a component).
    #[error("transform {transform}: cannot load {path}: {message}")]
    Load {
        /// Transform name.
        transform: String,
        /// The `.wasm` file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The compiled-component cache could not be written or read.
    #[error("transform {transform}: component cache {path}: {source}")]
    CacheIo {
        /// Transform name.
        transform: String,
        /// The cache file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `init` failed (returned an error or trapped): the pipeline does not start.
    #[error("transform {transform}: init failed: {message}")]
    Init {
        /// Transform name.
        transform: String,
        /// The guest's error or the trap.
        message: String,
    },
    /// The guest trapped (panic, unreachable, a bad accessor index...).
    #[error("transform {transform}: trapped on batch {batch}: {message}")]
    Trap {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// The trap, and the guest's last stderr lines (a panic message lands there).
        message: String,
    },
    /// The guest ran past its CPU deadline for one batch.
    #[error("transform {transform}: deadline of {deadline:?} exceeded on batch {batch}")]
    Deadline {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// The configured deadline.
        deadline: Duration,
    },
    /// The guest tried to grow its memory past the cap.
    #[error(
        "transform {transform}: memory cap of {cap} bytes reached on batch {batch} \
         (asked for {requested} bytes)"
    )]
    MemoryCap {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// The configured cap.
        cap: u64,
        /// The size the guest asked for.
        requested: u64,
    },
    /// `process` returned a typed error.
    #[error("transform {transform}: failed batch {batch}: {error}")]
    Guest {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// The guest's error.
        error: GuestError,
    },
    /// `process` returned an output that breaks the rules of `wit/types.wit`.
    #[error("transform {transform}: invalid output for batch {batch}: {message}")]
    InvalidOutput {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// The broken rule.
        message: String,
    },
    /// The guest rejected an event and the error policy is `fail`.
    #[error("transform {transform}: rejected event {index} of batch {batch} ({position}): {error}")]
    Rejected {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// Index of the event in the batch the transform saw.
        index: u32,
        /// Its binlog position, `file:offset#row`.
        position: String,
        /// The guest's reason.
        error: GuestError,
    },
    /// Writing a dead-letter file failed.
    #[error(
        "transform {transform}: cannot write dead letters of batch {batch} to {path}: {source}"
    )]
    DeadLetter {
        /// Transform name.
        transform: String,
        /// The batch (boxed: keeps the error small).
        batch: Box<BatchContext>,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A blocking transform task panicked: a bug.
    #[error("transform task failed: {0}")]
    Task(String),
}

impl WasmError {
    /// Whether retrying may succeed: only I/O on the component cache. Everything a guest does
    /// is definite: the same batch would fail the same way.
    pub fn is_retriable(&self) -> bool {
        matches!(self, WasmError::CacheIo { .. })
    }

    /// Whether the instance that produced this error is dead (a trap of any kind): the next
    /// batch needs a fresh instance.
    pub fn kills_instance(&self) -> bool {
        matches!(
            self,
            WasmError::Trap { .. } | WasmError::Deadline { .. } | WasmError::MemoryCap { .. }
        )
    }
}

/// The message of a wasmtime error for users: the trap code or root cause, without the
/// backtrace preamble that `Display` starts with.
pub(crate) fn describe(error: &wasmtime::Error) -> String {
    let root = error.root_cause().to_string();
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) if !root.contains(&trap.to_string()) => format!("{trap}: {root}"),
        _ => root,
    }
}
