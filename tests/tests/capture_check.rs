//! `wproc check` against private MariaDB servers: one set up right, one with wrong settings,
//! and a server_id already used by a running capture.

use std::process::{Command, Output};
use std::time::Duration;

use wproc_tests::{MariaDb, Workspace, sigterm, wait_until, wproc_bin};

fn check(ws: &Workspace) -> Output {
    Command::new(wproc_bin())
        .args(["-q", "check", "-c", "wproc.toml"])
        .current_dir(ws.dir.path())
        .env("TEST_MYSQL_PASSWORD", "wproc")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn wrong_settings_fail_with_setting_value_and_fix() {
    let db = MariaDb::start_with(&["binlog_format=STATEMENT", "binlog_row_image=MINIMAL"]).unwrap();
    db.root_sql("CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY 'wproc'; GRANT SELECT ON *.* TO 'weak'@'127.0.0.1'")
        .unwrap();
    let ws = Workspace::new(&db).unwrap();
    let out = check(&ws);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL binlog_format = STATEMENT: ") && report.contains("binlog_format=ROW"),
        "{report}"
    );
    assert!(
        report.contains("FAIL binlog_row_image = MINIMAL: ")
            && report.contains("binlog_row_image=FULL"),
        "{report}"
    );
    assert!(report.contains("ok   log_bin = ON"), "{report}");
    assert!(report.contains("ok   privileges = "), "{report}");

    // A user without replication privileges: the missing ones are named.
    let config = std::fs::read_to_string(ws.dir.path().join("wproc.toml")).unwrap();
    std::fs::write(
        ws.dir.path().join("wproc.toml"),
        config.replace("user = \"wproc\"", "user = \"weak\""),
    )
    .unwrap();
    let report = text(&check(&ws));
    assert!(
        report.contains("FAIL privileges = SELECT: GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.*"),
        "{report}"
    );
}

#[test]
fn good_server_passes_and_a_used_server_id_fails() {
    let db = MariaDb::start().unwrap();
    let ws = Workspace::new(&db).unwrap();
    let out = check(&ws);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains("ok   binlog_row_metadata = FULL"),
        "{report}"
    );
    assert!(report.contains("all checks passed"), "{report}");
    assert!(
        report.contains("warn server_id = 5001 (server 101, replicas not listable"),
        "{report}"
    );

    // With the privilege to list replicas, a capture using the same server_id clashes.
    db.root_sql("GRANT REPLICATION MASTER ADMIN ON *.* TO 'wproc'@'127.0.0.1'")
        .unwrap();

    let mut child = ws.spawn_run().unwrap();
    let clash = wait_until(Duration::from_secs(20), || {
        check(&ws).status.code() == Some(1)
    });
    let report = text(&check(&ws));
    sigterm(&child);
    child.wait().unwrap();
    assert!(clash, "{report}\n{}", ws.log());
    assert!(report.contains("FAIL server_id = 5001 "), "{report}");
}
