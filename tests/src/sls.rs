//! `wproc sls-server` as a child process, for tests that need a real SLS-compatible endpoint.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::wproc_bin;

/// A running `wproc sls-server` over a data directory; killed on drop.
pub struct SlsServerProcess {
    child: Option<Child>,
    dir: PathBuf,
    envs: Vec<(String, String)>,
    /// `127.0.0.1:PORT` it listens on (kept across restarts).
    pub addr: String,
}

impl SlsServerProcess {
    /// Starts a server with `config` (TOML) under `dir` (`dir/data`, `dir/sls-server.toml`,
    /// `dir/sls-server.log`), on a free port. `envs` are set for the child (secrets referenced as
    /// `${NAME}` in the config).
    pub fn start(dir: &Path, config: &str, envs: &[(&str, &str)]) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("sls-server.toml"), config)?;
        let mut server = Self {
            child: None,
            dir: dir.to_path_buf(),
            envs: envs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            addr: "127.0.0.1:0".into(),
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("sls-server.log"))?;
        let mut child = Command::new(wproc_bin())
            .args(["sls-server", "--listen", &self.addr, "--data"])
            .arg(self.dir.join("data"))
            .arg("--config")
            .arg(self.dir.join("sls-server.toml"))
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", wproc_bin().display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("server stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "sls-server did not start: {line:?}; log: {}",
                std::fs::read_to_string(self.dir.join("sls-server.log")).unwrap_or_default()
            );
        };
        self.addr = url.to_string();
        self.child = Some(child);
        Ok(())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(0)
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port and data.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.spawn()
    }

    /// Adds a fault rule (JSON, see `wproc::sls::server::FaultRule`) through
    /// `POST /_wproc/faults`; returns the response body (`{"id":N}`).
    pub fn add_fault(&self, rule_json: &str) -> Result<String> {
        self.control("POST", "/_wproc/faults", rule_json)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) -> Result<()> {
        self.control("DELETE", "/_wproc/faults", "").map(drop)
    }

    /// One HTTP/1.1 request to a control path; fails unless the status is 200.
    fn control(&self, method: &str, path: &str, body: &str) -> Result<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.addr)?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        if !head.starts_with("HTTP/1.1 200") {
            bail!("{method} {path}: {head} {body}");
        }
        Ok(body.to_string())
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sls-server.log")).unwrap_or_default()
    }
}

impl Drop for SlsServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
