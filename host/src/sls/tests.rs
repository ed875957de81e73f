//! The client against the local server, in process: every call, retries on injected faults,
//! no retry on definite errors, signatures, durability across a restart, cursor clamping.

use std::time::Duration;

use super::server::{
    AccessKeyConfig, FaultRule, LogstoreConfig, ProjectConfig, ServerConfig, SlsServer,
};
use super::*;
use crate::config::Secret;

const AKID: &str = "test-ak";
const SECRET: &str = "test-secret";

fn config() -> ServerConfig {
    ServerConfig {
        access_keys: vec![AccessKeyConfig {
            id: AKID.into(),
            secret: Secret::new(SECRET),
            security_token: None,
        }],
        projects: vec![ProjectConfig {
            name: "proj".into(),
            logstores: vec![LogstoreConfig {
                name: "store".into(),
                shards: 2,
            }],
        }],
        ..ServerConfig::from_toml("").unwrap()
    }
}

fn client_with(server: &SlsServer, secret: &str, options: ClientOptions) -> SlsClient {
    SlsClient::new(
        SlsEndpoint::literal(&server.url(), "sls.test").unwrap(),
        "proj",
        Credentials {
            access_key_id: AKID.into(),
            access_key_secret: Secret::new(secret),
            security_token: None,
        },
        options,
    )
    .unwrap()
}

/// A server on a fresh data directory, and a client of it.
async fn start() -> (tempfile::TempDir, SlsServer, SlsClient) {
    let dir = tempfile::tempdir().unwrap();
    let server = SlsServer::start("127.0.0.1:0", dir.path(), config())
        .await
        .unwrap();
    let client = client_with(&server, SECRET, fast_options());
    (dir, server, client)
}

fn fast_options() -> ClientOptions {
    ClientOptions {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..ClientOptions::default()
    }
}

fn group(tag: &str, n: usize) -> LogGroup {
    LogGroup {
        logs: (0..n)
            .map(|i| Log {
                time: 1_700_000_000,
                contents: vec![Content::new("tag", tag), Content::new("i", i.to_string())],
                time_ns: None,
            })
            .collect(),
        topic: Some("t".into()),
        source: Some("127.0.0.1".into()),
        ..LogGroup::default()
    }
}

fn tags_of(resp: &PullLogsResponse) -> Vec<String> {
    resp.groups
        .iter()
        .map(|g| g.logs[0].contents[0].value_str().unwrap().to_string())
        .collect()
}

fn rule(json: serde_json::Value) -> FaultRule {
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn put_list_cursor_pull_round_trip_with_every_compression() {
    let (_dir, server, client) = start().await;
    let shards = client.list_shards("store").await.unwrap();
    assert_eq!(shards.len(), 2);
    assert_eq!(
        shards[1].inclusive_begin_key,
        "80000000000000000000000000000000"
    );

    for (i, c) in [
        Compression::Lz4,
        Compression::Zstd,
        Compression::Deflate,
        Compression::None,
    ]
    .into_iter()
    .enumerate()
    {
        let client = client_with(
            &server,
            SECRET,
            ClientOptions {
                put_compression: c,
                pull_compression: c,
                ..fast_options()
            },
        );
        client
            .put_logs_to_shard("store", 1, &group(&format!("g{i}"), 3))
            .await
            .unwrap();
        let begin = client
            .get_cursor("store", 1, CursorFrom::Begin)
            .await
            .unwrap();
        let resp = client
            .pull_logs("store", 1, &begin, 1000, None)
            .await
            .unwrap();
        assert_eq!(resp.count as usize, i + 1, "{c:?}");
        assert_eq!(tags_of(&resp).last().unwrap(), &format!("g{i}"));
        assert_eq!(resp.groups[i].logs.len(), 3);
        assert_eq!(resp.groups[i].topic.as_deref(), Some("t"));
        assert!(resp.groups[i].tag("__receive_time__").is_some());
        assert_eq!(cursor_to_seq(&resp.next_cursor), Some(i as u64 + 1));
    }
    let client = client_with(&server, SECRET, fast_options());
    // Shard 0 got nothing; end == begin.
    let b0 = client
        .get_cursor("store", 0, CursorFrom::Begin)
        .await
        .unwrap();
    assert_eq!(
        client
            .get_cursor("store", 0, CursorFrom::End)
            .await
            .unwrap(),
        b0
    );
    // count and end_cursor bound the read.
    let begin = client
        .get_cursor("store", 1, CursorFrom::Begin)
        .await
        .unwrap();
    let two = client.pull_logs("store", 1, &begin, 2, None).await.unwrap();
    assert_eq!(tags_of(&two), ["g0", "g1"]);
    let upto = client
        .pull_logs("store", 1, &begin, 100, Some(&seq_to_cursor(1)))
        .await
        .unwrap();
    assert_eq!(tags_of(&upto), ["g0"]);
    // At or past the end: nothing, and the cursor comes back unchanged.
    let end = client
        .get_cursor("store", 1, CursorFrom::End)
        .await
        .unwrap();
    assert_eq!(cursor_to_seq(&end), Some(4));
    for c in [end.clone(), seq_to_cursor(99)] {
        let r = client.pull_logs("store", 1, &c, 10, None).await.unwrap();
        assert_eq!(
            (r.count, r.groups.len(), r.next_cursor.as_str()),
            (0, 0, c.as_str())
        );
    }
    // Time cursors: everything was received now, so an old time is begin, a future one end.
    assert_eq!(
        client
            .get_cursor("store", 1, CursorFrom::Time(1))
            .await
            .unwrap(),
        begin
    );
    assert_eq!(
        client
            .get_cursor("store", 1, CursorFrom::Time(u32::MAX))
            .await
            .unwrap(),
        end
    );
    let t = client.get_cursor_time("store", 1, &begin).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!((t - now.as_secs() as i64).abs() < 60, "{t}");
    // Routing by hash key: the same key always lands on the shard whose range holds it.
    let key = hash_key_for(b"db.table");
    let shard = shards
        .iter()
        .find(|s| s.contains_key(&key))
        .unwrap()
        .shard_id;
    let before = client
        .get_cursor("store", shard, CursorFrom::End)
        .await
        .unwrap();
    client
        .put_logs("store", Some(&key), &group("routed", 1))
        .await
        .unwrap();
    client
        .put_logs("store", None, &group("lb", 1))
        .await
        .unwrap();
    let r = client
        .pull_logs("store", shard, &before, 10, None)
        .await
        .unwrap();
    assert_eq!(tags_of(&r)[0], "routed");
    // Errors name the code and the request id, and are not retried.
    let e = client
        .pull_logs("store", 7, &begin, 10, None)
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(400), Some("ShardNotExist")));
    assert!(!e.request_id().unwrap_or("").is_empty());
    let e = client
        .pull_logs("store", 1, "not-a-cursor", 10, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidCursor"));
    let e = client.list_shards("nostore").await.unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(404), Some("LogStoreNotExist"))
    );
    let other = SlsClient::new(
        SlsEndpoint::literal(&server.url(), "sls.test").unwrap(),
        "noproj",
        Credentials {
            access_key_id: AKID.into(),
            access_key_secret: Secret::new(SECRET),
            security_token: None,
        },
        fast_options(),
    )
    .unwrap();
    assert_eq!(
        other.list_shards("store").await.unwrap_err().code(),
        Some("ProjectNotExist")
    );
    server.stop().await;
}

#[tokio::test]
async fn retries_throttling_and_5xx_but_not_other_4xx() {
    let (_dir, server, client) = start().await;
    let begin = client
        .get_cursor("store", 0, CursorFrom::Begin)
        .await
        .unwrap();

    // Two 503 ServerBusy, then one 403 ShardWriteQuotaExceed: the fourth attempt lands, once.
    server.add_fault(rule(
        serde_json::json!({"method": "POST", "path": "/shards/route", "status": 503, "count": 2}),
    ));
    client
        .put_logs_to_shard("store", 0, &group("a", 1))
        .await
        .unwrap();
    server.add_fault(rule(
        serde_json::json!({"path": "/shards/route", "status": 403, "count": 1}),
    ));
    client
        .put_logs_to_shard("store", 0, &group("b", 1))
        .await
        .unwrap();
    let r = client
        .pull_logs("store", 0, &begin, 100, None)
        .await
        .unwrap();
    assert_eq!(tags_of(&r), ["a", "b"]);

    // A 400 is definite: one attempt only (the rule saw exactly one hit).
    let id = server.add_fault(rule(
        serde_json::json!({"path": "/shards/route", "status": 400, "code": "PostBodyInvalid"}),
    ));
    let e = client
        .put_logs_to_shard("store", 0, &group("c", 1))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code(), e.is_retriable()),
        (Some(400), Some("PostBodyInvalid"), false)
    );
    assert!(e.to_string().contains("PostBodyInvalid"), "{e}");
    let hits = server_fault_hits(&server, id).await;
    assert_eq!(hits, 1);
    server.clear_faults();

    // Retries stop at max_attempts; the error tells how many and the last cause.
    server.add_fault(rule(
        serde_json::json!({"path": "/shards/0", "status": 503}),
    ));
    let e = client
        .get_cursor("store", 0, CursorFrom::End)
        .await
        .unwrap_err();
    assert!(matches!(e, SlsError::GaveUp { attempts: 5, .. }), "{e}");
    assert_eq!(e.code(), Some("ServerBusy"));
    server.clear_faults();

    // A response lost after the write (phase "after"): the retry duplicates (at-least-once).
    server.add_fault(rule(
        serde_json::json!({"path": "/shards/route", "status": 500, "count": 1, "phase": "after"}),
    ));
    client
        .put_logs_to_shard("store", 0, &group("d", 1))
        .await
        .unwrap();
    let r = client
        .pull_logs("store", 0, &begin, 100, None)
        .await
        .unwrap();
    assert_eq!(tags_of(&r), ["a", "b", "d", "d"]);

    // Delays slow a call without failing it.
    server.add_fault(rule(
        serde_json::json!({"path": "/shards", "delay": "50ms", "count": 1}),
    ));
    let started = std::time::Instant::now();
    client.list_shards("store").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    server.stop().await;
}

/// Hits of fault `id` through the control endpoint (it is HTTP, as tests in other languages use).
async fn server_fault_hits(server: &SlsServer, id: u64) -> u64 {
    let body = reqwest::get(format!("{}/_wproc/faults", server.url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["hits"].as_u64().unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_wrong_secret_is_signature_not_match_without_retry() {
    let (_dir, server, _) = start().await;
    let client = client_with(&server, "wrong-secret", fast_options());
    let e = client.list_shards("store").await.unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(401), Some("SignatureNotMatch"))
    );
    assert!(matches!(e, SlsError::Service { .. }), "not retried: {e}");
    assert!(!e.to_string().contains("wrong-secret"));
    server.stop().await;
}

#[tokio::test]
async fn data_groups_and_checkpoints_survive_a_restart() {
    let (dir, server, client) = start().await;
    for i in 0..5 {
        client
            .put_logs_to_shard("store", 1, &group(&format!("g{i}"), 2))
            .await
            .unwrap();
    }
    client
        .create_consumer_group("store", "cg", 30, false)
        .await
        .unwrap();
    client
        .create_consumer_group("store", "cg", 30, false)
        .await
        .unwrap();
    assert_eq!(
        client.heartbeat("store", "cg", "c1", &[]).await.unwrap(),
        vec![0, 1]
    );
    client
        .update_checkpoint("store", "cg", "c1", 1, &seq_to_cursor(3), false)
        .await
        .unwrap();
    server.stop().await;

    let server = SlsServer::start("127.0.0.1:0", dir.path(), config())
        .await
        .unwrap();
    let client = client_with(&server, SECRET, fast_options());
    let groups = client.list_consumer_groups("store").await.unwrap();
    assert_eq!(
        groups,
        vec![ConsumerGroupInfo {
            name: "cg".into(),
            timeout: 30,
            order: false
        }]
    );
    let cps = client.get_checkpoints("store", "cg").await.unwrap();
    assert_eq!(cps.len(), 2);
    assert_eq!(cps[0].checkpoint, "");
    assert_eq!(cps[1].checkpoint, seq_to_cursor(3));
    assert_eq!(cps[1].consumer, "c1");
    let r = client
        .pull_logs("store", 1, &cps[1].checkpoint, 100, None)
        .await
        .unwrap();
    assert_eq!(tags_of(&r), ["g3", "g4"]);
    // Appends continue the sequence.
    client
        .put_logs_to_shard("store", 1, &group("g5", 1))
        .await
        .unwrap();
    assert_eq!(
        cursor_to_seq(
            &client
                .get_cursor("store", 1, CursorFrom::End)
                .await
                .unwrap()
        ),
        Some(6)
    );
    server.stop().await;
}

#[tokio::test]
async fn consumer_group_calls_follow_the_service() {
    let (_dir, server, client) = start().await;
    client
        .create_consumer_group("store", "cg", 60, true)
        .await
        .unwrap();
    client
        .update_consumer_group("store", "cg", 20, false)
        .await
        .unwrap();
    assert_eq!(
        client.list_consumer_groups("store").await.unwrap(),
        vec![ConsumerGroupInfo {
            name: "cg".into(),
            timeout: 20,
            order: false
        }]
    );
    assert_eq!(
        client.heartbeat("store", "cg", "a", &[]).await.unwrap(),
        vec![0, 1]
    );
    assert_eq!(
        client.heartbeat("store", "cg", "a", &[0, 1]).await.unwrap(),
        vec![0, 1]
    );
    // b joins: nothing until a lets go of its share.
    assert_eq!(
        client.heartbeat("store", "cg", "b", &[]).await.unwrap(),
        Vec::<u32>::new()
    );
    let a = client.heartbeat("store", "cg", "a", &[0, 1]).await.unwrap();
    assert_eq!(a.len(), 1);
    let e = client
        .update_checkpoint("store", "cg", "b", a[0], &seq_to_cursor(0), false)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ConsumerNotMatch"));
    client.heartbeat("store", "cg", "a", &a).await.unwrap();
    let b = client.heartbeat("store", "cg", "b", &[]).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_ne!(a, b);
    client
        .update_checkpoint("store", "cg", "b", b[0], &seq_to_cursor(0), false)
        .await
        .unwrap();
    let e = client
        .update_checkpoint("store", "cg", "b", 0, &seq_to_cursor(5), true)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidCursor"));
    client.delete_consumer_group("store", "cg").await.unwrap();
    let e = client.heartbeat("store", "cg", "a", &[]).await.unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(404), Some("ConsumerGroupNotExist"))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_shard_write_quota_answers_403_and_the_client_waits_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        shard_write_qps: 1,
        ..config()
    };
    let server = SlsServer::start("127.0.0.1:0", dir.path(), config)
        .await
        .unwrap();
    let once = ClientOptions {
        max_attempts: 1,
        ..fast_options()
    };
    let client = client_with(&server, SECRET, once);
    // Three writes to one shard within at most two seconds: at least one is over 1/s.
    let mut throttled = 0;
    for i in 0..3 {
        match client
            .put_logs_to_shard("store", 0, &group(&i.to_string(), 1))
            .await
        {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(
                    (e.status(), e.code()),
                    (Some(403), Some("ShardWriteQuotaExceed"))
                );
                assert!(e.is_retriable());
                throttled += 1;
            }
        }
    }
    assert!(throttled >= 1);
    // With retries (backoff up to 2 s) every write lands.
    let patient = ClientOptions {
        max_attempts: 20,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        ..ClientOptions::default()
    };
    let client = client_with(&server, SECRET, patient);
    for i in 0..3 {
        client
            .put_logs_to_shard("store", 1, &group(&format!("p{i}"), 1))
            .await
            .unwrap();
    }
    let begin = client
        .get_cursor("store", 1, CursorFrom::Begin)
        .await
        .unwrap();
    let r = client
        .pull_logs("store", 1, &begin, 10, None)
        .await
        .unwrap();
    assert_eq!(tags_of(&r), ["p0", "p1", "p2"]);
    server.stop().await;
}
