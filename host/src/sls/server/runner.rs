//! Starting and stopping the server: in-process for tests ([`SlsServer`]), and the
//! `wproc sls-server` command ([`run_cli`]).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::auth::Authenticator;
use super::config::ServerConfig;
use super::error::SlsServerError;
use super::faults::{FaultRule, Faults};
use super::routes::{State, serve};
use super::store::Store;

/// `wproc sls-server` arguments.
#[derive(Debug, clap::Args)]
pub struct SlsServerArgs {
    /// Address to listen on, e.g. `127.0.0.1:18081` (port 0: any free port; the bound address is
    /// printed on stdout as `listening on http://ADDR`).
    #[arg(long, default_value = "127.0.0.1:18081")]
    pub listen: String,
    /// Data directory (created when missing).
    #[arg(long)]
    pub data: PathBuf,
    /// Server configuration (TOML): access keys, projects, logstores, faults.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// A running server.
pub struct SlsServer {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl SlsServer {
    /// Opens `data`, creates the configured projects and logstores, and listens on `listen`.
    pub async fn start(
        listen: &str,
        data: &Path,
        config: ServerConfig,
    ) -> Result<Self, SlsServerError> {
        config.validate().map_err(SlsServerError::Config)?;
        let store = {
            let data = data.to_path_buf();
            let config = config.clone();
            tokio::task::spawn_blocking(move || -> Result<Store, SlsServerError> {
                let store = Store::open(&data)?;
                for p in &config.projects {
                    store.create_project(&p.name)?;
                    let project = store.project(&p.name).map_err(|e| {
                        SlsServerError::Config(format!("project {}: {}", p.name, e.message))
                    })?;
                    for l in &p.logstores {
                        project.create_logstore(&l.name, l.shards, 30)?;
                    }
                }
                Ok(store)
            })
            .await
            .map_err(|e| SlsServerError::Config(format!("opening the store: {e}")))??
        };
        let faults = Faults::default();
        for rule in config.faults {
            faults.add(rule);
        }
        let state = Arc::new(State::new(
            store,
            Authenticator::new(&config.access_keys, config.check_date),
            faults,
            config.shard_write_qps,
        ));
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| SlsServerError::Bind {
                addr: listen.to_string(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SlsServerError::Bind {
                addr: listen.to_string(),
                source,
            })?;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, state.clone(), shutdown.clone()));
        Ok(Self {
            addr,
            state,
            shutdown,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a fault rule; returns its id.
    pub fn add_fault(&self, rule: FaultRule) -> u64 {
        self.state.faults.add(rule)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Stops accepting, lets open connections finish their current request, and waits.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// `wproc sls-server`: runs until SIGINT or SIGTERM.
pub fn run_cli(args: &SlsServerArgs) -> ExitCode {
    let config = match &args.config {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| ServerConfig::from_toml(&text))
        {
            Ok(c) => c,
            Err(e) => {
                error!(message = "Invalid server configuration.", path = %path.display(), error = %e);
                return ExitCode::from(2);
            }
        },
        None => ServerConfig::default(),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            error!(message = "Cannot start the async runtime.", error = %e);
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match SlsServer::start(&args.listen, &args.data, config).await {
            Ok(s) => s,
            Err(e) => {
                error!(message = "SLS server failed to start.", error = %e);
                return ExitCode::FAILURE;
            }
        };
        info!(message = "SLS server listening.", addr = %server.addr(), data = %args.data.display());
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on {}", server.url());
        let _ = stdout.flush();
        wait_for_signal().await;
        info!(message = "Signal received; stopping the SLS server.");
        server.stop().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        }
        _ => std::future::pending().await,
    }
}
