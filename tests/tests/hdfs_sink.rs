//! The HDFS sink against a real Hadoop 2.7.3 NameNode and DataNode (tests/harness/hdfs.sh):
//! writes and recovery through the sink, output read back with Hadoop's own FsShell; MariaDB to
//! HDFS end to end through `wproc run`, with a NameNode restart; SIGKILLs at random moments.

use std::sync::Arc;
use std::time::Duration;

use wproc::event::{ChangeEvent, Column, EventPosition, Op, Value, jsonl};
use wproc::sink::{Compression, HdfsSinkConfig, OutputBatch, Sink, SinkConfig, SinkError};
use wproc_tests::Hdfs;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn config(hdfs: &Hdfs, dir: &str, compression: Compression) -> HdfsSinkConfig {
    HdfsSinkConfig {
        url: Some(hdfs.url.clone()),
        dir: dir.into(),
        compression,
        op_timeout: Duration::from_secs(5),
        ..HdfsSinkConfig::default()
    }
}

fn event(table: &str, id: i64) -> ChangeEvent {
    ChangeEvent {
        op: Op::Insert,
        db: "shop".into(),
        table: table.into(),
        // 2024-11-24T08:30:00Z
        ts_ms: 1_732_437_000_000,
        pos: EventPosition {
            file: "bin.000001".into(),
            offset: id as u64,
            row: 0,
            gtid: None,
        },
        columns: Arc::from(vec![
            Column {
                name: "id".into(),
                sql_type: "int".into(),
            },
            Column {
                name: "note".into(),
                sql_type: "varchar(64)".into(),
            },
        ]),
        before: None,
        after: Some(vec![
            Value::Int(id),
            Value::String(format!("row {id} \"quoted\" ünïcode")),
        ]),
        sql: None,
    }
}

fn batch(shard: usize, start: u64, end: u64, events: Vec<ChangeEvent>) -> Arc<OutputBatch> {
    Arc::new(OutputBatch {
        shard,
        start,
        end,
        events,
        routes: Vec::new(),
    })
}

/// The JSON Lines the sink writes for `events`, one string per line.
fn expected_lines<'a>(events: impl IntoIterator<Item = &'a ChangeEvent>) -> Vec<String> {
    let mut out = Vec::new();
    for e in events {
        jsonl::write_event(&mut out, e);
    }
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn hdfs_sink(sink: &Sink) -> &wproc::sink::HdfsSink {
    match sink {
        Sink::Hdfs(s) => s,
        Sink::Files(_) => unreachable!("an HDFS config makes an HDFS sink"),
    }
}

#[test]
fn writes_compresses_and_recovers_against_real_hdfs() {
    let hdfs = Hdfs::start().unwrap();
    let rt = runtime();
    let a: Vec<ChangeEvent> = (0..500).map(|i| event("a", i)).collect();
    let b: Vec<ChangeEvent> = (500..520).map(|i| event("b", i)).collect();

    // Plain and gzip: FsShell `-text` reads them back line by line.
    for (dir, compression) in [("/plain", Compression::None), ("/gz", Compression::Gzip)] {
        let sink = rt
            .block_on(Sink::new(&SinkConfig::Hdfs(config(
                &hdfs,
                dir,
                compression,
            ))))
            .unwrap();
        let ends = rt.block_on(sink.recover(&[0, 1])).unwrap();
        assert!(ends.is_empty(), "{ends:?}");
        let mixed: Vec<ChangeEvent> = a.iter().chain(&b).cloned().collect();
        assert_eq!(
            rt.block_on(sink.write_batch(batch(1, 0, 40, mixed)))
                .unwrap(),
            2
        );
        assert_eq!(
            rt.block_on(sink.write_batch(batch(1, 40, 41, vec![])))
                .unwrap(),
            0
        );
        let suffix = compression.suffix();
        let files = hdfs.final_files(dir).unwrap();
        assert_eq!(
            files,
            vec![
                format!(
                    "{dir}/shop/a/dt=2024-11-24/part-0001-00000000000000000000-00000000000000000040{suffix}"
                ),
                format!(
                    "{dir}/shop/b/dt=2024-11-24/part-0001-00000000000000000000-00000000000000000040{suffix}"
                ),
            ]
        );
        let read = hdfs.fs(&["-text", &files[0]]).unwrap();
        let read: Vec<&str> = read.lines().collect();
        assert_eq!(
            read,
            expected_lines(&a),
            "{dir}: file a as FsShell reads it"
        );
        let read_b = hdfs.fs(&["-text", &files[1]]).unwrap();
        assert_eq!(read_b.lines().collect::<Vec<_>>(), expected_lines(&b));
        assert_eq!(rt.block_on(sink.recover(&[1])).unwrap().get(&1), Some(&40));
    }

    // zstd: Hadoop 2.7 has no zstd codec; read the bytes with hdfs-native and decode.
    let zconfig = config(&hdfs, "/zst", Compression::Zstd);
    let sink = rt.block_on(Sink::new(&SinkConfig::Hdfs(zconfig))).unwrap();
    rt.block_on(sink.write_batch(batch(0, 7, 9, a.clone())))
        .unwrap();
    let path =
        "/zst/shop/a/dt=2024-11-24/part-0000-00000000000000000007-00000000000000000009.jsonl.zst";
    let bytes = rt.block_on(async {
        let mut reader = hdfs_sink(&sink).client().read(path).await.unwrap();
        let len = reader.file_length();
        reader.read_bytes(len).await.unwrap()
    });
    let text = String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), expected_lines(&a));

    // Recovery of crash leftovers under /rec.
    let sink = rt
        .block_on(Sink::new(&SinkConfig::Hdfs(config(
            &hdfs,
            "/rec",
            Compression::None,
        ))))
        .unwrap();
    let client = hdfs_sink(&sink).client().clone();
    rt.block_on(sink.write_batch(batch(0, 0, 10, vec![event("a", 1), event("b", 2)])))
        .unwrap();
    let dir_a = "/rec/shop/a/dt=2024-11-24";
    let dir_b = "/rec/shop/b/dt=2024-11-24";
    let name = |s: u64, e: u64| format!("part-0000-{s:020}-{e:020}.jsonl");
    // A partly renamed batch [0,10): b's file back to its (complete, closed) temporary.
    rt.block_on(client.rename(
        &format!("{dir_b}/{}", name(0, 10)),
        &format!("{dir_b}/.{}.tmp", name(0, 10)),
        false,
    ))
    .unwrap();
    // A lone, closed temporary of an uncommitted batch [10,20).
    hdfs.fs(&["-touchz", &format!("{dir_a}/.{}.tmp", name(10, 20))])
        .unwrap();
    // A lone temporary still open under a killed writer's lease, with hsynced data.
    let mut open = rt
        .block_on(client.create(
            &format!("{dir_b}/.{}.tmp", name(10, 20)),
            hdfs_native::WriteOptions::default(),
        ))
        .unwrap();
    rt.block_on(async {
        open.write_bytes(bytes::Bytes::from_static(b"{\"torn\":"))
            .await
            .unwrap();
        open.hsync().await.unwrap();
    });
    std::mem::forget(open);
    // Shard 1's temporary belongs to another worker: recovering shard 0 leaves it alone.
    let other = format!("{dir_a}/.part-0001-{:020}-{:020}.jsonl.tmp", 0, 5);
    hdfs.fs(&["-touchz", &other]).unwrap();

    let ends = rt.block_on(sink.recover(&[0])).unwrap();
    assert_eq!(ends.get(&0), Some(&10));
    assert_eq!(ends.get(&1), None);
    let listing = hdfs.fs(&["-ls", "-R", "/rec"]).unwrap();
    let names: Vec<&str> = listing
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.rsplit('/').next())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            format!(".part-0001-{:020}-{:020}.jsonl.tmp", 0, 5),
            name(0, 10),
            name(0, 10)
        ],
        "{listing}"
    );
    let lines = hdfs.json_lines("/rec").unwrap();
    assert_eq!(lines.len(), 2);
    // The batch after the recovered end writes as usual.
    rt.block_on(sink.write_batch(batch(0, 10, 20, vec![event("b", 3)])))
        .unwrap();
    assert_eq!(hdfs.json_lines("/rec").unwrap().len(), 3);
}

#[test]
fn an_outage_is_retried_then_given_up_with_a_definite_error() {
    let hdfs = Hdfs::start().unwrap();
    let rt = runtime();
    let mut cfg = config(&hdfs, "/out", Compression::None);
    cfg.op_timeout = Duration::from_secs(2);
    cfg.give_up_after = Duration::from_secs(3);
    let sink = rt.block_on(Sink::new(&SinkConfig::Hdfs(cfg))).unwrap();
    rt.block_on(sink.recover(&[0])).unwrap();
    hdfs.stop_namenode().unwrap();
    let mut retriable = 0;
    let error = loop {
        match rt.block_on(sink.write_batch(batch(0, 0, 1, vec![event("a", 1)]))) {
            Err(e) if e.is_retriable() => {
                retriable += 1;
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => break e,
            Ok(_) => panic!("a write succeeded without a NameNode"),
        }
    };
    assert!(retriable >= 1, "the outage was transient at first");
    assert!(
        matches!(error, SinkError::Hdfs(ref e) if e.to_string().contains("giving up on shard 0 range [0, 1)")),
        "{error}"
    );
    // Once the NameNode is back, the same batch lands (nothing was half committed).
    hdfs.start_namenode().unwrap();
    rt.block_on(sink.write_batch(batch(0, 0, 1, vec![event("a", 1)])))
        .unwrap();
    assert_eq!(hdfs.json_lines("/out").unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// End to end: MariaDB -> `wproc run` with [sink.hdfs] -> HDFS

/// Every JSON line of the final files under `root`, read through hdfs-native (fast, for
/// polling; the assertions use FsShell).
fn landed(
    rt: &tokio::runtime::Runtime,
    client: &hdfs_native::Client,
    root: &str,
) -> Vec<serde_json::Value> {
    rt.block_on(async {
        let Ok(listing) = client.list_status(root, true).await else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        for status in listing {
            let name = status.path.rsplit('/').next().unwrap_or_default();
            if status.isdir || !name.starts_with("part-") {
                continue;
            }
            let Ok(mut reader) = client.read(&status.path).await else {
                continue;
            };
            let len = reader.file_length();
            let Ok(bytes) = reader.read_bytes(len).await else {
                continue;
            };
            for line in String::from_utf8_lossy(&bytes).lines() {
                lines.push(serde_json::from_str(line).unwrap());
            }
        }
        lines
    })
}

fn hdfs_workspace(db: &wproc_tests::MariaDb, hdfs: &Hdfs) -> wproc_tests::Workspace {
    wproc_tests::Workspace::with_sink(
        db,
        &format!(
            "[sink.hdfs]\nurl = \"{}\"\ndir = \"/mysqlbinlog\"\nmax_wait = \"200ms\"\n\
             op_timeout = \"10s\"\n",
            hdfs.url
        ),
    )
    .unwrap()
}

/// Inserts ids `from..to` into `t`, `per_tx` rows per transaction, pausing `pause` between.
async fn insert_rows(pool: &mysql_async::Pool, from: i64, to: i64, per_tx: i64, pause: Duration) {
    use mysql_async::prelude::Queryable;
    let mut conn = pool.get_conn().await.unwrap();
    let mut id = from;
    while id < to {
        let mut t = conn.start_transaction(Default::default()).await.unwrap();
        for k in id..(id + per_tx).min(to) {
            t.exec_drop("INSERT INTO t VALUES (?, ?)", (k, format!("v{k}")))
                .await
                .unwrap();
        }
        t.commit().await.unwrap();
        id += per_tx;
        tokio::time::sleep(pause).await;
    }
}

/// The ids of the inserts into `t` in `lines`, sorted, after checking that no source position
/// occurs twice.
fn inserted_ids(lines: &[serde_json::Value]) -> Vec<i64> {
    let rows: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["table"] == "t" && v["op"] == "insert")
        .collect();
    let positions: std::collections::HashSet<_> =
        rows.iter().map(|v| wproc_tests::position_key(v)).collect();
    assert_eq!(positions.len(), rows.len(), "an event landed twice");
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|v| v["after"]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

/// Waits until `rows` inserts landed, then stops `wproc run` with SIGTERM; asserts both.
fn stop_when_landed(
    rt: &tokio::runtime::Runtime,
    client: &hdfs_native::Client,
    ws: &wproc_tests::Workspace,
    mut child: std::process::Child,
    rows: i64,
    when: &str,
) {
    let landed_all = wproc_tests::wait_until(Duration::from_secs(120), || {
        inserted_ids(&landed(rt, client, "/mysqlbinlog")).len() as i64 >= rows
    });
    wproc_tests::sigterm(&child);
    let status = child.wait().unwrap();
    assert!(landed_all, "rows did not land {when}; log:\n{}", ws.log());
    assert!(status.success(), "exit {status}; log:\n{}", ws.log());
}

/// What an end-to-end test works with; the servers stop on drop.
struct E2e {
    _db: wproc_tests::MariaDb,
    hdfs: Hdfs,
    ws: wproc_tests::Workspace,
    client: hdfs_native::Client,
    rt: tokio::runtime::Runtime,
    pool: mysql_async::Pool,
}

/// A MariaDB with table `t`, an HDFS, a workspace whose `wproc run` writes to it, and a
/// client to poll the output.
fn setup_e2e() -> E2e {
    use mysql_async::prelude::Queryable;
    let db = wproc_tests::MariaDb::start().unwrap();
    let hdfs = Hdfs::start().unwrap();
    let rt = runtime();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        conn.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32))")
            .await
            .unwrap();
    });
    let ws = hdfs_workspace(&db, &hdfs);
    let client = hdfs_native::ClientBuilder::new()
        .with_url(&hdfs.url)
        .build()
        .unwrap();
    E2e {
        _db: db,
        hdfs,
        ws,
        client,
        rt,
        pool,
    }
}

#[test]
fn mariadb_rows_land_in_hdfs_exactly_once_across_a_namenode_restart() {
    let E2e {
        _db,
        hdfs,
        ws,
        client,
        rt,
        pool,
    } = setup_e2e();
    let child = ws.spawn_run().unwrap();
    rt.block_on(insert_rows(&pool, 0, 200, 10, Duration::from_millis(5)));
    let first = wproc_tests::wait_until(Duration::from_secs(60), || {
        inserted_ids(&landed(&rt, &client, "/mysqlbinlog")).len() >= 200
    });
    assert!(first, "first rows did not land; log:\n{}", ws.log());

    // Rows keep coming while the NameNode restarts.
    let writer = {
        let pool = pool.clone();
        rt.spawn(async move { insert_rows(&pool, 200, 600, 10, Duration::from_millis(20)).await })
    };
    std::thread::sleep(Duration::from_millis(300));
    hdfs.restart_namenode().unwrap();
    rt.block_on(writer).unwrap();
    stop_when_landed(&rt, &client, &ws, child, 600, "after the NameNode restart");

    // What Hadoop's own client sees: every row exactly once, in the default layout.
    let files = hdfs.final_files("/mysqlbinlog").unwrap();
    let rows_dir = format!("/mysqlbinlog/wproc_test/t/dt={}/", today());
    assert!(
        files
            .iter()
            .filter(|f| !f.contains("/_ddl/"))
            .all(|f| f.starts_with(&rows_dir)),
        "{files:?}"
    );
    let lines = hdfs.json_lines("/mysqlbinlog").unwrap();
    assert_eq!(inserted_ids(&lines), (0..600).collect::<Vec<_>>());
    let no_temporaries = hdfs.fs(&["-ls", "-R", "/mysqlbinlog"]).unwrap();
    assert!(!no_temporaries.contains("/."), "{no_temporaries}");
    drop(pool);
}

/// Today's `YYYY-MM-DD` (UTC), as FsShell's clock and the binlog's commit times see it.
fn today() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn sigkill_at_random_moments_lands_every_row_in_hdfs_exactly_once() {
    const ROWS: i64 = 3000;
    let E2e {
        _db,
        hdfs,
        ws,
        client,
        rt,
        pool,
    } = setup_e2e();
    let writer = {
        let pool = pool.clone();
        rt.spawn(async move { insert_rows(&pool, 0, ROWS, 5, Duration::from_millis(10)).await })
    };
    let mut rng = wproc_tests::Lcg(std::process::id() as u64);
    let mut child = ws.spawn_run().unwrap();
    let mut kills = 0;
    while !writer.is_finished() || kills < 12 {
        std::thread::sleep(Duration::from_millis(400 + rng.next(1600)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        child = ws.spawn_run().unwrap();
    }
    rt.block_on(writer).unwrap();
    stop_when_landed(
        &rt,
        &client,
        &ws,
        child,
        ROWS,
        &format!("after {kills} kills"),
    );
    let lines = hdfs.json_lines("/mysqlbinlog").unwrap();
    assert_eq!(
        inserted_ids(&lines),
        (0..ROWS).collect::<Vec<_>>(),
        "after {kills} kills"
    );
    let log = ws.log();
    eprintln!(
        "hdfs kill/restart: {kills} SIGKILLs, {ROWS} rows exactly once; {} batches completed and \
         {} temporaries removed by sink recovery",
        log.matches("Completing a batch").count(),
        log.matches("Removing a temporary").count(),
    );
    drop(pool);
}
