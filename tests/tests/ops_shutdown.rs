//! Graceful shutdown under load: SIGTERM while rows keep arriving.
//!
//! "Acknowledged" means: capture wrote its binlog checkpoint past the row (the transport has
//! it durably). A graceful stop must exit 0 with every acknowledged row already in the output
//! files, i.e. processing drained everything capture checkpointed. A second run with the same
//! configuration then brings the rest, and the union holds every row exactly once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::Value;
use wproc_tests::{MariaDb, Workspace, position_key, row_events, sigterm, wait_until};

const ROWS_PER_TRANSACTION: u64 = 3;

/// (file, offset) of a checkpoint or event position, ordered as binlog positions are (the
/// harness's file names have fixed-width numbers, so text order is binlog order).
fn binlog_position(v: &Value) -> (String, u64) {
    (
        v["file"].as_str().unwrap_or_default().to_owned(),
        v["offset"].as_u64().unwrap_or_default(),
    )
}

#[test]
fn sigterm_mid_run_keeps_every_acknowledged_row() {
    let db = MariaDb::start().unwrap();
    let ws = Workspace::new(&db).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        conn.query_drop("CREATE TABLE s (id BIGINT PRIMARY KEY, v VARCHAR(32))")
            .await
            .unwrap();
    });

    // A writer that commits small transactions until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let inserted = Arc::new(AtomicU64::new(0));
    let writer = {
        let (pool, stop, inserted) = (pool.clone(), stop.clone(), inserted.clone());
        rt.spawn(async move {
            let mut conn = pool.get_conn().await.unwrap();
            let mut next = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let mut tx = conn.start_transaction(Default::default()).await.unwrap();
                for _ in 0..ROWS_PER_TRANSACTION {
                    tx.exec_drop("INSERT INTO s VALUES (?, ?)", (next, format!("v{next}")))
                        .await
                        .unwrap();
                    next += 1;
                }
                tx.commit().await.unwrap();
                inserted.store(next, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let out = ws.out();
    let mut child = ws.spawn_run().unwrap();
    let flowing = wait_until(Duration::from_secs(60), || {
        row_events(&out, "s").is_ok_and(|e| e.len() >= 300)
    });
    assert!(flowing, "rows did not flow; log:\n{}", ws.log());
    let inserted_at_signal = inserted.load(Ordering::SeqCst);
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "first run exited {status}; log:\n{}",
        ws.log()
    );
    // Keep writing a little after the stop, so that the second run has more to bring.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    rt.block_on(writer).unwrap();
    let total = inserted.load(Ordering::SeqCst);
    assert!(
        total > inserted_at_signal,
        "the writer was not running at SIGTERM"
    );

    // What the first run acknowledged, and what it wrote.
    let checkpoint: Value = serde_json::from_slice(
        &std::fs::read(ws.dir.path().join("log/capture.json")).expect("capture checkpoint"),
    )
    .unwrap();
    let acknowledged_to = binlog_position(&checkpoint["binlog"]);
    let first: Vec<Value> = row_events(&out, "s").unwrap();
    let first_keys: HashSet<_> = first.iter().map(position_key).collect();
    assert_eq!(first_keys.len(), first.len(), "first run duplicated rows");

    // The second run drains the rest.
    let mut child = ws.spawn_run().unwrap();
    let caught_up = wait_until(Duration::from_secs(60), || {
        row_events(&out, "s").is_ok_and(|e| e.len() as u64 >= total)
    });
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(caught_up, "second run did not catch up; log:\n{}", ws.log());
    assert!(
        status.success(),
        "second run exited {status}; log:\n{}",
        ws.log()
    );

    let all = row_events(&out, "s").unwrap();
    let keys: HashSet<_> = all.iter().map(position_key).collect();
    assert_eq!(keys.len(), all.len(), "duplicated rows");
    assert_eq!(all.len() as u64, total, "lost rows");
    let mut ids: Vec<u64> = all
        .iter()
        .map(|e| e["after"]["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..total).collect::<Vec<_>>());

    // Every row before the first run's checkpoint was already written by the first run.
    let acknowledged: Vec<&Value> = all
        .iter()
        .filter(|e| binlog_position(&e["pos"]) < acknowledged_to)
        .collect();
    assert!(
        acknowledged.len() as u64 >= 300,
        "checkpoint {acknowledged_to:?} covers only {} rows",
        acknowledged.len()
    );
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|e| !first_keys.contains(&position_key(e)))
        .map(|e| e["after"]["id"].clone())
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged rows missing after the graceful stop: {missing:?}; log:\n{}",
        ws.log()
    );
    eprintln!(
        "sigterm: {} rows acknowledged and written by the first run, {} more by the second",
        first.len(),
        total - first.len() as u64
    );
    drop(pool);
}

/// A drain that cannot finish (the source is stuck in a connection handshake to a server that
/// accepted the connection and never answers) ends at `drain_timeout` with exit code 124.
/// Meanwhile `/health` is 200 and `/ready` is 503, naming the source.
#[test]
fn drain_timeout_exits_124_when_the_drain_cannot_finish() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    // Accept and hold connections without a byte of handshake.
    let held = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().take(4) {
            held.push(stream);
        }
        held
    });
    let dir = tempfile::Builder::new()
        .prefix("wproc-drain-")
        .tempdir()
        .unwrap();
    let config = format!(
        r#"version = 1
[source.mysql]
port = {silent_port}
user = "wproc"
password = "${{TEST_MYSQL_PASSWORD}}"
connect_timeout = "10m"
[transport.local]
dir = "log"
[sink.files]
dir = "out"
"#
    );
    std::fs::write(dir.path().join("wproc.toml"), config).unwrap();
    let ws = Workspace { dir };
    let metrics_port = wproc_tests::free_port();
    let listen = format!("127.0.0.1:{metrics_port}");
    let mut child = ws
        .spawn_run_with(&["--drain-timeout", "1s", "--metrics-listen", &listen])
        .unwrap();
    let ready = |path: &str| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", metrics_port)).ok()?;
        use std::io::{Read, Write};
        write!(stream, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        Some(response)
    };
    let not_ready = wait_until(Duration::from_secs(30), || {
        ready("/ready").is_some_and(|r| r.starts_with("HTTP/1.0 503") && r.contains("source"))
    });
    assert!(
        not_ready,
        "/ready did not report the source; log:\n{}",
        ws.log()
    );
    assert!(ready("/health").is_some_and(|r| r.starts_with("HTTP/1.0 200")));

    sigterm(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(124), "log:\n{}", ws.log());
    assert!(
        ws.log().contains("Drain timeout passed"),
        "log:\n{}",
        ws.log()
    );
    drop(held);
}
