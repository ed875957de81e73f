//! Crash test of the embedded transport: `wproc capture` and `wproc run` as two processes on one
//! local log, both killed with SIGKILL at random moments under continuous insert, update
//! (including primary-key changes) and delete load on several tables with multi-row
//! transactions, and restarted each time. At the end the state rebuilt from the output files
//! must equal the MariaDB tables, and every binlog position must be in the files exactly once.
//!
//! The two processes share the log directory: `wproc capture` (config with `[source]`) takes
//! the log's single-writer lock; `wproc run` with a config without `[source]` only reads the
//! log (polling for what the other process appended) and writes the sink. A SIGKILL releases
//! the lock with the process, so a restarted capture takes it again.
//!
//! A second test restarts MariaDB itself twice right after bursts of writes, while both
//! processes stream: capture must reconnect by itself and the same checker must hold.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::Value;
use wproc_tests::{
    Lcg, MariaDb, position_key, read_output, rebuild_state, sigterm, wait_until, wproc_bin,
};

const TABLES: [&str; 3] = ["orders", "items", "events"];
/// How long the load runs while processes are being killed.
const LOAD_TIME: Duration = Duration::from_secs(35);
/// The fewest SIGKILLs a run must deliver (over both processes).
const MIN_KILLS: usize = 20;
/// Columns compared between MariaDB and the rebuilt state.
const COLUMNS: [&str; 4] = ["id", "v", "n", "amount"];

/// Row changes the load committed, by operation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Expected {
    inserts: u64,
    updates: u64,
    deletes: u64,
}

impl Expected {
    fn total(&self) -> u64 {
        self.inserts + self.updates + self.deletes
    }
}

/// A table's rows as text, keyed by (table, id).
type TableState = BTreeMap<(String, i64), Vec<Option<String>>>;

/// What the checker found when everything held.
#[derive(Debug)]
struct Verified {
    events: usize,
    files: usize,
}

/// The checker: every row event's position exactly once, as many as the load committed, per
/// operation, and the state rebuilt from the files equal to the server's tables.
fn verify(out: &Path, expected: &Expected, server: &TableState) -> Result<Verified, String> {
    let lines = read_output(out).map_err(|e| format!("reading the output: {e:#}"))?;
    let files = lines
        .iter()
        .map(|(f, _)| f.clone())
        .collect::<std::collections::BTreeSet<PathBuf>>()
        .len();
    let mut events: Vec<Value> = lines
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v["op"] != "ddl")
        .collect();
    let mut seen: HashMap<(String, u64, u64), usize> = HashMap::new();
    for e in &events {
        *seen.entry(position_key(e)).or_default() += 1;
    }
    let mut duplicated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    if !duplicated.is_empty() {
        duplicated.sort();
        return Err(format!(
            "{} positions duplicated, e.g. {:?}",
            duplicated.len(),
            &duplicated[..duplicated.len().min(5)]
        ));
    }
    let count = |op: &str| events.iter().filter(|v| v["op"] == op).count() as u64;
    let found = Expected {
        inserts: count("insert"),
        updates: count("update"),
        deletes: count("delete"),
    };
    if found != *expected {
        return Err(format!(
            "row events in the files {found:?} differ from those committed {expected:?} \
             (lost {} in total)",
            expected.total() as i64 - found.total() as i64
        ));
    }
    events.sort_by_key(position_key);
    let rebuilt: TableState = rebuild_state(&events)
        .into_iter()
        .map(|(key, row)| {
            let values = COLUMNS
                .iter()
                .map(|c| match &row.get(*c) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                })
                .collect();
            (key, values)
        })
        .collect();
    if rebuilt != *server {
        let missing: Vec<_> = server
            .keys()
            .filter(|k| !rebuilt.contains_key(k))
            .take(5)
            .collect();
        let extra: Vec<_> = rebuilt
            .keys()
            .filter(|k| !server.contains_key(k))
            .take(5)
            .collect();
        let differing: Vec<_> = server
            .iter()
            .filter(|(k, v)| rebuilt.get(*k).is_some_and(|r| r != *v))
            .take(5)
            .collect();
        return Err(format!(
            "rebuilt state differs from MariaDB ({} rows vs {}): missing {missing:?}, extra \
             {extra:?}, differing {differing:?}",
            rebuilt.len(),
            server.len()
        ));
    }
    Ok(Verified {
        events: events.len(),
        files,
    })
}

/// The two processes' working directory: one config each, the shared log and the output.
struct Pair {
    dir: tempfile::TempDir,
}

impl Pair {
    fn new(db: &MariaDb) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wproc-crash-")
            .tempdir()
            .unwrap();
        let transport = "[transport.local]\ndir = \"log\"\nshards = 3\n";
        let capture = format!(
            "version = 1\n[source.mysql]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"wproc\"\n\
             password = \"${{TEST_MYSQL_PASSWORD}}\"\nstart = \"earliest\"\nserver_id = 5101\n\
             {transport}",
            db.port
        );
        let run = format!(
            "version = 1\n{transport}[sink.files]\ndir = \"out\"\nmax_events = 2000\n\
             max_wait = \"200ms\"\n"
        );
        std::fs::write(dir.path().join("capture.toml"), capture).unwrap();
        std::fs::write(dir.path().join("run.toml"), run).unwrap();
        Self { dir }
    }

    /// Starts `wproc capture` or `wproc run` with its config, logging to `<command>.log`.
    fn spawn(&self, command: &str) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{command}.log")))
            .unwrap();
        Command::new(wproc_bin())
            .args([command, "--config", &format!("{command}.toml")])
            .current_dir(self.dir.path())
            .env("TEST_MYSQL_PASSWORD", "wproc")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", wproc_bin().display()))
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn log(&self, command: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join(format!("{command}.log")))
            .unwrap_or_default();
        // The tail is what explains a failure.
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Continuous load until `duration` passes: transactions of 1 to 6 statements on one table each
/// (multi-row inserts, updates of several rows, primary-key changes, multi-row deletes), about
/// one in twelve rolled back. Returns the row changes committed.
/// New rows take ids from `first_id` on.
async fn load(pool: mysql_async::Pool, duration: Duration, seed: u64, first_id: i64) -> Expected {
    let mut conn = pool.get_conn().await.unwrap();
    let mut rng = Lcg::new(seed);
    let mut live: Vec<Vec<i64>> = vec![Vec::new(); TABLES.len()];
    let mut next_id = first_id;
    let mut expected = Expected::default();
    let started = Instant::now();
    while started.elapsed() < duration {
        let t = rng.next(TABLES.len() as u64) as usize;
        let table = TABLES[t];
        let mut ids = live[t].clone();
        let mut counts = Expected::default();
        let mut tx = conn.start_transaction(Default::default()).await.unwrap();
        for _ in 0..=rng.next(6) {
            let kind = rng.next(10);
            if kind < 5 || ids.len() < 4 {
                let rows: Vec<String> = (0..=rng.next(12))
                    .map(|_| {
                        let id = next_id;
                        next_id += 1;
                        ids.push(id);
                        format!(
                            "({id}, 'v{id}', {}, {}.{:02})",
                            rng.next(1000),
                            rng.next(10_000),
                            rng.next(100)
                        )
                    })
                    .collect();
                tx.query_drop(format!(
                    "INSERT INTO {table} (id, v, n, amount) VALUES {}",
                    rows.join(", ")
                ))
                .await
                .unwrap();
                counts.inserts += tx.affected_rows();
            } else if kind < 7 {
                let picked: Vec<String> = (0..=rng.next(4))
                    .map(|_| ids[rng.next(ids.len() as u64) as usize].to_string())
                    .collect();
                tx.query_drop(format!(
                    "UPDATE {table} SET n = n + 1, v = 'u{}', amount = amount + 0.25 WHERE id IN ({})",
                    rng.next(1_000_000),
                    picked.join(", ")
                ))
                .await
                .unwrap();
                counts.updates += tx.affected_rows();
            } else if kind < 8 {
                let i = rng.next(ids.len() as u64) as usize;
                let new_id = next_id;
                next_id += 1;
                tx.query_drop(format!(
                    "UPDATE {table} SET id = {new_id} WHERE id = {}",
                    ids[i]
                ))
                .await
                .unwrap();
                counts.updates += tx.affected_rows();
                ids[i] = new_id;
            } else {
                let mut victims = Vec::new();
                for _ in 0..=rng.next(3) {
                    if ids.len() > 1 {
                        victims.push(ids.swap_remove(rng.next(ids.len() as u64) as usize));
                    }
                }
                let list: Vec<String> = victims.iter().map(i64::to_string).collect();
                tx.query_drop(format!(
                    "DELETE FROM {table} WHERE id IN ({})",
                    list.join(", ")
                ))
                .await
                .unwrap();
                counts.deletes += tx.affected_rows();
            }
        }
        if rng.next(12) == 0 {
            tx.rollback().await.unwrap();
        } else {
            tx.commit().await.unwrap();
            live[t] = ids;
            expected.inserts += counts.inserts;
            expected.updates += counts.updates;
            expected.deletes += counts.deletes;
        }
        tokio::time::sleep(Duration::from_millis(rng.next(8))).await;
    }
    expected
}

/// The server's tables, every compared column as the text MariaDB prints.
async fn server_state(pool: &mysql_async::Pool) -> TableState {
    let mut conn = pool.get_conn().await.unwrap();
    let mut state = TableState::new();
    let select: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("CAST({c} AS CHAR)"))
        .collect();
    for table in TABLES {
        let rows: Vec<mysql_async::Row> = conn
            .query(format!("SELECT {} FROM {table}", select.join(", ")))
            .await
            .unwrap();
        for row in rows {
            let values: Vec<Option<String>> =
                (0..COLUMNS.len()).map(|i| row.get(i).unwrap()).collect();
            let id = values[0].as_deref().unwrap().parse().unwrap();
            state.insert((table.to_owned(), id), values);
        }
    }
    state
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// A private MariaDB with the load's tables, a runtime for the test's SQL, and the seed of the
/// load and kill schedule (`WPROC_CRASH_SEED` repeats a run).
fn setup() -> (MariaDb, tokio::runtime::Runtime, u64) {
    let db = MariaDb::start().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        for table in TABLES {
            conn.query_drop(format!(
                "CREATE TABLE {table} (id BIGINT PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT NOT NULL, \
                 amount DECIMAL(12,2) NOT NULL)"
            ))
            .await
            .unwrap();
        }
        drop(conn);
        pool.disconnect().await.unwrap();
    });
    let seed = std::env::var("WPROC_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()));
    (db, rt, seed)
}

/// Waits until the files hold `expected` row events, stops both processes with SIGTERM (they must
/// exit 0), and runs the checker against the server's tables.
fn finish(
    pair: &Pair,
    mut capture: Child,
    mut run: Child,
    expected: &Expected,
    server: &TableState,
) -> Verified {
    let out = pair.out();
    let caught_up = wait_until(Duration::from_secs(90), || {
        let rows = read_output(&out)
            .map(|lines| lines.iter().filter(|(_, v)| v["op"] != "ddl").count())
            .unwrap_or(0);
        rows as u64 >= expected.total()
    });
    sigterm(&capture);
    sigterm(&run);
    let capture_status = capture.wait().unwrap();
    let run_status = run.wait().unwrap();
    assert!(
        caught_up,
        "the output did not catch up; capture log:\n{}\nrun log:\n{}",
        pair.log("capture"),
        pair.log("run")
    );
    assert!(
        capture_status.success(),
        "capture exit {capture_status}:\n{}",
        pair.log("capture")
    );
    assert!(
        run_status.success(),
        "run exit {run_status}:\n{}",
        pair.log("run")
    );
    verify(&out, expected, server).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn mariadb_restarts_mid_stream_lose_and_duplicate_nothing() {
    let (db, rt, seed) = setup();
    let pair = Pair::new(&db);
    let capture = pair.spawn("capture");
    let run = pair.spawn("run");
    let mut expected = Expected::default();
    const ROUNDS: i64 = 3;
    for round in 0..ROUNDS {
        let pool = db.pool();
        let done = rt.block_on(load(
            pool.clone(),
            Duration::from_secs(4),
            seed + round as u64,
            round * 10_000_000 + 1,
        ));
        rt.block_on(pool.disconnect()).unwrap();
        expected.inserts += done.inserts;
        expected.updates += done.updates;
        expected.deletes += done.deletes;
        if round + 1 < ROUNDS {
            // Right after the writes, while wproc is still streaming them.
            db.restart().unwrap();
        }
    }
    let pool = db.pool();
    let server = rt.block_on(server_state(&pool));
    let verified = finish(&pair, capture, run, &expected, &server);
    let log = std::fs::read_to_string(pair.dir.path().join("capture.log")).unwrap();
    let reconnects = log.matches("reconnecting").count();
    assert!(
        reconnects >= 1,
        "capture never lost its connection, so the restarts tested nothing:\n{}",
        pair.log("capture")
    );
    eprintln!(
        "exactly once across {} MariaDB restarts ({reconnects} reconnections by capture): {} row \
         events in {} files",
        ROUNDS - 1,
        verified.events,
        verified.files
    );
    drop(pool);
}

#[test]
fn sigkill_capture_and_run_at_random_moments_loses_and_duplicates_nothing() {
    let (db, rt, seed) = setup();
    let pool = db.pool();
    let pair = Pair::new(&db);
    eprintln!("crash test seed {seed} (WPROC_CRASH_SEED to repeat the load and kill schedule)");
    let writer = rt.spawn(load(pool.clone(), LOAD_TIME, seed, 1));

    let mut rng = Lcg::new(seed ^ 0x6b696c6c);
    let mut capture = pair.spawn("capture");
    let mut run = pair.spawn("run");
    let mut kills = [0usize; 2];
    while !writer.is_finished() || kills.iter().sum::<usize>() < MIN_KILLS || kills.contains(&0) {
        std::thread::sleep(Duration::from_millis(150 + rng.next(1200)));
        let which = rng.next(2) as usize;
        let (child, command) = if which == 0 {
            (&mut capture, "capture")
        } else {
            (&mut run, "run")
        };
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "wproc {command} exited by itself with {status}:\n{}",
                pair.log(command)
            );
        }
        kill(child);
        kills[which] += 1;
        // Sometimes leave the process down for a moment so the other one runs alone.
        if rng.next(4) == 0 {
            std::thread::sleep(Duration::from_millis(rng.next(800)));
        }
        *child = pair.spawn(command);
    }
    let expected = rt.block_on(writer).unwrap();
    let server = rt.block_on(server_state(&pool));
    let out = pair.out();
    eprintln!(
        "load done: {expected:?}, {} rows in MariaDB; {} capture and {} run kills so far",
        server.len(),
        kills[0],
        kills[1]
    );
    let verified = finish(&pair, capture, run, &expected, &server);
    eprintln!(
        "exactly once after {} SIGKILLs ({} capture, {} run): {} row events in {} files, \
         state equal to MariaDB's {} rows",
        kills[0] + kills[1],
        kills[0],
        kills[1],
        verified.events,
        verified.files,
        server.len()
    );

    // The same check must fail on a copy of this output with one line duplicated.
    let scratch = tempfile::tempdir().unwrap();
    copy_tree(&out, scratch.path());
    duplicate_one_line(scratch.path());
    let error = verify(scratch.path(), &expected, &server)
        .expect_err("the checker accepted an output with a duplicated line");
    assert!(error.contains("duplicated"), "{error}");
    drop(pool);
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Appends the first row event (not DDL) of the output to its file again.
fn duplicate_one_line(root: &Path) {
    let (file, event) = read_output(root)
        .unwrap()
        .into_iter()
        .find(|(_, v)| v["op"] != "ddl")
        .expect("a row event in the output");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}{event}\n")).unwrap();
}

/// Unit tests of the checker on a hand-written output: it accepts the right one and rejects a
/// duplicated line, a lost line and a wrong value.
mod checker {
    use super::*;

    fn line(op: &str, offset: u64, row: u64, before: &str, after: &str) -> String {
        format!(
            r#"{{"op":"{op}","db":"wproc_test","table":"orders","ts_ms":1,"pos":{{"file":"mariadb-bin.000001","offset":{offset},"row":{row}}},"before":{before},"after":{after}}}"#
        )
    }

    fn fixture() -> (tempfile::TempDir, Expected, TableState) {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("wproc_test/orders/dt=2026-12-04");
        std::fs::create_dir_all(&part).unwrap();
        let row = |id: i64, v: &str, n: i64| {
            format!(r#"{{"id":{id},"v":"{v}","n":{n},"amount":"1.50"}}"#)
        };
        let lines = [
            line("insert", 100, 0, "null", &row(1, "a", 1)),
            line("insert", 100, 1, "null", &row(2, "b", 2)),
            line("update", 200, 0, &row(1, "a", 1), &row(3, "a", 5)),
            line("delete", 300, 0, &row(2, "b", 2), "null"),
        ];
        std::fs::write(
            part.join("part-0000-0-10.jsonl"),
            lines[..2].join("\n") + "\n",
        )
        .unwrap();
        std::fs::write(
            part.join("part-0000-10-20.jsonl"),
            lines[2..].join("\n") + "\n",
        )
        .unwrap();
        let expected = Expected {
            inserts: 2,
            updates: 1,
            deletes: 1,
        };
        let mut server = TableState::new();
        server.insert(
            ("orders".into(), 3),
            vec![
                Some("3".into()),
                Some("a".into()),
                Some("5".into()),
                Some("1.50".into()),
            ],
        );
        (dir, expected, server)
    }

    #[test]
    fn accepts_exactly_once_output() {
        let (dir, expected, server) = fixture();
        let verified = verify(dir.path(), &expected, &server).unwrap();
        assert_eq!((verified.events, verified.files), (4, 2));
    }

    #[test]
    fn rejects_a_duplicated_line() {
        let (dir, expected, server) = fixture();
        duplicate_one_line(dir.path());
        let error = verify(dir.path(), &expected, &server).unwrap_err();
        assert!(error.contains("duplicated"), "{error}");
    }

    #[test]
    fn rejects_a_lost_line() {
        let (dir, expected, server) = fixture();
        let file = dir
            .path()
            .join("wproc_test/orders/dt=2026-12-04/part-0000-10-20.jsonl");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.lines().next().unwrap().to_owned() + "\n").unwrap();
        let error = verify(dir.path(), &expected, &server).unwrap_err();
        assert!(error.contains("lost 1"), "{error}");
    }

    #[test]
    fn rejects_a_state_that_differs_from_the_server() {
        let (dir, expected, mut server) = fixture();
        server.get_mut(&("orders".to_owned(), 3)).unwrap()[2] = Some("6".into());
        let error = verify(dir.path(), &expected, &server).unwrap_err();
        assert!(error.contains("differing"), "{error}");
    }
}
