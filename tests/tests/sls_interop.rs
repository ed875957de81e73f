//! The official SLS Python SDK (`aliyun-log-python-sdk`, installed by `scripts/install-deps.sh`
//! into `~/.cache/wproc/venv-sls`) against `wproc sls-server`, mixed with wproc's own client:
//! wproc writes, the SDK reads; the SDK writes (lz4 and uncompressed, load-balanced and by hash
//! key), wproc reads; the SDK's `ConsumerWorker` consumes everything exactly once and its
//! checkpoints, read back through wproc's client, sit at the end cursors; then two
//! `ConsumerWorker`s share one group while logs keep arriving, the server hands half the shards
//! from the first to the second, and together they read every log exactly once. The SDK-side
//! checks are in `tests/sls_interop/interop.py`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use wproc::config::Secret;
use wproc::sls::{
    ClientOptions, Content, Credentials, CursorFrom, Log, LogGroup, SlsClient, SlsEndpoint,
    hash_key_for,
};
use wproc_tests::repo_root;
use wproc_tests::sls::SlsServerProcess;

const SECRET: &str = "interop-secret";
const CONFIG: &str = r#"
version = 1
[[access_keys]]
id = "interop-ak"
secret = "${SLS_INTEROP_SECRET}"
[[projects]]
name = "proj"
logstores = [{ name = "store", shards = 4 }]
"#;

fn python() -> PathBuf {
    let venv = std::env::var_os("WPROC_SLS_VENV").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/wproc/venv-sls"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-deps.sh (it installs aliyun-log-python-sdk)",
        python.display()
    );
    python
}

/// The logs wproc writes first: `writer=wproc`, `seq=0..6`, in three groups.
fn wproc_group(first: u32) -> LogGroup {
    LogGroup {
        logs: (first..first + 2)
            .map(|seq| Log {
                time: 1_700_000_000,
                contents: vec![
                    Content::new("writer", "wproc"),
                    Content::new("seq", seq.to_string()),
                ],
                time_ns: Some(seq),
            })
            .collect(),
        topic: Some("from-wproc".into()),
        ..LogGroup::default()
    }
}

#[tokio::test]
async fn python_sdk_and_wproc_client_interoperate() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let server =
        SlsServerProcess::start(dir.path(), CONFIG, &[("SLS_INTEROP_SECRET", SECRET)]).unwrap();
    let client = SlsClient::new(
        SlsEndpoint::literal(&server.url(), "sls.test").unwrap(),
        "proj",
        Credentials {
            access_key_id: "interop-ak".into(),
            access_key_secret: Secret::new(SECRET),
            security_token: None,
        },
        ClientOptions::default(),
    )
    .unwrap();
    client
        .put_logs("store", None, &wproc_group(0))
        .await
        .unwrap();
    client
        .put_logs("store", Some(&hash_key_for(b"t1")), &wproc_group(2))
        .await
        .unwrap();
    client
        .put_logs_to_shard("store", 3, &wproc_group(4))
        .await
        .unwrap();

    let out = Command::new(&python)
        .arg(repo_root().join("tests/sls_interop/interop.py"))
        .args(["--port", &server.port().to_string()])
        .args([
            "--akid",
            "interop-ak",
            "--project",
            "proj",
            "--logstore",
            "store",
        ])
        .args(["--wproc-logs", "6"])
        .env("SLS_INTEROP_SECRET", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "interop.py failed ({}):\n{stderr}\n{stdout}\nserver log:\n{}",
        out.status,
        server.log()
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    assert_eq!(summary["python_logs"], 60, "{summary}");
    assert_eq!(summary["consumed"], 66, "{summary}");
    assert_eq!(summary["groups"], 15, "{summary}");

    // wproc reads back exactly what the SDK wrote, with unicode, quotes and newlines intact.
    let mut python_logs = BTreeMap::new();
    let mut ends = BTreeMap::new();
    for shard in client.list_shards("store").await.unwrap() {
        let id = shard.shard_id;
        let mut cursor = client
            .get_cursor("store", id, CursorFrom::Begin)
            .await
            .unwrap();
        loop {
            let r = client
                .pull_logs("store", id, &cursor, 1000, None)
                .await
                .unwrap();
            for g in &r.groups {
                for log in &g.logs {
                    let kv: BTreeMap<&str, &str> = log
                        .contents
                        .iter()
                        .map(|c| (c.key.as_str(), c.value_str().unwrap()))
                        .collect();
                    if kv["writer"] == "python" {
                        assert_eq!(g.topic.as_deref(), Some("topic-py"));
                        assert_eq!(g.source.as_deref(), Some("src-py"));
                        let seq: u32 = kv["seq"].parse().unwrap();
                        python_logs.insert(seq, kv["text"].to_string());
                    }
                }
            }
            if r.count == 0 {
                break;
            }
            cursor = r.next_cursor;
        }
        ends.insert(id, cursor);
    }
    assert_eq!(python_logs.len(), 60);
    for (seq, text) in &python_logs {
        assert_eq!(text, &format!("值-{seq} é \"quoted\" \n newline"));
    }
    // The checkpoints, as wproc sees them: the single worker's at the ends of its time, the
    // pair's at the final ends.
    let checkpoints = client.get_checkpoints("store", "cg-worker").await.unwrap();
    assert_eq!(checkpoints.len(), 4);
    for cp in checkpoints {
        assert_eq!(
            summary["ends"][cp.shard.to_string()],
            cp.checkpoint.as_str()
        );
        assert_eq!(cp.consumer, "worker-1");
    }
    let checkpoints = client.get_checkpoints("store", "cg-pair").await.unwrap();
    assert_eq!(checkpoints.len(), 4);
    for cp in checkpoints {
        assert_eq!(cp.checkpoint, ends[&cp.shard], "shard {}", cp.shard);
        assert!(["worker-a", "worker-b"].contains(&cp.consumer.as_str()));
    }
    let (a, b) = (&summary["pair"]["worker-a"], &summary["pair"]["worker-b"]);
    let late = summary["late_logs"].as_u64().unwrap();
    assert_eq!(
        a.as_u64().unwrap() + b.as_u64().unwrap(),
        66 + late,
        "{summary}"
    );
    assert!(b.as_u64().unwrap() > 0, "{summary}");
}
