//! `wproc check`: a preflight of the configured MySQL or MariaDB server.
//!
//! Each check reads one setting and reports it as `ok`, `warn` (capture works, with a caveat)
//! or `FAIL` (capture would stop or lose data), naming the setting, the value found and the fix.
//! The command exits 1 when any check fails, 2 when the configuration is invalid or the server
//! cannot be reached, 0 otherwise. Grant lines are parsed, never printed (they may carry
//! password hashes).
//!
//! | check | fails when |
//! |---|---|
//! | `log_bin` | off: there is no binlog to read |
//! | `binlog_format` | not `ROW`: statements carry no row images |
//! | `binlog_row_image` | not `FULL`: capture continues, but row images lack the columns the server did not log (they come out absent) and MINIMAL partial JSON updates come out as expressions, not documents |
//! | `binlog_row_metadata` | (warn) not `FULL`: names come from the schema tracker and break across old DDL |
//! | `gtid_mode` (MySQL) | not `ON` while `start = "gtid:..."` (warn otherwise) |
//! | privileges | missing REPLICATION SLAVE, REPLICATION CLIENT / BINLOG MONITOR, or SELECT on `*.*` |
//! | `server_id` | equal to the server's own id or to a connected replica's |

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::config::{MysqlSourceConfig, StartPosition};
use super::error::MysqlError;
use super::replication::MysqlSource;
use crate::source::SourceConfig;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// As capture needs it.
    Ok,
    /// Capture works, with a caveat.
    Warn,
    /// Capture would stop or lose data.
    Fail,
}

/// One check's result.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The setting checked, e.g. `binlog_format`.
    pub setting: String,
    /// The value found.
    pub found: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What to do about it (empty when ok).
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        write!(f, "{tag} {} = {}", self.setting, self.found)?;
        if !self.fix.is_empty() {
            write!(f, ": {}", self.fix)?;
        }
        Ok(())
    }
}

fn finding(setting: &str, found: impl Into<String>, verdict: Verdict, fix: &str) -> Finding {
    Finding {
        setting: setting.to_owned(),
        found: found.into(),
        verdict,
        fix: if verdict == Verdict::Ok {
            String::new()
        } else {
            fix.to_owned()
        },
    }
}

/// `wproc check -c FILE`: prints one line per check; the exit code says whether any failed.
pub fn main(config_path: &Path, overrides: &[crate::config::Override]) -> ExitCode {
    let config = match crate::config::load_with_overrides(config_path, overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let Some(SourceConfig::Mysql(source)) = config.source else {
        eprintln!("{}: no [source.mysql] to check", config_path.display());
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(check(&source)) {
        Ok(findings) => {
            for f in &findings {
                println!("{f}");
            }
            let failed = findings
                .iter()
                .filter(|f| f.verdict == Verdict::Fail)
                .count();
            if failed > 0 {
                println!("{failed} check(s) failed");
                ExitCode::FAILURE
            } else {
                println!("all checks passed");
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("wproc check: {e}");
            ExitCode::from(2)
        }
    }
}

async fn variable(conn: &mut Conn, name: &str) -> Result<Option<String>, mysql_async::Error> {
    // `name` is one of this module's constants: no quoting needed, and SHOW cannot be prepared.
    let row: Option<(String, String)> = conn
        .query_first(format!("SHOW GLOBAL VARIABLES LIKE '{name}'"))
        .await?;
    Ok(row.map(|(_, v)| v))
}

/// Runs every check against the server `config` names.
pub async fn check(config: &MysqlSourceConfig) -> Result<Vec<Finding>, MysqlError> {
    let source = MysqlSource::new(config.clone());
    let mut conn = source.connect().await?;
    let addr = format!("{}:{}", config.host, config.port);
    let server = |e: mysql_async::Error| MysqlError::Server {
        addr: addr.clone(),
        what: "a preflight query".into(),
        source: e,
    };
    let version: String = conn
        .query_first("SELECT VERSION()")
        .await
        .map_err(server)?
        .unwrap_or_default();
    let mariadb = version.contains("MariaDB");
    let mut findings = vec![finding("version", version.clone(), Verdict::Ok, "")];

    let log_bin = variable(&mut conn, "log_bin").await.map_err(server)?;
    let on = log_bin
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("ON") || v == "1");
    findings.push(finding(
        "log_bin",
        log_bin.unwrap_or_else(|| "absent".into()),
        if on { Verdict::Ok } else { Verdict::Fail },
        "the server writes no binlog: add log_bin=<base name> (and a server_id) to its config \
         and restart it",
    ));

    let format = variable(&mut conn, "binlog_format").await.map_err(server)?;
    let row = format
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("ROW"));
    findings.push(finding(
        "binlog_format",
        format.unwrap_or_else(|| "absent".into()),
        if row { Verdict::Ok } else { Verdict::Fail },
        "statement events carry no rows: SET GLOBAL binlog_format = 'ROW' and put \
         binlog_format=ROW in the server config",
    ));

    let image = variable(&mut conn, "binlog_row_image")
        .await
        .map_err(server)?;
    let full = image
        .as_deref()
        .is_none_or(|v| v.eq_ignore_ascii_case("FULL"));
    findings.push(finding(
        "binlog_row_image",
        image.unwrap_or_else(|| "absent (FULL)".into()),
        if full { Verdict::Ok } else { Verdict::Fail },
        "row images would lack the columns the server does not log (events show them as \
         absent; partial JSON updates become expressions): SET GLOBAL binlog_row_image = \
         'FULL' and put binlog_row_image=FULL in the server config",
    ));

    let metadata = variable(&mut conn, "binlog_row_metadata")
        .await
        .map_err(server)?;
    let verdict = match metadata.as_deref() {
        Some(v) if v.eq_ignore_ascii_case("FULL") => Verdict::Ok,
        _ => Verdict::Warn,
    };
    findings.push(finding(
        "binlog_row_metadata",
        metadata.unwrap_or_else(|| "absent (server too old)".into()),
        verdict,
        "column names, signedness and ENUM/SET labels then come from information_schema, \
         which fails for rows written before a later ALTER: SET GLOBAL binlog_row_metadata = \
         'FULL' (MySQL 8.0.1+, MariaDB 10.5+)",
    ));

    let by_gtid = matches!(config.start, StartPosition::Gtid(_));
    if mariadb {
        let pos = variable(&mut conn, "gtid_binlog_pos")
            .await
            .map_err(server)?;
        findings.push(finding(
            "gtid_binlog_pos",
            pos.unwrap_or_default(),
            Verdict::Ok,
            "",
        ));
    } else {
        let mode = variable(&mut conn, "gtid_mode").await.map_err(server)?;
        let on = mode
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("ON"));
        findings.push(finding(
            "gtid_mode",
            mode.unwrap_or_else(|| "absent".into()),
            match (on, by_gtid) {
                (true, _) => Verdict::Ok,
                (false, true) => Verdict::Fail,
                (false, false) => Verdict::Warn,
            },
            "without GTIDs capture can only resume by file and offset (no failover to another \
             server): enable gtid_mode=ON and enforce_gtid_consistency=ON",
        ));
    }

    findings.push(privileges(&mut conn, mariadb).await.map_err(server)?);
    findings.push(
        server_id(&mut conn, config.server_id)
            .await
            .map_err(server)?,
    );
    let _ = conn.disconnect().await;
    Ok(findings)
}

/// Global privileges of the current user, from SHOW GRANTS (parsed, never printed).
async fn privileges(conn: &mut Conn, mariadb: bool) -> Result<Finding, mysql_async::Error> {
    let grants: Vec<String> = conn.query("SHOW GRANTS FOR CURRENT_USER()").await?;
    let mut global: Vec<String> = Vec::new();
    for grant in &grants {
        let upper = grant.to_ascii_uppercase();
        let Some(rest) = upper.strip_prefix("GRANT ") else {
            continue;
        };
        let Some((privs, on)) = rest.split_once(" ON ") else {
            continue;
        };
        if on.trim_start().starts_with("*.*") {
            global.extend(privs.split(',').map(|p| p.trim().to_owned()));
        }
    }
    let has = |p: &str| {
        global
            .iter()
            .any(|g| g == p || g == "ALL PRIVILEGES" || g == "ALL")
    };
    let mut missing = Vec::new();
    if !has("REPLICATION SLAVE") && !has("REPLICATION REPLICA") {
        missing.push("REPLICATION SLAVE");
    }
    if !has("REPLICATION CLIENT") && !has("BINLOG MONITOR") {
        missing.push(if mariadb {
            "BINLOG MONITOR"
        } else {
            "REPLICATION CLIENT"
        });
    }
    if !has("SELECT") {
        missing.push("SELECT");
    }
    let found = if global.is_empty() {
        "no global privileges".to_owned()
    } else {
        global.join(", ")
    };
    let fix = format!("GRANT {} ON *.* TO <capture user>", missing.join(", "));
    Ok(finding(
        "privileges",
        found,
        if missing.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Fail
        },
        &fix,
    ))
}

/// Whether the configured replica server_id is the server's own or a connected replica's.
async fn server_id(conn: &mut Conn, ours: u32) -> Result<Finding, mysql_async::Error> {
    let own: Option<u32> = conn.query_first("SELECT @@server_id").await?;
    let mut replicas: Option<Vec<u32>> = None;
    let mut refusal = String::new();
    for statement in ["SHOW REPLICAS", "SHOW SLAVE HOSTS"] {
        match conn.query::<mysql_async::Row, _>(statement).await {
            Ok(rows) => {
                replicas = Some(rows.iter().filter_map(|r| r.get::<u32, _>(0)).collect());
                break;
            }
            Err(mysql_async::Error::Server(e)) => refusal = e.message,
            Err(e) => return Err(e),
        }
    }
    let own = own.unwrap_or(0);
    Ok(match replicas {
        Some(replicas) => {
            let clash = own == ours || replicas.contains(&ours);
            finding(
                "server_id",
                format!("{ours} (server {own}, replicas {replicas:?})"),
                if clash { Verdict::Fail } else { Verdict::Ok },
                "another server or replica already uses this id, and the server drops one of \
                 two replicas with the same id: set [source.mysql] server_id to an unused value",
            )
        }
        None => finding(
            "server_id",
            format!("{ours} (server {own}, replicas not listable: {refusal})"),
            if own == ours {
                Verdict::Fail
            } else {
                Verdict::Warn
            },
            "cannot compare with the connected replicas: SHOW SLAVE HOSTS needs REPLICATION \
             MASTER ADMIN (MariaDB 10.5+) or REPLICATION SLAVE (MySQL); make sure no other \
             replica uses this server_id",
        ),
    })
}
