//! A loaded transform ([`LoadedTransform`]: an `InstancePre`, cheap to instantiate) and one
//! live instance ([`TransformInstance`]: a `Store` with its limits, used by one worker).

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::Resource;
use wasmtime_wasi::WasiCtxBuilder;

use super::apply::{self, RejectedEvent, guest_error};
use super::bindings::{TransformPre, TransformWorld};
use super::error::{BatchContext, WasmError, describe};
use super::host::{GuestOutput, HostState};
use super::limits::{Limits, MemoryLimiter};
use crate::sink::OutputBatch;

/// A compiled and linked transform. Instantiating it costs tens of microseconds.
#[derive(Clone)]
pub struct LoadedTransform {
    pub(crate) name: Arc<str>,
    pub(crate) init_config: String,
    pub(crate) limits: Limits,
    pub(crate) engine: wasmtime::Engine,
    pub(crate) pre: Arc<TransformPre<HostState>>,
}

impl std::fmt::Debug for LoadedTransform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedTransform")
            .field("name", &self.name)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// One live instance: its own store, memory and state. Dead after any trap.
pub struct TransformInstance {
    name: Arc<str>,
    limits: Limits,
    store: Store<HostState>,
    world: TransformWorld,
    stdout: GuestOutput,
    stderr: GuestOutput,
}

impl LoadedTransform {
    /// The transform's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A fresh instance with nothing granted (no files, network, environment or arguments;
    /// stdin empty; stdout and stderr to the host log), on which `init` has run.
    pub fn instantiate(&self) -> Result<TransformInstance, WasmError> {
        let stdout = GuestOutput::new(self.name.clone(), "stdout");
        let stderr = GuestOutput::new(self.name.clone(), "stderr");
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = HostState::new(
            self.name.clone(),
            wasi,
            MemoryLimiter::new(self.limits.memory_bytes),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(self.limits.deadline_ticks());
        let init_err = |message: String| WasmError::Init {
            transform: self.name.to_string(),
            message,
        };
        let world = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| init_err(describe(&e)))?;
        let result = world.call_init(&mut store, &self.init_config);
        let tail = stderr.end_call();
        stdout.end_call();
        match result {
            Ok(Ok(())) => Ok(TransformInstance {
                name: self.name.clone(),
                limits: self.limits,
                store,
                world,
                stdout,
                stderr,
            }),
            Ok(Err(e)) => Err(init_err(guest_error(e).to_string())),
            Err(e) => Err(init_err(with_stderr(describe(&e), &tail))),
        }
    }
}

fn with_stderr(message: String, stderr: &str) -> String {
    if stderr.is_empty() {
        message
    } else {
        format!("{message}; guest stderr: {stderr}")
    }
}

impl TransformInstance {
    /// Runs `process` over `batch` and replaces its events and routes with the output.
    /// Returns the events the guest rejected. On error the batch is left as it was.
    pub fn process(&mut self, batch: &mut OutputBatch) -> Result<Vec<RejectedEvent>, WasmError> {
        let len = batch.events.len();
        let ctx = BatchContext {
            shard: batch.shard,
            start: batch.start,
            end: batch.end,
            first: batch.events.first().map(|e| e.pos.clone()),
        };
        self.store
            .data_mut()
            .lend(std::mem::take(&mut batch.events));
        self.store.set_epoch_deadline(self.limits.deadline_ticks());
        let started = Instant::now();
        let result = self
            .world
            .call_process(&mut self.store, Resource::new_borrow(0));
        let elapsed = started.elapsed();
        batch.events = self.store.data_mut().take_back();
        let tail = self.stderr.end_call();
        self.stdout.end_call();
        let transform = self.name.to_string();
        match result {
            Ok(Ok(out)) => {
                apply::validate(&out, len).map_err(|message| WasmError::InvalidOutput {
                    transform,
                    batch: ctx.into(),
                    message,
                })?;
                let applied = apply::apply(
                    out,
                    std::mem::take(&mut batch.events),
                    std::mem::take(&mut batch.routes),
                );
                batch.events = applied.events;
                batch.routes = applied.routes;
                Ok(applied.rejected)
            }
            Ok(Err(e)) => Err(WasmError::Guest {
                transform,
                batch: ctx.into(),
                error: guest_error(e),
            }),
            Err(e) => {
                if let Some(requested) = self.store.data_mut().limiter.take_hit() {
                    return Err(WasmError::MemoryCap {
                        transform,
                        batch: ctx.into(),
                        cap: self.limits.memory_bytes,
                        requested: requested as u64,
                    });
                }
                if e.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
                    tracing::debug!(transform = %self.name, ?elapsed, "deadline hit");
                    return Err(WasmError::Deadline {
                        transform,
                        batch: ctx.into(),
                        deadline: self.limits.deadline,
                    });
                }
                Err(WasmError::Trap {
                    transform,
                    batch: ctx.into(),
                    message: with_stderr(describe(&e), &tail),
                })
            }
        }
    }

    /// Peak linear memory granted so far, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.store.data().limiter.peak
    }
}
