//! The SLS transport end to end: `wproc capture` and `wproc run` against `wproc sls-server`
//! (started on a free port with a temporary data directory), a private MariaDB, and the files
//! sink. Output is compared with the embedded transport's, checked for exactly-once under
//! SIGKILL of capture and of one of three consumer-group workers, and read from logstores
//! filled in the real ilogtail service_canal format.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::Value;
use wproc::event::{ChangeEvent, Column, EventPosition, Op};
use wproc::sls::{Content, Log, LogGroup, hash_key_for};
use wproc::transport::sls::{SlsProducer, SlsTransportConfig};
use wproc_tests::sls::SlsServerProcess;
use wproc_tests::{
    Lcg, MariaDb, position_key, read_output, rebuild_state, row_events, sigterm, wait_until,
    wproc_bin,
};

const SECRET: &str = "s3cret";

/// The MariaDB tests of this file run one at a time: two private servers started at once by
/// `tests/harness/mariadb.sh` share `/tmp` for internal temporary tables and can collide there
/// (`Error on delete of '/tmp/#sql-temptable-…'`).
static ONE_MARIADB: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_mariadb() -> std::sync::MutexGuard<'static, ()> {
    ONE_MARIADB.lock().unwrap_or_else(|p| p.into_inner())
}

fn server_config(shards: u32) -> String {
    format!(
        r#"version = 1
[[access_keys]]
id = "test-ak"
secret = "${{SLS_TEST_SECRET}}"
[[projects]]
name = "proj"
logstores = [{{ name = "binlog", shards = {shards} }}]
"#
    )
}

/// A test directory with an SLS server and wproc configs in it.
struct Flow {
    dir: tempfile::TempDir,
    server: SlsServerProcess,
}

impl Flow {
    fn new(shards: u32) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wproc-sls-")
            .tempdir()
            .unwrap();
        let server = SlsServerProcess::start(
            &dir.path().join("server"),
            &server_config(shards),
            &[("SLS_TEST_SECRET", SECRET)],
        )
        .unwrap();
        Self { dir, server }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The `[transport.sls]` section (consumer timings short for the tests).
    fn transport(&self) -> String {
        format!(
            r#"[transport.sls]
endpoint = "{url}"
project = "proj"
logstore = "binlog"
access_key_id = "test-ak"
access_key_secret = "${{SLS_TEST_SECRET}}"
state_dir = "state"
max_group_logs = 500
[transport.sls.consumer]
group = "files"
heartbeat_interval = "500ms"
timeout = "2s"
"#,
            url = self.server.url()
        )
    }

    fn write_config(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(format!("{name}.toml")), text).unwrap();
    }

    /// Writes `run-NAME.toml` reading the logstore into `out`.
    fn run_config(&self, name: &str) {
        let text = format!(
            "version = 1\n{}[sink.files]\ndir = \"out\"\nmax_events = 3000\nmax_wait = \"200ms\"\n",
            self.transport()
        );
        self.write_config(&format!("run-{name}"), &text);
    }

    /// Writes `capture.toml` reading `db`.
    fn capture_config(&self, db: &MariaDb, server_id: u32) {
        let text = format!(
            "version = 1\n[source.mysql]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"wproc\"\n\
             password = \"${{TEST_MYSQL_PASSWORD}}\"\nstart = \"earliest\"\nserver_id = {server_id}\n{}",
            db.port,
            self.transport()
        );
        self.write_config("capture", &text);
    }

    /// Starts `wproc COMMAND --config CONFIG.toml`, logging to `CONFIG.log`.
    fn spawn(&self, command: &str, config: &str) -> Child {
        spawn_in(self.path(), command, config)
    }

    fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    fn log(&self, config: &str) -> String {
        tail(&self.path().join(format!("{config}.log")))
    }

    fn sls_config(&self) -> SlsTransportConfig {
        let text = self.transport().replace("${SLS_TEST_SECRET}", SECRET);
        let mut config: SlsTransportConfig = toml_from(&text);
        config.state_dir = self.path().join("producer-state");
        config
    }
}

fn toml_from(text: &str) -> SlsTransportConfig {
    let wrapped = format!("version = 1\n{text}");
    let config = wproc::config::Config::from_toml(&wrapped, "test").unwrap();
    match config.transport {
        wproc::transport::TransportConfig::Sls(c) => *c,
        other => panic!("not SLS: {other:?}"),
    }
}

fn spawn_in(dir: &Path, command: &str, config: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{config}.log")))
        .unwrap();
    Command::new(wproc_bin())
        .args([command, "--config", &format!("{config}.toml")])
        .current_dir(dir)
        .env("TEST_MYSQL_PASSWORD", "wproc")
        .env("SLS_TEST_SECRET", SECRET)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", wproc_bin().display()))
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn stop(mut child: Child) {
    sigterm(&child);
    let _ = child.wait();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn exec(pool: &mysql_async::Pool, statements: &[&str]) {
    let mut conn = pool.get_conn().await.unwrap();
    for s in statements {
        conn.query_drop(*s).await.unwrap();
    }
}

/// Every output event, ordered by position then text, as comparable JSON text.
fn all_events(root: &Path) -> Vec<String> {
    let mut events: Vec<Value> = read_output(root)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    events.sort_by_key(|v| (position_key(v), v.to_string()));
    events.iter().map(Value::to_string).collect()
}

const TYPES_TABLE: &str = "CREATE TABLE types (
    id BIGINT PRIMARY KEY, i INT, s VARCHAR(64), d DECIMAL(12,2), dt DATETIME(3), dbl DOUBLE,
    tx TEXT, tu TINYINT UNSIGNED, dd DATE, ts TIMESTAMP(6) NULL, bu BIGINT UNSIGNED,
    mi MEDIUMINT, tm TIME(4), b VARBINARY(16), st SET('a','b','c'), j JSON)";

#[test]
fn capture_sls_run_matches_the_embedded_transport_value_for_value() {
    let _one = one_mariadb();
    let db = MariaDb::start().unwrap();
    let rt = runtime();
    let pool = db.pool();
    rt.block_on(exec(
        &pool,
        &[
            TYPES_TABLE,
            "INSERT INTO types VALUES
             (1, -2147483648, 'héllo ☃ \"q\" <nil>', -12345.67, '2024-02-29 23:59:58.123', 0.1,
              'text\nline', 255, '2024-01-02', '2038-01-19 03:14:07.999999',
              18446744073709551615, -8388608, '-838:59:59.0001', x'00FF10', 'a,c', '{\"k\": [1, null]}'),
             (2, 7, '', 0.05, '1000-01-01 00:00:00.000', -1.5e300, NULL, 0, '9999-12-31',
              '1970-01-01 00:00:01', 0, 8388607, '00:00:00', x'', '', 'null'),
             (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
            "UPDATE types SET s = 'changed', d = 99.99, b = x'FF' WHERE id = 2",
            "DELETE FROM types WHERE id = 3",
            "CREATE TABLE other (id INT PRIMARY KEY, v VARCHAR(8))",
            "INSERT INTO other VALUES (1, 'x'), (2, NULL)",
        ],
    ));

    let flow = Flow::new(4);
    flow.capture_config(&db, 5201);
    flow.run_config("a");
    let capture = flow.spawn("capture", "capture");
    let run = flow.spawn("run", "run-a");

    let local = tempfile::Builder::new()
        .prefix("wproc-local-")
        .tempdir()
        .unwrap();
    std::fs::write(
        local.path().join("local.toml"),
        format!(
            "version = 1\n[source.mysql]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"wproc\"\n\
             password = \"${{TEST_MYSQL_PASSWORD}}\"\nstart = \"earliest\"\nserver_id = 5202\n\
             [transport.local]\ndir = \"log\"\nshards = 2\n[sink.files]\ndir = \"out\"\nmax_wait = \"200ms\"\n",
            db.port
        ),
    )
    .unwrap();
    let local_run = spawn_in(local.path(), "run", "local");

    let complete = |root: &Path| {
        row_events(root, "types").map(|e| e.len()).unwrap_or(0) >= 5
            && row_events(root, "other").map(|e| e.len()).unwrap_or(0) >= 2
    };
    let landed = wait_until(Duration::from_secs(60), || {
        complete(&flow.out()) && complete(&local.path().join("out"))
    });
    assert!(
        landed,
        "rows did not land; capture:\n{}\nrun:\n{}\nlocal:\n{}",
        flow.log("capture"),
        flow.log("run-a"),
        tail(&local.path().join("local.log"))
    );
    // Let a late duplicate, if any, land too.
    std::thread::sleep(Duration::from_millis(800));
    stop(capture);
    stop(run);
    stop(local_run);

    let via_sls = all_events(&flow.out());
    let via_local = all_events(&local.path().join("out"));
    assert!(via_sls.len() >= 7, "{via_sls:#?}");
    assert_eq!(via_sls, via_local);
    let types = row_events(&flow.out(), "types").unwrap();
    assert_eq!(types[0]["after"]["s"], "héllo ☃ \"q\" <nil>");
    assert_eq!(types[2]["after"]["s"], Value::Null);
    assert_eq!(types[0]["after"]["b"]["base64"], "AP8Q");
}

/// A consumer-group run over hand-written logs: 3 workers, one SIGKILLed mid-stream.
#[test]
fn three_workers_one_killed_every_row_lands_exactly_once() {
    const TABLES: usize = 8;
    const BATCHES: u64 = 30;
    const PER_BATCH: u64 = 400;
    let flow = Flow::new(4);
    for name in ["a", "b", "c"] {
        flow.run_config(name);
    }
    let mut workers: Vec<Child> = ["a", "b", "c"]
        .iter()
        .map(|name| flow.spawn("run", &format!("run-{name}")))
        .collect();
    let rt = runtime();
    let config = flow.sls_config();
    let mut producer = rt.block_on(SlsProducer::open(&config)).unwrap();
    let shutdown = tokio_util_token();
    let columns: Arc<[Column]> = Arc::from(vec![Column {
        name: "id".into(),
        sql_type: "bigint".into(),
    }]);
    let mut killed = false;
    for batch in 0..BATCHES {
        let events: Vec<ChangeEvent> = (0..PER_BATCH)
            .map(|i| {
                let n = batch * PER_BATCH + i;
                ChangeEvent {
                    op: Op::Insert,
                    db: "shop".into(),
                    table: format!("t{}", n as usize % TABLES).into(),
                    ts_ms: 1_700_000_000_000 + n,
                    pos: EventPosition {
                        file: "mariadb-bin.000001".into(),
                        offset: 1000 + n * 10,
                        row: 0,
                        gtid: None,
                    },
                    columns: columns.clone(),
                    before: None,
                    after: Some(vec![wproc::event::Value::Int(n as i64)]),
                    sql: None,
                }
            })
            .collect();
        rt.block_on(producer.append(events, &shutdown)).unwrap();
        if !killed && batch >= BATCHES / 3 {
            let some = wait_until(Duration::from_secs(30), || {
                read_output(&flow.out())
                    .map(|o| !o.is_empty())
                    .unwrap_or(false)
            });
            assert!(some, "nothing landed; a:\n{}", flow.log("run-a"));
            kill(&mut workers[1]);
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let total = BATCHES * PER_BATCH;
    let count = || {
        read_output(&flow.out())
            .map(|o| o.len() as u64)
            .unwrap_or(0)
    };
    let landed = wait_until(Duration::from_secs(90), || count() >= total);
    std::thread::sleep(Duration::from_millis(1500));
    for (i, w) in workers.into_iter().enumerate() {
        if i != 1 {
            stop(w);
        }
    }
    let out = read_output(&flow.out()).unwrap();
    let mut seen = BTreeMap::new();
    for (_, v) in &out {
        *seen.entry(v["after"]["id"].as_i64().unwrap()).or_insert(0) += 1;
    }
    let duplicated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let files_of = |id: i64| -> Vec<String> {
        out.iter()
            .filter(|(_, v)| v["after"]["id"].as_i64() == Some(id))
            .map(|(p, _)| p.display().to_string())
            .collect()
    };
    let where_duplicated: Vec<Vec<String>> = duplicated
        .iter()
        .take(3)
        .map(|(id, _)| files_of(**id))
        .collect();
    assert!(
        landed && duplicated.is_empty() && seen.len() as u64 == total,
        "landed {} of {total}, {} distinct, duplicated {:?} in {where_duplicated:#?}; b:\n{}\na:\n{}\nc:\n{}",
        out.len(),
        seen.len(),
        &duplicated[..duplicated.len().min(5)],
        flow.log("run-b"),
        flow.log("run-a"),
        flow.log("run-c")
    );
    // The killed worker's shards moved: the survivors wrote after the kill.
    assert!(
        flow.log("run-a").contains("Shard assigned")
            && flow.log("run-c").contains("Shard assigned")
    );
}

fn tokio_util_token() -> tokio_util::sync::CancellationToken {
    tokio_util::sync::CancellationToken::new()
}

/// Single-row statements on four tables while capture is SIGKILLed and restarted.
const LOAD_TABLES: [&str; 4] = ["t0", "t1", "t2", "t3"];

/// A private MariaDB with the load tables, an SLS server of 4 shards, and the capture and
/// `run-a` configs.
struct LoadFlow {
    _one: std::sync::MutexGuard<'static, ()>,
    _db: MariaDb,
    rt: tokio::runtime::Runtime,
    pool: mysql_async::Pool,
    flow: Flow,
}

impl LoadFlow {
    fn start(server_id: u32) -> Self {
        let one = one_mariadb();
        let db = MariaDb::start().unwrap();
        let rt = runtime();
        let pool = db.pool();
        for t in LOAD_TABLES {
            rt.block_on(exec(
                &pool,
                &[&format!("CREATE TABLE {t} (id INT PRIMARY KEY, v INT)")],
            ));
        }
        let flow = Flow::new(4);
        flow.capture_config(&db, server_id);
        flow.run_config("a");
        Self {
            _one: one,
            _db: db,
            rt,
            pool,
            flow,
        }
    }
}

/// `n` random inserts and updates over the load tables, one autocommit statement each.
fn random_changes(
    rt: &tokio::runtime::Runtime,
    pool: &mysql_async::Pool,
    rng: &mut Lcg,
    ids: &mut [i64; 4],
    n: u64,
) {
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        for _ in 0..n {
            let t = rng.next(4) as usize;
            let table = LOAD_TABLES[t];
            if ids[t] == 0 || rng.next(3) > 0 {
                ids[t] += 1;
                conn.query_drop(format!("INSERT INTO {table} VALUES ({}, 0)", ids[t]))
                    .await
                    .unwrap();
            } else {
                let id = 1 + rng.next(ids[t] as u64) as i64;
                conn.query_drop(format!("UPDATE {table} SET v = v + 1 WHERE id = {id}"))
                    .await
                    .unwrap();
            }
        }
    });
}

/// Waits until `changes` row events are in the files, stops both processes, and checks that
/// every change landed exactly once and that the rows rebuilt from the files equal the
/// server's tables.
fn assert_exactly_once(
    flow: &Flow,
    rt: &tokio::runtime::Runtime,
    pool: &mysql_async::Pool,
    changes: u64,
    processes: [Child; 2],
) {
    let count = || {
        LOAD_TABLES
            .iter()
            .map(|t| {
                row_events(&flow.out(), t)
                    .map(|e| e.len() as u64)
                    .unwrap_or(0)
            })
            .sum::<u64>()
    };
    let landed = wait_until(Duration::from_secs(90), || count() >= changes);
    std::thread::sleep(Duration::from_millis(1000));
    for p in processes {
        stop(p);
    }
    let mut all = Vec::new();
    for t in LOAD_TABLES {
        all.extend(row_events(&flow.out(), t).unwrap());
    }
    let positions: BTreeSet<_> = all.iter().map(position_key).collect();
    assert!(
        landed && all.len() as u64 == changes && positions.len() == all.len(),
        "{} events, {} distinct positions, {changes} changes; capture:\n{}\nrun:\n{}",
        all.len(),
        positions.len(),
        flow.log("capture"),
        flow.log("run-a")
    );
    all.sort_by_key(position_key);
    let state = rebuild_state(&all);
    let server_rows: u64 = rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        let mut n = 0u64;
        for t in LOAD_TABLES {
            let rows: Vec<(i64, i64)> = conn.query(format!("SELECT id, v FROM {t}")).await.unwrap();
            for (id, v) in rows {
                let got = &state[&(t.to_owned(), id)];
                assert_eq!(got["v"].as_i64(), Some(v), "{t} id {id}");
                n += 1;
            }
        }
        n
    });
    assert_eq!(server_rows, state.len() as u64);
}

#[test]
fn capture_killed_mid_stream_loses_and_duplicates_nothing() {
    let LoadFlow {
        _one,
        _db,
        rt,
        pool,
        flow,
    } = LoadFlow::start(5203);
    let mut capture = flow.spawn("capture", "capture");
    let run = flow.spawn("run", "run-a");
    let mut rng = Lcg::new(42);
    let mut ids = [0i64; 4];
    let mut changes = 0u64;
    for round in 0..6 {
        random_changes(&rt, &pool, &mut rng, &mut ids, 300);
        changes += 300;
        if round % 2 == 1 {
            std::thread::sleep(Duration::from_millis(rng.next(400)));
            kill(&mut capture);
            capture = flow.spawn("capture", "capture");
        }
    }
    assert_exactly_once(&flow, &rt, &pool, changes, [capture, run]);
}

/// The SLS server answers bursts of 503 ServerBusy and 403 ShardWriteQuotaExceed, loses the
/// answers of PutLogs it performed (the producer retries a group the logstore already holds),
/// fails and stalls PullLogs and heartbeats, all under a steady load: both processes recover by
/// themselves and every change lands exactly once.
#[test]
fn sls_fault_bursts_lose_and_duplicate_nothing() {
    let LoadFlow {
        _one,
        _db,
        rt,
        pool,
        flow,
    } = LoadFlow::start(5204);
    let capture = flow.spawn("capture", "capture");
    let run = flow.spawn("run", "run-a");
    let put = r#""method": "POST", "path": "/shards/route""#;
    let pull = r#""method": "GET", "path": "/shards/", "query": "type=logs""#;
    let faults = [
        format!(r#"{{{put}, "status": 503, "count": 6}}"#),
        format!(r#"{{{put}, "status": 403, "count": 6}}"#),
        format!(r#"{{{put}, "status": 503, "phase": "after", "count": 3}}"#),
        format!(r#"{{{pull}, "status": 503, "count": 6}}"#),
        format!(r#"{{{pull}, "delay": "2500ms", "count": 2}}"#),
        r#"{"query": "type=heartbeat", "delay": "1500ms", "count": 2}"#.to_owned(),
        format!(r#"{{{put}, "delay": "1500ms", "status": 500, "count": 2}}"#),
    ];
    let mut rng = Lcg::new(7);
    let mut ids = [0i64; 4];
    let mut changes = 0u64;
    for fault in &faults {
        random_changes(&rt, &pool, &mut rng, &mut ids, 150);
        changes += 150;
        flow.server.add_fault(fault).unwrap();
        random_changes(&rt, &pool, &mut rng, &mut ids, 150);
        changes += 150;
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_exactly_once(&flow, &rt, &pool, changes, [capture, run]);
    // The faults did hit: both processes logged the retries.
    let (capture_log, run_log) = (flow.log("capture"), flow.log("run-a"));
    let whole =
        |name: &str| std::fs::read_to_string(flow.path().join(format!("{name}.log"))).unwrap();
    for (log, code) in [
        (whole("capture"), "ServerBusy"),
        (whole("capture"), "ShardWriteQuotaExceed"),
        (whole("run-a"), "ServerBusy"),
    ] {
        assert!(
            log.contains(code),
            "no {code} retry logged:\n{capture_log}\n{run_log}"
        );
    }
}

/// A logstore filled the way ilogtail's service_canal fills it (hand-made logs, random key
/// order, `<nil>`, `_old_` keys, a DDL) is read into files with string values.
#[test]
fn service_canal_logstore_is_consumed_into_string_values() {
    let flow = Flow::new(2);
    flow.run_config("a");
    let config = flow.sls_config();
    let client = wproc::transport::sls::producer::client_of(&config).unwrap();
    let log = |pairs: &[(&str, &str)]| Log {
        time: 1_657_890_330,
        contents: pairs.iter().map(|(k, v)| Content::new(*k, *v)).collect(),
        time_ns: None,
    };
    let group = LogGroup {
        logs: vec![
            log(&[
                ("_table_", "titles"),
                ("_offset_", "4308"),
                ("emp_no", "10006"),
                ("_host_", "127.0.0.1"),
                ("_event_", "row_insert"),
                ("_id_", "11"),
                ("_gtid_", "00000000-0000-0000-0000-000000000000:0"),
                ("_db_", "employees"),
                ("_filename_", "mysql-bin.000001"),
                ("title", "Engineer"),
                ("to_date", "<nil>"),
            ]),
            log(&[
                ("_db_", "employees"),
                ("_table_", "titles"),
                ("_event_", "row_update"),
                ("_filename_", "mysql-bin.000001"),
                ("_offset_", "4660"),
                ("_old_emp_no", "10006"),
                ("_old_title", "Engineer"),
                ("_old_to_date", "<nil>"),
                ("emp_no", "10006"),
                ("title", "Senior Engineer"),
                ("to_date", "9999-01-01"),
            ]),
            log(&[
                ("_db_", "employees"),
                ("_event_", "ddl"),
                ("Query", "ALTER TABLE titles ADD note TEXT"),
                ("ErrorCode", "0"),
                ("ExecutionTime", "0"),
            ]),
        ],
        topic: Some(String::new()),
        source: Some("10.0.0.9".into()),
        ..LogGroup::default()
    };
    let rt = runtime();
    rt.block_on(client.put_logs("binlog", Some(&hash_key_for(b"employees.titles")), &group))
        .unwrap();
    let run = flow.spawn("run", "run-a");
    let landed = wait_until(Duration::from_secs(30), || {
        read_output(&flow.out())
            .map(|o| o.len() >= 3)
            .unwrap_or(false)
    });
    std::thread::sleep(Duration::from_millis(500));
    stop(run);
    assert!(landed, "run:\n{}", flow.log("run-a"));
    let mut out: Vec<Value> = read_output(&flow.out())
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    out.sort_by_key(|v| v["pos"]["offset"].as_u64());
    assert_eq!(out.len(), 3, "{out:#?}");
    let ddl = out.iter().find(|v| v["op"] == "ddl").unwrap();
    assert_eq!(ddl["sql"], "ALTER TABLE titles ADD note TEXT");
    let insert = out.iter().find(|v| v["op"] == "insert").unwrap();
    assert_eq!(insert["db"], "employees");
    assert_eq!(insert["after"]["emp_no"], "10006");
    assert_eq!(insert["after"]["title"], "Engineer");
    assert_eq!(insert["after"]["to_date"], Value::Null);
    assert_eq!(insert["ts_ms"], 1_657_890_330_000u64);
    assert_eq!(insert["pos"]["offset"], 4308);
    let update = out.iter().find(|v| v["op"] == "update").unwrap();
    assert_eq!(update["before"]["title"], "Engineer");
    assert_eq!(update["before"]["to_date"], Value::Null);
    assert_eq!(update["after"]["title"], "Senior Engineer");
    assert_eq!(update["after"]["to_date"], "9999-01-01");
}
