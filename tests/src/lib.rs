//! Support for wproc's end-to-end tests: real servers started by the project's own harness
//! scripts, the `wproc` binary run as a child process, and readers of its output.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub mod sls;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A free TCP port on 127.0.0.1 (free when asked; good enough for tests on one machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// The `wproc` binary: `$WPROC_BIN`, else next to the test executable's directory
/// (`target/debug/wproc` for `target/debug/deps/test-…`).
pub fn wproc_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("WPROC_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.join("wproc")
}

/// A private MariaDB started by `tests/harness/mariadb.sh`, stopped on drop.
pub struct MariaDb {
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl MariaDb {
    /// Starts a fresh server in a temporary directory.
    pub fn start() -> Result<Self> {
        Self::start_with(&[])
    }

    /// Starts a fresh server with extra `my.cnf` lines (`NAME=VALUE`; later lines override).
    pub fn start_with(options: &[&str]) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("wproc-mariadb-")
            .tempdir()?;
        let port = free_port();
        let out = Command::new(repo_root().join("tests/harness/mariadb.sh"))
            .args(["start", "--dir"])
            .arg(dir.path())
            .args(["--port", &port.to_string()])
            .args(options.iter().flat_map(|o| ["--option", o]))
            .stderr(Stdio::inherit())
            .output()
            .context("running tests/harness/mariadb.sh")?;
        if !out.status.success() {
            bail!(
                "mariadb.sh start failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(Self { dir, port })
    }

    /// The server's binlog directory (files `mariadb-bin.NNNNNN`).
    pub fn binlog_dir(&self) -> PathBuf {
        self.dir.path().join("binlog")
    }

    /// A connection URL for the test user.
    pub fn url(&self) -> String {
        format!(
            "mysql://wproc:wproc@127.0.0.1:{}/wproc_test?prefer_socket=false",
            self.port
        )
    }

    /// A connection pool as the test user.
    pub fn pool(&self) -> mysql_async::Pool {
        mysql_async::Pool::new(self.url().as_str())
    }

    /// Runs SQL as root through the mariadb client.
    pub fn root_sql(&self, sql: &str) -> Result<String> {
        let out = Command::new(repo_root().join("tests/harness/mariadb.sh"))
            .args(["sql", "--dir"])
            .arg(self.dir.path())
            .args(["--", "-N", "-e", sql])
            .output()?;
        if !out.status.success() {
            bail!("sql failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl MariaDb {
    /// Stops the server (SIGTERM, as an operator's restart does) and starts it again on the same
    /// port and data directory; returns once it accepts connections.
    pub fn restart(&self) -> Result<()> {
        let script = repo_root().join("tests/harness/mariadb.sh");
        let stop = Command::new(&script)
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .output()?;
        if !stop.status.success() {
            bail!(
                "mariadb.sh stop failed: {}",
                String::from_utf8_lossy(&stop.stderr)
            );
        }
        let start = Command::new(&script)
            .args(["start", "--dir"])
            .arg(self.dir.path())
            .args(["--port", &self.port.to_string()])
            .stderr(Stdio::inherit())
            .output()?;
        if !start.status.success() {
            bail!(
                "mariadb.sh start failed: {}",
                String::from_utf8_lossy(&start.stdout)
            );
        }
        Ok(())
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/harness/mariadb.sh"))
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .status();
    }
}

/// A working directory with a `wproc.toml` for a MariaDB source, the local log and files.
pub struct Workspace {
    /// The directory (config, log and output inside).
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// Writes a config that reads `db` from its earliest binlog.
    pub fn new(db: &MariaDb) -> Result<Self> {
        Self::with_sink(db, "[sink.files]\ndir = \"out\"\nmax_wait = \"300ms\"\n")
    }

    /// Like [`Workspace::new`], with `sink` (a TOML `[sink.…]` section) as the sink.
    pub fn with_sink(db: &MariaDb, sink: &str) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("wproc-e2e-").tempdir()?;
        let config = format!(
            r#"version = 1
[source.mysql]
host = "127.0.0.1"
port = {port}
user = "wproc"
password = "${{TEST_MYSQL_PASSWORD}}"
start = "earliest"
server_id = 5001
[transport.local]
dir = "log"
shards = 2
{sink}"#,
            port = db.port
        );
        std::fs::write(dir.path().join("wproc.toml"), config)?;
        Ok(Self { dir })
    }

    /// Starts `wproc run` in this directory.
    pub fn spawn_run(&self) -> Result<Child> {
        self.spawn_run_with(&[])
    }

    /// Starts `wproc run` in this directory with extra command-line arguments.
    pub fn spawn_run_with(&self, args: &[&str]) -> Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("wproc.log"))?;
        Command::new(wproc_bin())
            .arg("run")
            .args(args)
            .current_dir(self.dir.path())
            .env("TEST_MYSQL_PASSWORD", "wproc")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {}", wproc_bin().display()))
    }

    /// The output root.
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// wproc's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("wproc.log")).unwrap_or_default()
    }
}

/// Every JSON line of every final `.jsonl` file under `root`, with the file it came from.
pub fn read_output(root: &Path) -> Result<Vec<(PathBuf, serde_json::Value)>> {
    let mut lines = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl")
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("bad JSON line in {}: {line}", file.display()))?;
            lines.push((file.clone(), value));
        }
    }
    Ok(lines)
}

/// Row events (not DDL) of `table` in the output, ordered by source position.
pub fn row_events(root: &Path, table: &str) -> Result<Vec<serde_json::Value>> {
    let mut events: Vec<serde_json::Value> = read_output(root)?
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v["op"] != "ddl" && v["table"] == table)
        .collect();
    events.sort_by_key(position_key);
    Ok(events)
}

/// (file, offset, row) of an event, for ordering and duplicate checks.
pub fn position_key(v: &serde_json::Value) -> (String, u64, u64) {
    let pos = &v["pos"];
    (
        pos["file"].as_str().unwrap_or_default().to_owned(),
        pos["offset"].as_u64().unwrap_or_default(),
        pos["row"].as_u64().unwrap_or_default(),
    )
}

/// Polls until `check` returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

/// Applies row events in order to rebuild each table's rows, keyed by the `id` column.
pub fn rebuild_state(
    events: &[serde_json::Value],
) -> BTreeMap<(String, i64), serde_json::Map<String, serde_json::Value>> {
    let mut state = BTreeMap::new();
    for e in events {
        let table = e["table"].as_str().unwrap_or_default().to_owned();
        match e["op"].as_str() {
            Some("insert") | Some("update") => {
                if let Some(before) = e["before"]["id"].as_i64() {
                    state.remove(&(table.clone(), before));
                }
                let after = e["after"].as_object().cloned().unwrap_or_default();
                let id = after.get("id").and_then(|v| v.as_i64()).unwrap_or_default();
                state.insert((table, id), after);
            }
            Some("delete") => {
                let id = e["before"]["id"].as_i64().unwrap_or_default();
                state.remove(&(table, id));
            }
            _ => {}
        }
    }
    state
}

/// Sends SIGTERM to a child.
pub fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// A private MariaDB with `setup` statements run, a wproc workspace reading it, a runtime and
/// a pool for the test's own SQL.
pub fn start_with(
    setup: &[String],
) -> (
    MariaDb,
    Workspace,
    tokio::runtime::Runtime,
    mysql_async::Pool,
) {
    use mysql_async::prelude::Queryable;
    let db = MariaDb::start().expect("start MariaDB");
    let ws = Workspace::new(&db).expect("workspace");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.expect("connect to MariaDB");
        for statement in setup {
            conn.query_drop(statement.as_str())
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    });
    (db, ws, rt, pool)
}

/// One HTTP/1.0 GET to 127.0.0.1:`port`: (status, body), or None when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
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

/// Deterministic pseudo-random numbers (kill timing, corruption points), reproducible from a seed.
pub struct Lcg(pub u64);

impl Lcg {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

/// A private single-node HDFS (Hadoop 2.7.3 NameNode and DataNode) started by
/// `tests/harness/hdfs.sh` in its own directory, stopped on drop.
pub struct Hdfs {
    dir: tempfile::TempDir,
    /// `hdfs://127.0.0.1:PORT`.
    pub url: String,
    /// The cluster's `core-site.xml`/`hdfs-site.xml` directory.
    pub conf_dir: PathBuf,
}

impl Hdfs {
    /// Starts a fresh, empty cluster (installs Java and the jars on first use).
    pub fn start() -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("wproc-hdfs-").tempdir()?;
        let vars = Self::harness(dir.path(), &["start"])?;
        let get = |key: &str| {
            vars.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
                .with_context(|| format!("hdfs.sh start printed no {key}: {vars}"))
        };
        Ok(Self {
            url: get("HDFS_URL")?,
            conf_dir: PathBuf::from(get("HDFS_CONF_DIR")?),
            dir,
        })
    }

    fn harness(dir: &Path, args: &[&str]) -> Result<String> {
        let out = Command::new(repo_root().join("tests/harness/hdfs.sh"))
            .arg(args[0])
            .arg("--dir")
            .arg(dir)
            .args(&args[1..])
            .stderr(Stdio::inherit())
            .output()
            .context("running tests/harness/hdfs.sh")?;
        if !out.status.success() {
            bail!(
                "hdfs.sh {args:?} failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Hadoop's own FsShell (`hdfs dfs ARGS`); its stdout.
    pub fn fs(&self, args: &[&str]) -> Result<String> {
        let mut all = vec!["fs", "--"];
        all.extend_from_slice(args);
        Self::harness(self.dir.path(), &all)
    }

    /// Stops the NameNode and starts it again on the same data; returns once it serves.
    pub fn restart_namenode(&self) -> Result<()> {
        Self::harness(self.dir.path(), &["restart-namenode"]).map(drop)
    }

    /// Stops the NameNode only (an outage until [`Hdfs::start_namenode`]).
    pub fn stop_namenode(&self) -> Result<()> {
        Self::harness(self.dir.path(), &["stop-namenode"]).map(drop)
    }

    /// Starts the NameNode again after [`Hdfs::stop_namenode`].
    pub fn start_namenode(&self) -> Result<()> {
        Self::harness(self.dir.path(), &["start-namenode"]).map(drop)
    }

    /// The final batch files (`part-*`) under `root`, as FsShell lists them, sorted.
    pub fn final_files(&self, root: &str) -> Result<Vec<String>> {
        let listing = self.fs(&["-ls", "-R", root])?;
        let mut files: Vec<String> = listing
            .lines()
            .filter(|l| l.starts_with('-'))
            .filter_map(|l| l.split_whitespace().last())
            .filter(|p| p.rsplit('/').next().is_some_and(|n| n.starts_with("part-")))
            .map(str::to_owned)
            .collect();
        files.sort();
        Ok(files)
    }

    /// Every JSON line of the final files under `root`, read by FsShell `-text` (which
    /// decompresses gzip), in file order.
    pub fn json_lines(&self, root: &str) -> Result<Vec<serde_json::Value>> {
        let files = self.final_files(root)?;
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["-text"];
        args.extend(files.iter().map(String::as_str));
        self.fs(&args)?
            .lines()
            .map(|l| serde_json::from_str(l).with_context(|| format!("bad JSON line: {l}")))
            .collect()
    }
}

impl Drop for Hdfs {
    fn drop(&mut self) {
        let _ = Self::harness(self.dir.path(), &["stop"]);
    }
}
