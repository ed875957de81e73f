//! WebAssembly transforms: components of the `wproc:transform@0.1.0` world (`wit/`), run
//! sandboxed over each batch before the sink.
//!
//! **Lifecycle.** One [`WasmEngine`] per process (epoch interruption on, a ticker thread
//! incrementing the epoch every [`limits::EPOCH_TICK`]) with one `Linker` (WASI p2 and the
//! transform world). Each transform is compiled once, or loaded from the on-disk cache keyed by
//! the engine's compatibility hash and the `.wasm` file's SHA-256 ([`engine`]), and linked
//! into an `InstancePre` ([`LoadedTransform`]). Each worker (shard processor) owns one
//! `Store` + instance per transform ([`TransformInstance`]), called once per batch; `init` runs
//! once per instance. [`TransformChain`] runs the transforms in config order.
//!
//! **Sandbox.** Per call, an epoch deadline (the transform's `deadline`); per instance, a
//! memory cap through a `ResourceLimiter` (growth past it traps at once); WASI p2 linked with
//! nothing granted: no preopened directories, no environment or arguments, no sockets, empty
//! stdin. Guest stdout and stderr go to the host log line by line, tagged with the transform's
//! name, bounded per call. Clocks and random stay available.
//!
//! **Errors.** Any trap (panic, deadline, memory cap, a bad accessor index) kills the
//! instance: the next batch gets a fresh one (and `init` again). A typed error or an output
//! that breaks the rules of `wit/types.wit` leaves the instance alive. Every [`WasmError`]
//! names the transform, the batch (shard, range, first event's binlog position) and the
//! cause; all are definite except I/O on the component cache.
//!
//! **Error policy** ([`ErrorPolicy`], per transform): `fail` returns the error and the range
//! is not committed; `skip` logs and counts, and the range commits without output;
//! `dead-letter` first writes the batch (or the rejected events) and the error durably under
//! `dead_letter_dir`. Events a guest rejects one by one follow the same policy.
//!
//! The batch stays in host memory: the guest reads it through the accessors of the batch
//! resource ([`host`]); the output (kept indices, edits, replacements, additions, rejections)
//! is validated then applied ([`apply`]).

mod apply;
mod bindings;
mod chain;
mod config;
mod convert;
mod engine;
mod error;
mod host;
mod instance;
pub mod limits;

pub use apply::RejectedEvent;
pub use chain::{ChainReport, StageStats, TransformChain};
pub use config::{ErrorPolicy, TransformConfig, TransformSettings, parse_cli_transform};
pub use engine::{CACHE_DIR_ENV, CacheOutcome, WasmEngine, default_cache_dir};
pub use error::{BatchContext, GuestError, WasmError};
pub use instance::{LoadedTransform, TransformInstance};
pub use limits::Limits;
