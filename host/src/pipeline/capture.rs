//! The capture half: source batches appended to the transport, then the binlog checkpoint.
//!
//! Invariant: `capture.json` is written only after the append that contains every event before
//! it returned, i.e. after fsync (local log) or after every PutLogs succeeded (SLS). Batches
//! waiting in the channel are coalesced into one append (one fsync) of at most
//! [`APPEND_MAX_EVENTS`] events.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::error::Error;
use crate::source::{MysqlSource, SourceBatch};
use crate::telemetry::metrics::{self, Checkpoint, Stage};
use crate::transport::CaptureTransport;

/// Source batches buffered between the source and the appender.
const CHANNEL_BATCHES: usize = 16;
/// Most events coalesced into one append.
pub const APPEND_MAX_EVENTS: usize = 65_536;

/// Runs capture until shutdown or a failure.
pub async fn run(
    source: MysqlSource,
    mut transport: CaptureTransport,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let resume = transport.capture_checkpoint()?;
    match &resume {
        Some(cp) => info!(message = "Resuming capture.", position = %cp.binlog),
        None => info!(message = "No capture checkpoint; starting from the configured start."),
    }
    let (tx, mut rx) = mpsc::channel::<SourceBatch>(CHANNEL_BATCHES);
    let source_task = tokio::spawn(source.run(resume, tx, shutdown.clone()));

    while let Some(first) = rx.recv().await {
        let received_at = std::time::Instant::now();
        let mut events = first.events;
        let mut checkpoint = first.checkpoint;
        while events.len() < APPEND_MAX_EVENTS {
            match rx.try_recv() {
                Ok(batch) => {
                    events.extend(batch.events);
                    if batch.checkpoint.is_some() {
                        checkpoint = batch.checkpoint;
                    }
                }
                Err(_) => break,
            }
        }
        let count = events.len();
        // What the source handed on is what capture received.
        metrics::events_out(Stage::Source, count);
        metrics::events_in(Stage::Capture, count);
        let appended = transport.append(events, &shutdown).await?;
        metrics::events_out(Stage::Capture, appended);
        metrics::batch_latency(Stage::Capture, received_at.elapsed());
        debug!(message = "Appended.", received = count, appended);
        if let Some(cp) = checkpoint {
            transport.write_capture_checkpoint(cp).await?;
            metrics::checkpoint_committed(Checkpoint::Capture);
        }
    }
    source_task.await??;
    Ok(())
}
