//! Throughput of the HDFS sink: writes generated change events (a typical 8-column order row,
//! inserts and updates) through [`Sink::write_batch`] into an HDFS and prints one line
//! `rows=… bytes=… seconds=… rows_per_s=…`. Run by `bench/hdfs.sh`.
//!
//! ```text
//! hdfs_sink_bench URL [ROWS] [BATCH] [SHARDS] [none|gzip|zstd] [DUMP_FILE]
//! ```
//! `ROWS` events (default 1,000,000) in batches of `BATCH` (default 100,000), spread over
//! `SHARDS` shards written at the same time (default 2), as the pipeline does with one
//! processor per shard. The events are built before the clock starts; encoding, compression,
//! the HDFS writes, hsync, close and rename are timed. `DUMP_FILE` receives the same events as
//! one JSON Lines file, for a baseline with another client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wproc::event::{ChangeEvent, Column, EventPosition, Op, Value, jsonl};
use wproc::sink::{Compression, HdfsSinkConfig, OutputBatch, Sink, SinkConfig};

/// The allocator of the `wproc` binary, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn columns() -> Arc<[Column]> {
    [
        ("id", "bigint(20)"),
        ("customer_id", "int(11)"),
        ("status", "varchar(16)"),
        ("amount", "decimal(12,2)"),
        ("currency", "char(3)"),
        ("note", "varchar(255)"),
        ("created_at", "datetime(3)"),
        ("updated_at", "timestamp(6)"),
    ]
    .into_iter()
    .map(|(name, sql_type)| Column {
        name: name.into(),
        sql_type: sql_type.into(),
    })
    .collect()
}

fn row(i: u64, status: &str) -> Vec<Value> {
    vec![
        Value::Int(i as i64),
        Value::Int((i % 50_000) as i64),
        Value::String(status.to_owned()),
        Value::Decimal(format!("{}.{:02}", i % 10_000, i % 100)),
        Value::String("EUR".to_owned()),
        Value::String(format!("order {i} for customer {}", i % 50_000)),
        Value::DateTime {
            year: 2026,
            month: 12,
            day: 4,
            hour: (i / 3600 % 24) as u8,
            minute: (i / 60 % 60) as u8,
            second: (i % 60) as u8,
            micros: (i % 1000) as u32 * 1000,
            fsp: 3,
        },
        Value::Timestamp {
            seconds: 1_796_000_000 + i as i64,
            micros: (i % 1_000_000) as u32,
            fsp: 6,
        },
    ]
}

/// Event `i`: an insert, every fourth an update (before and after images).
fn event(i: u64, columns: &Arc<[Column]>) -> ChangeEvent {
    let update = i % 4 == 3;
    ChangeEvent {
        op: if update { Op::Update } else { Op::Insert },
        db: "shop".into(),
        table: if i.is_multiple_of(2) {
            "orders"
        } else {
            "order_items"
        }
        .into(),
        ts_ms: 1_796_000_000_000 + i,
        pos: EventPosition {
            file: "mysql-bin.000042".into(),
            offset: 4 + i * 180,
            row: 0,
            gtid: None,
        },
        columns: columns.clone(),
        before: update.then(|| row(i, "new")),
        after: Some(row(i, if update { "paid" } else { "new" })),
        sql: None,
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .context("usage: hdfs_sink_bench URL [ROWS] [BATCH] [SHARDS] [COMPRESSION] [DUMP]")?;
    let arg = |i: usize, default: u64| -> Result<u64> {
        args.get(i)
            .map_or(Ok(default), |s| s.parse().context("a number"))
    };
    let rows = arg(1, 1_000_000)?;
    let batch_size = arg(2, 100_000)?.max(1);
    let shards = arg(3, 2)?.max(1) as usize;
    let compression = match args.get(4).map(String::as_str) {
        None | Some("none") => Compression::None,
        Some("gzip") => Compression::Gzip,
        Some("zstd") => Compression::Zstd,
        Some(other) => anyhow::bail!("unknown compression {other}"),
    };
    let columns = columns();
    let events: Vec<ChangeEvent> = (0..rows).map(|i| event(i, &columns)).collect();
    let mut bytes = 0usize;
    {
        let mut out = Vec::new();
        for e in &events {
            jsonl::write_event(&mut out, e);
        }
        bytes += out.len();
        if let Some(dump) = args.get(5) {
            std::fs::write(dump, &out)?;
        }
    }
    // Batches, dealt round-robin to the shards.
    let mut per_shard: Vec<Vec<Arc<OutputBatch>>> = vec![Vec::new(); shards];
    for (n, chunk) in events.chunks(batch_size as usize).enumerate() {
        let shard = n % shards;
        let start = (n / shards) as u64 * batch_size;
        per_shard[shard].push(Arc::new(OutputBatch {
            shard,
            start,
            end: start + chunk.len() as u64,
            events: chunk.to_vec(),
            routes: Vec::new(),
        }));
    }
    drop(events);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = format!("/bench-{}", std::process::id());
    let config = SinkConfig::Hdfs(HdfsSinkConfig {
        url: Some(url.clone()),
        dir: dir.clone(),
        compression,
        op_timeout: Duration::from_secs(120),
        ..HdfsSinkConfig::default()
    });
    let seconds = rt.block_on(async {
        let sink = Sink::new(&config).await?;
        sink.recover(&(0..shards).collect::<Vec<_>>()).await?;
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for batches in per_shard {
            let sink = sink.clone();
            tasks.spawn(async move {
                for batch in batches {
                    sink.write_batch(batch).await?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        let seconds = started.elapsed().as_secs_f64();
        if let Sink::Hdfs(hdfs) = &sink {
            hdfs.client().delete(&dir, true).await?;
        }
        anyhow::Ok(seconds)
    })?;
    println!(
        "rows={rows} bytes={bytes} seconds={seconds:.3} rows_per_s={:.0}",
        rows as f64 / seconds
    );
    Ok(())
}
