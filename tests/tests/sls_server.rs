//! `wproc sls-server` as a process with wproc's client: durability across SIGKILL, consumer-group
//! state across restarts, and fault injection through the control endpoint.

use std::time::Duration;

use wproc::config::Secret;
use wproc::sls::{
    ClientOptions, Content, Credentials, CursorFrom, Log, LogGroup, SlsClient, SlsEndpoint,
    cursor_to_seq, seq_to_cursor,
};
use wproc_tests::sls::SlsServerProcess;

const CONFIG: &str = r#"
version = 1
[[access_keys]]
id = "test-ak"
secret = "${SLS_TEST_SECRET}"
[[projects]]
name = "proj"
logstores = [{ name = "store", shards = 3 }, { name = "other", shards = 1 }]
"#;

fn client(server: &SlsServerProcess) -> SlsClient {
    SlsClient::new(
        SlsEndpoint::literal(&server.url(), "sls.test").unwrap(),
        "proj",
        Credentials {
            access_key_id: "test-ak".into(),
            access_key_secret: Secret::new("s3cret"),
            security_token: None,
        },
        ClientOptions {
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_attempts: 6,
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

fn group(shard: u32, i: u32) -> LogGroup {
    LogGroup {
        logs: vec![Log {
            time: 1_700_000_000 + i,
            contents: vec![
                Content::new("shard", shard.to_string()),
                Content::new("i", i.to_string()),
            ],
            time_ns: None,
        }],
        ..LogGroup::default()
    }
}

async fn read_all(client: &SlsClient, logstore: &str, shard: u32) -> Vec<LogGroup> {
    let mut cursor = client
        .get_cursor(logstore, shard, CursorFrom::Begin)
        .await
        .unwrap();
    let mut out = Vec::new();
    loop {
        let r = client
            .pull_logs(logstore, shard, &cursor, 7, None)
            .await
            .unwrap();
        if r.count == 0 {
            return out;
        }
        out.extend(r.groups);
        cursor = r.next_cursor;
    }
}

fn without_receive_time(mut groups: Vec<LogGroup>) -> Vec<LogGroup> {
    for g in &mut groups {
        g.log_tags.retain(|t| t.key != "__receive_time__");
    }
    groups
}

#[tokio::test]
async fn acknowledged_writes_and_checkpoints_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server =
        SlsServerProcess::start(dir.path(), CONFIG, &[("SLS_TEST_SECRET", "s3cret")]).unwrap();
    let c = client(&server);
    let mut written: Vec<Vec<LogGroup>> = vec![Vec::new(); 3];
    for i in 0..30 {
        let shard = i % 3;
        c.put_logs_to_shard("store", shard, &group(shard, i))
            .await
            .unwrap();
        written[shard as usize].push(group(shard, i));
    }
    c.create_consumer_group("store", "cg", 20, false)
        .await
        .unwrap();
    c.update_checkpoint("store", "cg", "c1", 2, &seq_to_cursor(4), true)
        .await
        .unwrap();

    server.restart().unwrap();
    let c = client(&server);
    for shard in 0..3 {
        let got = without_receive_time(read_all(&c, "store", shard).await);
        assert_eq!(got, written[shard as usize], "shard {shard}");
        let end = c.get_cursor("store", shard, CursorFrom::End).await.unwrap();
        assert_eq!(cursor_to_seq(&end), Some(10));
    }
    assert!(read_all(&c, "other", 0).await.is_empty());
    let cps = c.get_checkpoints("store", "cg").await.unwrap();
    assert_eq!(cps[2].checkpoint, seq_to_cursor(4));
    assert_eq!(cps[2].consumer, "c1");
    assert_eq!(cps[0].checkpoint, "");
    // The sequence continues after the restart.
    c.put_logs_to_shard("store", 1, &group(1, 99))
        .await
        .unwrap();
    let end = c.get_cursor("store", 1, CursorFrom::End).await.unwrap();
    assert_eq!(cursor_to_seq(&end), Some(11));
}

#[tokio::test]
async fn faults_set_through_the_control_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        SlsServerProcess::start(dir.path(), CONFIG, &[("SLS_TEST_SECRET", "s3cret")]).unwrap();
    let c = client(&server);
    server
        .add_fault(r#"{"method":"POST","path":"/shards/","status":503,"count":3}"#)
        .unwrap();
    server
        .add_fault(r#"{"method":"POST","path":"/shards/","status":403,"code":"ShardWriteQuotaExceed","count":1}"#)
        .unwrap();
    c.put_logs("other", None, &group(0, 1)).await.unwrap();
    assert_eq!(read_all(&c, "other", 0).await.len(), 1, "written once");

    server
        .add_fault(r#"{"path":"/shards/lb","status":400,"code":"PostBodyInvalid"}"#)
        .unwrap();
    let e = c.put_logs("other", None, &group(0, 2)).await.unwrap_err();
    assert_eq!(e.code(), Some("PostBodyInvalid"));
    assert!(!e.is_retriable());
    server.clear_faults().unwrap();
    c.put_logs("other", None, &group(0, 3)).await.unwrap();
    assert_eq!(read_all(&c, "other", 0).await.len(), 2);
    assert!(server.log().contains("SLS server listening"));
}
