//! End to end with a transform: a private MariaDB, `wproc run --transform filter.wasm=…`,
//! and the files hold exactly the rows the filter keeps.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use wproc_tests::{MariaDb, Workspace, read_output, sigterm, wait_until, wproc_bin};

/// Builds the guest examples once (as `host/tests/common` does) and returns `name`'s component.
fn guest(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-examples");
    let target = std::env::var("WPROC_GUEST_TARGET_DIR").map_or_else(
        |_| Path::new(&std::env::var("HOME").unwrap()).join(".cache/wproc/target-guests"),
        PathBuf::from,
    );
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--locked"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "building guest-examples failed");
    target.join(format!("wasm32-wasip2/release/{name}.wasm"))
}

#[test]
fn run_with_a_filter_writes_only_the_kept_rows() {
    let filter = guest("filter");
    let db = MariaDb::start().unwrap();
    let ws = Workspace::new(&db).unwrap();
    std::fs::write(
        ws.dir.path().join("filter.json"),
        r#"{"tables": ["orders"], "ops": ["insert", "update"]}"#,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        for sql in [
            "CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(8,2))",
            "CREATE TABLE audit_log (id INT PRIMARY KEY, note VARCHAR(20))",
            "INSERT INTO orders VALUES (1, 9.90), (2, 12.50), (3, 1.00)",
            "INSERT INTO audit_log VALUES (1, 'a'), (2, 'b')",
            "UPDATE orders SET amount = 10.00 WHERE id = 1",
            "DELETE FROM orders WHERE id = 3",
            "INSERT INTO orders VALUES (4, 4.40)",
        ] {
            conn.query_drop(sql).await.unwrap();
        }
    });
    let log = std::fs::File::create(ws.dir.path().join("wproc.log")).unwrap();
    let cache = ws.dir.path().join("components");
    let mut child = Command::new(wproc_bin())
        .arg("run")
        .arg("--transform")
        .arg(format!("{}=filter.json", filter.display()))
        .current_dir(ws.dir.path())
        .env("TEST_MYSQL_PASSWORD", "wproc")
        .env("WPROC_COMPONENT_CACHE", &cache)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let rows = |ws: &Workspace| {
        read_output(&ws.out())
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| v["op"] != "ddl")
            .collect::<Vec<_>>()
    };
    let done = wait_until(Duration::from_secs(60), || rows(&ws).len() >= 5);
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(done, "no output in time; log:\n{}", ws.log());
    assert!(status.success(), "wproc run failed; log:\n{}", ws.log());
    let mut got: Vec<(String, i64, String)> = rows(&ws)
        .iter()
        .map(|v| {
            let op = v["op"].as_str().unwrap().to_owned();
            let id = v["after"]["id"].as_i64().unwrap();
            (op, id, v["after"]["amount"].as_str().unwrap().to_owned())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("insert".to_owned(), 1, "9.90".to_owned()),
            ("insert".to_owned(), 2, "12.50".to_owned()),
            ("insert".to_owned(), 3, "1.00".to_owned()),
            ("insert".to_owned(), 4, "4.40".to_owned()),
            ("update".to_owned(), 1, "10.00".to_owned()),
        ],
        "log:\n{}",
        ws.log()
    );
    assert!(
        read_output(&ws.out())
            .unwrap()
            .iter()
            .all(|(_, v)| v["table"] == "orders"),
        "only orders rows (and no DDL of other tables)"
    );
    assert!(cache.is_dir(), "the component was cached");
}
