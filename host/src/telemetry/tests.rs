use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::MetricsServer;
use super::health::{self, Part};
use super::metrics::{self, Checkpoint, Component, ErrorClass, Stage};

/// One HTTP/1.0 GET; returns (status code, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of one sample line `name{labels} value` in OpenMetrics text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

// One test for the process-wide registry and readiness, so that no other test in this binary
// races with its assertions.
#[tokio::test]
async fn endpoint_serves_metrics_health_and_readiness() {
    let before = metrics::events_out_count(Stage::Capture);
    metrics::events_in(Stage::Capture, 5);
    metrics::events_out(Stage::Capture, 4);
    metrics::bytes(Stage::Sink, 1000);
    metrics::sink_files(Component::Files, 2);
    metrics::batch_latency(Stage::Sink, Duration::from_millis(3));
    metrics::transform_time(Duration::from_micros(250));
    metrics::error(Component::Mysql, ErrorClass::Transient);
    metrics::set_replication_lag(Duration::from_secs(2));
    metrics::set_sls_consumer_lag(3, 17);
    metrics::checkpoint_committed(Checkpoint::Capture);
    assert_eq!(metrics::events_out_count(Stage::Capture), before + 4);

    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.addr();
    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(text.ends_with("# EOF\n"), "{text}");
    for name in [
        metrics::EVENTS_IN,
        metrics::EVENTS_OUT,
        metrics::BYTES,
        metrics::SINK_FILES,
        metrics::COMPONENT_ERRORS,
        metrics::CHECKPOINT_COMMITS,
    ] {
        assert!(
            text.contains(&format!("\n{name}{{")),
            "{name} missing:\n{text}"
        );
    }
    for name in [
        metrics::REPLICATION_LAG,
        metrics::TRANSFORM_DURATION,
        metrics::BATCH_LATENCY,
        metrics::SLS_CONSUMER_LAG,
        metrics::CHECKPOINT_AGE,
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "{name} missing:\n{text}"
        );
    }
    assert!(sample(&text, "wproc_events_out_total{stage=\"capture\"}").unwrap() >= 4.0);
    assert_eq!(sample(&text, "wproc_replication_lag_seconds"), Some(2.0));
    assert_eq!(
        sample(&text, "wproc_sls_consumer_lag{shard=\"3\"}"),
        Some(17.0)
    );
    assert!(
        sample(
            &text,
            "wproc_component_errors_total{component=\"mysql\",error_type=\"transient\"}"
        )
        .unwrap()
            >= 1.0
    );
    let age = sample(
        &text,
        "wproc_checkpoint_age_seconds{checkpoint=\"capture\"}",
    )
    .unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");

    assert_eq!(get(addr, "/health").await, (200, "ok\n".to_owned()));
    health::stop();
    assert_eq!(get(addr, "/ready").await.0, 503);
    health::start(&[Part::Transport, Part::Sink]);
    health::set(Part::Transport, true);
    let (status, body) = get(addr, "/ready").await;
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready: waiting for sink\n")
    );
    health::set(Part::Sink, true);
    assert_eq!(get(addr, "/ready").await, (200, "ready\n".to_owned()));
    health::stop();
    assert_eq!(get(addr, "/nope").await.0, 404);

    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still serving after drop"
    );
}
