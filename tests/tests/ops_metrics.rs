//! The metrics endpoint after a real run: a private MariaDB, `wproc run` on the embedded
//! defaults with `--metrics-listen`, rows inserted, then `/metrics` scraped and compared with
//! what the output files hold.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use wproc_tests::{MariaDb, Workspace, free_port, read_output, row_events, sigterm, wait_until};

const ROWS: usize = 600;
const ROWS_PER_TRANSACTION: usize = 20;

/// One HTTP/1.0 GET: (status, body), or None when nothing listens.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// The value of the sample `series` (name with labels, exactly as printed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_count_what_the_run_moved() {
    let db = MariaDb::start().unwrap();
    let ws = Workspace::new(&db).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        conn.query_drop("CREATE TABLE m (id BIGINT PRIMARY KEY, v VARCHAR(32))")
            .await
            .unwrap();
    });

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = ws.spawn_run_with(&["--metrics-listen", &listen]).unwrap();
    let ready = wait_until(Duration::from_secs(30), || {
        http_get(port, "/ready").is_some_and(|(status, _)| status == 200)
    });
    assert!(ready, "/ready never answered 200; log:\n{}", ws.log());
    assert_eq!(http_get(port, "/health").map(|r| r.0), Some(200));

    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        for chunk in 0..ROWS / ROWS_PER_TRANSACTION {
            let mut tx = conn.start_transaction(Default::default()).await.unwrap();
            for k in 0..ROWS_PER_TRANSACTION {
                let id = chunk * ROWS_PER_TRANSACTION + k;
                tx.exec_drop("INSERT INTO m VALUES (?, ?)", (id, format!("v{id}")))
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
    });
    let out = ws.out();
    let landed = wait_until(Duration::from_secs(60), || {
        row_events(&out, "m").is_ok_and(|e| e.len() >= ROWS)
    });
    assert!(landed, "rows did not land; log:\n{}", ws.log());

    // Everything the source read has landed once the sink counter matches the files, which
    // the source counter must equal too (one process, no restart: nothing deduplicated).
    let lines = || read_output(&out).unwrap();
    let (mut text, mut settled) = (String::new(), false);
    for _ in 0..100 {
        let (status, body) = http_get(port, "/metrics").expect("metrics endpoint");
        assert_eq!(status, 200);
        text = body;
        let total = lines().len() as f64;
        let sink = sample(&text, "wproc_events_out_total{stage=\"sink\"}");
        let source = sample(&text, "wproc_events_out_total{stage=\"source\"}");
        if sink == Some(total) && source == Some(total) {
            settled = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = lines();
    let total = output.len() as f64;
    assert!(
        settled,
        "counters never matched {total} output events:\n{text}"
    );
    assert_eq!(row_events(&out, "m").unwrap().len(), ROWS);

    let value = |series: &str| {
        sample(&text, series).unwrap_or_else(|| panic!("{series} missing from:\n{text}"))
    };
    for stage in ["source", "capture", "sink"] {
        assert_eq!(
            value(&format!("wproc_events_out_total{{stage=\"{stage}\"}}")),
            total,
            "events out of {stage}"
        );
    }
    for stage in ["capture", "process", "sink"] {
        assert_eq!(
            value(&format!("wproc_events_in_total{{stage=\"{stage}\"}}")),
            total,
            "events into {stage}"
        );
    }
    // Bytes and files of the sink are exactly what is on disk.
    let mut files: Vec<_> = output.iter().map(|(f, _)| f.clone()).collect();
    files.dedup();
    let on_disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(value("wproc_bytes_total{stage=\"sink\"}"), on_disk as f64);
    assert_eq!(
        value("wproc_sink_files_total{component=\"files\"}"),
        files.len() as f64
    );
    assert!(value("wproc_bytes_total{stage=\"capture\"}") > 0.0);
    assert!(value("wproc_bytes_total{stage=\"process\"}") > 0.0);

    // Lag is present and small (the rows were written seconds ago); checkpoints moved.
    let lag = value("wproc_replication_lag_seconds");
    assert!((0.0..30.0).contains(&lag), "lag {lag}");
    assert!(value("wproc_checkpoint_commits_total{checkpoint=\"capture\"}") >= 1.0);
    assert!(value("wproc_checkpoint_commits_total{checkpoint=\"process\"}") >= 1.0);
    let age = value("wproc_checkpoint_age_seconds{checkpoint=\"process\"}");
    assert!((0.0..60.0).contains(&age), "checkpoint age {age}");
    assert!(value("wproc_batch_latency_seconds_count{stage=\"sink\"}") >= 1.0);
    assert!(
        !text.contains("error_type=\"definite\""),
        "a definite error was counted:\n{text}"
    );
    assert_eq!(http_get(port, "/ready").map(|r| r.0), Some(200));

    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status}; log:\n{}", ws.log());
    assert!(
        http_get(port, "/health").is_none(),
        "the endpoint outlived the process"
    );
    drop(pool);
}
