use std::time::Duration;

use hdfs_native::HdfsError;

use super::*;
use crate::sink::SinkConfig;
use crate::sink::batch_file::Compression;

#[test]
fn parses_a_full_section_and_feeds_the_batch_limits() {
    let config: SinkConfig = toml::from_str(
        r#"
        [hdfs]
        url = "hdfs://127.0.0.1:9000"
        user = "etl"
        dir = "/data/binlog"
        path = "{route}/{db}/{table}/dt={date}/h={hour}"
        compression = "zstd"
        max_events = 1000
        max_bytes = 4096
        max_wait = "2s"
        max_open_files = 4
        op_timeout = "5s"
        give_up_after = "1m"
        "#,
    )
    .unwrap();
    config.validate().unwrap();
    let limits = config.batch_limits();
    assert_eq!(
        (limits.max_events, limits.max_bytes, limits.max_wait),
        (1000, 4096, Duration::from_secs(2))
    );
    let SinkConfig::Hdfs(hdfs) = config else {
        panic!("not hdfs")
    };
    assert_eq!(hdfs.compression, Compression::Zstd);
    assert_eq!(hdfs.give_up_after, Duration::from_secs(60));
    assert_eq!(hdfs.user.as_deref(), Some("etl"));
}

#[test]
fn defaults_land_in_mysqlbinlog_every_ten_seconds() {
    let config: SinkConfig = toml::from_str("[hdfs]\n").unwrap();
    config.validate().unwrap();
    assert_eq!(config.batch_limits().max_wait, Duration::from_secs(10));
    let SinkConfig::Hdfs(hdfs) = config else {
        panic!("not hdfs")
    };
    assert_eq!(
        (hdfs.dir.as_str(), hdfs.path.as_str()),
        ("/mysqlbinlog", "{db}/{table}/dt={date}")
    );
    assert_eq!(hdfs.give_up_after, Duration::from_secs(600));
}

#[test]
fn rejects_bad_values() {
    for bad in [
        "dir = \"relative\"",
        "dir = \"/a/../b\"",
        "url = \"http://nn:9870\"",
        "path = \"{nope}\"",
        "op_timeout = \"0s\"",
    ] {
        let config: SinkConfig = toml::from_str(&format!("[hdfs]\n{bad}\n")).unwrap();
        assert!(config.validate().is_err(), "{bad}");
    }
    assert!(toml::from_str::<SinkConfig>("[hdfs]\nunknown = 1\n").is_err());
}

#[test]
fn classifies_client_errors() {
    let io = HdfsError::IOError(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    let retriable = |source| {
        HdfsSinkError::Hdfs {
            action: "creating",
            path: "/x".into(),
            source,
        }
        .is_retriable()
    };
    assert!(retriable(io));
    assert!(retriable(HdfsError::RPCError(
        "org.apache.hadoop.hdfs.server.namenode.SafeModeException".into(),
        "Name node is in safe mode".into()
    )));
    assert!(retriable(HdfsError::RPCError(
        "org.apache.hadoop.ipc.StandbyException".into(),
        String::new()
    )));
    assert!(!retriable(HdfsError::RPCError(
        "org.apache.hadoop.security.AccessControlException".into(),
        "Permission denied".into()
    )));
    assert!(!retriable(HdfsError::InvalidPath("x".into())));
    assert!(!retriable(HdfsError::FatalRPCError("a".into(), "b".into())));
    let timeout = HdfsSinkError::Timeout {
        action: "closing",
        path: "/x".into(),
        after: Duration::from_secs(1),
    };
    assert!(timeout.is_retriable());
    let gave_up = HdfsSinkError::GaveUp {
        shard: 0,
        start: 0,
        end: 1,
        failing_for: Duration::from_secs(1),
        last: Box::new(timeout),
    };
    assert!(!gave_up.is_retriable());
    assert!(
        gave_up
            .to_string()
            .contains("giving up on shard 0 range [0, 1)")
    );
}
