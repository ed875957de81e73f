//! The host side of the contract: the store's state, the batch resource over the host's own
//! `Vec<ChangeEvent>`, the `log` import, and guest stdout/stderr capture.
//!
//! The batch lent to a `process` call lives in [`HostState`] for the duration of the call; the
//! guest's handle is a borrow with a fixed rep (only one batch is ever lent at a time), so the
//! accessors read the events in place and nothing is copied into the guest that it does not
//! ask for. Op and table of the whole batch come from one `headers` and one `tables` call,
//! computed once per batch.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{BatchApiHost, HostBatch, TransformImports, wit};
use super::convert::{event_to_wit, image_row, value_to_wit};
use super::limits::{GUEST_OUTPUT_PER_CALL, MemoryLimiter, STDERR_TAIL};
use crate::event::ChangeEvent;

/// The guest's handle type for the batch (the data is in [`HostState::events`]).
pub struct BatchRes;

/// Everything a transform's store holds.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    /// The batch lent to the current `process` call.
    pub(crate) events: Vec<ChangeEvent>,
    /// Headers and tables of `events`, computed on first use.
    index: Option<TableIndex>,
    name: Arc<str>,
}

struct TableIndex {
    headers: Vec<wit::Header>,
    tables: Vec<wit::TableName>,
}

impl HostState {
    pub(crate) fn new(name: Arc<str>, wasi: WasiCtx, limiter: MemoryLimiter) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter,
            events: Vec::new(),
            index: None,
            name,
        }
    }

    /// Lends `events` to the next call.
    pub(crate) fn lend(&mut self, events: Vec<ChangeEvent>) {
        self.events = events;
        self.index = None;
    }

    /// Takes the lent events back.
    pub(crate) fn take_back(&mut self) -> Vec<ChangeEvent> {
        self.index = None;
        std::mem::take(&mut self.events)
    }

    fn event(&self, index: u32) -> wasmtime::Result<&ChangeEvent> {
        self.events.get(index as usize).ok_or_else(|| {
            wasmtime::format_err!(
                "batch index {index} out of range (batch of {} events)",
                self.events.len()
            )
        })
    }

    fn index(&mut self) -> &TableIndex {
        self.index.get_or_insert_with(|| {
            let mut keys: Vec<&ChangeEvent> = Vec::new();
            let mut headers = Vec::with_capacity(self.events.len());
            let mut last: Option<(&ChangeEvent, u32)> = None;
            for e in &self.events {
                let same = |k: &ChangeEvent| {
                    (Arc::ptr_eq(&k.table, &e.table) || k.table == e.table)
                        && (Arc::ptr_eq(&k.db, &e.db) || k.db == e.db)
                };
                let table = match last {
                    Some((k, i)) if same(k) => i,
                    _ => {
                        let i = match keys.iter().position(|k| same(k)) {
                            Some(i) => i as u32,
                            None => {
                                keys.push(e);
                                keys.len() as u32 - 1
                            }
                        };
                        last = Some((e, i));
                        i
                    }
                };
                headers.push(wit::Header {
                    op: super::convert::op_to_wit(e.op),
                    table,
                });
            }
            let tables = keys
                .iter()
                .map(|k| wit::TableName {
                    db: k.db.to_string(),
                    table: k.table.to_string(),
                })
                .collect();
            TableIndex { headers, tables }
        })
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wit::Host for HostState {}
impl BatchApiHost for HostState {}

impl TransformImports for HostState {
    fn log(&mut self, level: wit::Level, message: String) -> wasmtime::Result<()> {
        let t = &*self.name;
        match level {
            wit::Level::Trace => tracing::trace!(transform = t, "{message}"),
            wit::Level::Debug => tracing::debug!(transform = t, "{message}"),
            wit::Level::Info => tracing::info!(transform = t, "{message}"),
            wit::Level::Warn => tracing::warn!(transform = t, "{message}"),
            wit::Level::Error => tracing::error!(transform = t, "{message}"),
        }
        Ok(())
    }
}

type R<T> = wasmtime::Result<T>;

impl HostBatch for HostState {
    fn len(&mut self, _: Resource<BatchRes>) -> R<u32> {
        Ok(u32::try_from(self.events.len()).unwrap_or(u32::MAX))
    }

    fn headers(&mut self, _: Resource<BatchRes>) -> R<Vec<wit::Header>> {
        Ok(self.index().headers.clone())
    }

    fn tables(&mut self, _: Resource<BatchRes>) -> R<Vec<wit::TableName>> {
        Ok(self.index().tables.clone())
    }

    fn op(&mut self, _: Resource<BatchRes>, index: u32) -> R<wit::Op> {
        Ok(super::convert::op_to_wit(self.event(index)?.op))
    }

    fn db(&mut self, _: Resource<BatchRes>, index: u32) -> R<String> {
        Ok(self.event(index)?.db.to_string())
    }

    fn table(&mut self, _: Resource<BatchRes>, index: u32) -> R<String> {
        Ok(self.event(index)?.table.to_string())
    }

    fn ts_ms(&mut self, _: Resource<BatchRes>, index: u32) -> R<u64> {
        Ok(self.event(index)?.ts_ms)
    }

    fn position(&mut self, _: Resource<BatchRes>, index: u32) -> R<wit::Position> {
        Ok(super::convert::position_to_wit(&self.event(index)?.pos))
    }

    fn sql(&mut self, _: Resource<BatchRes>, index: u32) -> R<Option<String>> {
        Ok(self.event(index)?.sql.clone())
    }

    fn column_count(&mut self, _: Resource<BatchRes>, index: u32) -> R<u32> {
        Ok(self.event(index)?.columns.len() as u32)
    }

    fn column_names(&mut self, _: Resource<BatchRes>, index: u32) -> R<Vec<String>> {
        let e = self.event(index)?;
        Ok(e.columns.iter().map(|c| c.name.to_string()).collect())
    }

    fn column_index(&mut self, _: Resource<BatchRes>, index: u32, name: String) -> R<Option<u32>> {
        let e = self.event(index)?;
        Ok(e.columns
            .iter()
            .position(|c| *c.name == *name)
            .map(|i| i as u32))
    }

    fn value(
        &mut self,
        _: Resource<BatchRes>,
        index: u32,
        image: wit::Image,
        name: String,
    ) -> R<Option<wit::Value>> {
        let e = self.event(index)?;
        let Some(col) = e.columns.iter().position(|c| *c.name == *name) else {
            return Ok(None);
        };
        // A column absent from the image (binlog_row_image=MINIMAL) is `none`, like a missing
        // column: the WIT value variant has no case for it.
        Ok(image_row(e, image)
            .and_then(|row| row.get(col))
            .filter(|v| !v.is_absent())
            .map(value_to_wit))
    }

    fn value_at(
        &mut self,
        _: Resource<BatchRes>,
        index: u32,
        image: wit::Image,
        column: u32,
    ) -> R<Option<wit::Value>> {
        let e = self.event(index)?;
        let Some(row) = image_row(e, image) else {
            return Ok(None);
        };
        match row.get(column as usize) {
            Some(v) if v.is_absent() => Ok(None),
            Some(v) => Ok(Some(value_to_wit(v))),
            None => wasmtime::bail!(
                "column index {column} out of range (event {index} has {} columns)",
                row.len()
            ),
        }
    }

    fn row(
        &mut self,
        _: Resource<BatchRes>,
        index: u32,
        image: wit::Image,
    ) -> R<Option<Vec<wit::Value>>> {
        let e = self.event(index)?;
        Ok(image_row(e, image).map(|row| row.iter().map(value_to_wit).collect()))
    }

    fn get(&mut self, _: Resource<BatchRes>, index: u32) -> R<wit::ChangeEvent> {
        Ok(event_to_wit(self.event(index)?))
    }

    fn drop(&mut self, _: Resource<BatchRes>) -> R<()> {
        Ok(())
    }
}

/// Guest stdout or stderr: forwarded line by line to the host log with the transform's name,
/// bounded per call ([`GUEST_OUTPUT_PER_CALL`]); the latest bytes are kept to explain a trap.
/// Never returns an error to the guest (a full pipe would make `println!` panic).
#[derive(Clone)]
pub(crate) struct GuestOutput(Arc<Mutex<OutputState>>);

struct OutputState {
    transform: Arc<str>,
    stream: &'static str,
    line: Vec<u8>,
    forwarded: usize,
    dropped: usize,
    tail: Vec<u8>,
}

impl GuestOutput {
    pub(crate) fn new(transform: Arc<str>, stream: &'static str) -> Self {
        Self(Arc::new(Mutex::new(OutputState {
            transform,
            stream,
            line: Vec::new(),
            forwarded: 0,
            dropped: 0,
            tail: Vec::new(),
        })))
    }

    fn push(&self, bytes: &[u8]) {
        let Ok(mut s) = self.0.lock() else { return };
        s.tail.extend_from_slice(bytes);
        if s.tail.len() > STDERR_TAIL {
            let cut = s.tail.len() - STDERR_TAIL;
            s.tail.drain(..cut);
        }
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            if s.forwarded + s.line.len() + chunk.len() > GUEST_OUTPUT_PER_CALL {
                s.dropped += chunk.len();
                continue;
            }
            s.line.extend_from_slice(chunk);
            if chunk.ends_with(b"\n") {
                s.emit();
            }
        }
    }

    /// Ends a call: forwards a partial last line, reports dropped bytes, and returns (and
    /// clears) the bytes kept from this call.
    pub(crate) fn end_call(&self) -> String {
        let Ok(mut s) = self.0.lock() else {
            return String::new();
        };
        if !s.line.is_empty() {
            s.emit();
        }
        if s.dropped > 0 {
            tracing::warn!(
                message = "Guest output over the per-call limit was dropped.",
                transform = %s.transform,
                stream = s.stream,
                bytes = s.dropped
            );
        }
        s.forwarded = 0;
        s.dropped = 0;
        let tail = String::from_utf8_lossy(&s.tail).trim().to_owned();
        s.tail.clear();
        tail
    }
}

impl OutputState {
    fn emit(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        let text = text.trim_end();
        tracing::info!(
            message = "Guest output.",
            transform = %self.transform,
            stream = self.stream,
            line = %text
        );
        self.forwarded += self.line.len();
        self.line.clear();
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
