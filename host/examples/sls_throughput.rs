//! Throughput of wproc's SLS client against the local `sls-server` (in process), PutLogs and
//! PullLogs, rows/s. Not a test: run it by hand, in release mode:
//!
//! ```sh
//! cargo run --release -p wproc --example sls_throughput -- [GROUPS_PER_SHARD] [ROWS_PER_GROUP]
//! ```
//! Four shards, one writer and one reader task per shard (as the producer and consumer do),
//! LZ4 both ways, fsync per PutLogs. Rows look like binlog rows in the service_canal format
//! (12 keys, about 250 bytes). Prints one markdown row per direction.

use std::time::Instant;

use wproc::config::Secret;
use wproc::sls::server::{LogstoreConfig, ProjectConfig, ServerConfig, SlsServer};
use wproc::sls::{
    ClientOptions, Content, Credentials, CursorFrom, Log, LogGroup, SlsClient, SlsEndpoint,
};

/// The allocator of the `wproc` binary, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SHARDS: u32 = 4;

fn group(shard: u32, g: usize, rows: usize) -> LogGroup {
    LogGroup {
        logs: (0..rows)
            .map(|r| Log {
                time: 1_700_000_000,
                contents: vec![
                    Content::new("_db_", "bench"),
                    Content::new("_table_", "t"),
                    Content::new("_event_", "row_insert"),
                    Content::new("_gtid_", format!("0-1-{}", g * rows + r)),
                    Content::new("_filename_", "mysql-bin.000001"),
                    Content::new("_offset_", (g * rows + r).to_string()),
                    Content::new("id", (g * rows + r).to_string()),
                    Content::new("shard", shard.to_string()),
                    Content::new("name", format!("name-{r:08}")),
                    Content::new("amount", "12345.67"),
                    Content::new("created", "2026-12-04 15:00:00"),
                    Content::new("note", "lorem ipsum dolor sit amet consectetur"),
                ],
                time_ns: None,
            })
            .collect(),
        topic: Some("bench".into()),
        ..LogGroup::default()
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let groups: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4096);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = ServerConfig {
        projects: vec![ProjectConfig {
            name: "bench".into(),
            logstores: vec![LogstoreConfig {
                name: "store".into(),
                shards: SHARDS,
            }],
        }],
        ..ServerConfig::default()
    };
    let server = SlsServer::start("127.0.0.1:0", dir.path(), config)
        .await
        .expect("server");
    let client = SlsClient::new(
        SlsEndpoint::literal(&server.url(), "sls.test").expect("endpoint"),
        "bench",
        Credentials {
            access_key_id: "bench".into(),
            access_key_secret: Secret::new("bench"),
            security_token: None,
        },
        ClientOptions::default(),
    )
    .expect("client");
    let payload: Vec<Vec<LogGroup>> = (0..SHARDS)
        .map(|s| (0..groups).map(|g| group(s, g, rows)).collect())
        .collect();
    let total_rows = SHARDS as usize * groups * rows;

    let started = Instant::now();
    let mut writers = Vec::new();
    for (shard, groups) in payload.into_iter().enumerate() {
        let client = client.clone();
        writers.push(tokio::spawn(async move {
            for g in &groups {
                client
                    .put_logs_to_shard("store", shard as u32, g)
                    .await
                    .expect("put");
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let put = started.elapsed();

    let started = Instant::now();
    let mut readers = Vec::new();
    for shard in 0..SHARDS {
        let client = client.clone();
        readers.push(tokio::spawn(async move {
            let mut cursor = client
                .get_cursor("store", shard, CursorFrom::Begin)
                .await
                .expect("cursor");
            let mut n = 0usize;
            loop {
                let r = client
                    .pull_logs("store", shard, &cursor, 100, None)
                    .await
                    .expect("pull");
                if r.count == 0 {
                    return n;
                }
                n += r.groups.iter().map(|g| g.logs.len()).sum::<usize>();
                cursor = r.next_cursor;
            }
        }));
    }
    let mut read_rows = 0;
    for r in readers {
        read_rows += r.await.expect("reader");
    }
    let pull = started.elapsed();
    assert_eq!(read_rows, total_rows);
    println!("| direction | rows | groups of | seconds | rows/s |");
    println!("|---|---|---|---|---|");
    for (name, d) in [("PutLogs (4 writers)", put), ("PullLogs (4 readers)", pull)] {
        println!(
            "| {name} | {total_rows} | {rows} | {:.2} | {:.0} |",
            d.as_secs_f64(),
            total_rows as f64 / d.as_secs_f64()
        );
    }
    server.stop().await;
}
