//! Wire format, configuration and batching tests (no server needed; the server tests live in
//! `tests/tests/sls_*.rs`).
//!
//! The round-trip property test draws events from a seeded `fastrand` generator (the crate is
//! already a dependency; a property-testing framework would add one for a single generator).

use std::sync::Arc;

use super::config::{SlsTransportConfig, StartFrom};
use super::producer::encode_groups;
use super::wire::{self, WireDecoder, encode_event, go_float_for_test};
use crate::event::{ChangeEvent, Column, EventPosition, Op, Value};
use crate::sls::{Content, Log};

fn random_string(rng: &mut fastrand::Rng) -> String {
    let pool = [
        "",
        "a",
        "<nil>",
        "héllo",
        "x,y",
        "日本",
        "\"q\"",
        "line\nbreak",
        "_old_",
    ];
    let mut s = String::new();
    for _ in 0..rng.usize(0..4) {
        s.push_str(pool[rng.usize(0..pool.len())]);
    }
    s
}

fn random_value(rng: &mut fastrand::Rng) -> Value {
    match rng.u8(0..16) {
        0 => Value::Null,
        1 => Value::Int(rng.i64(..)),
        2 => Value::UInt(rng.u64(..)),
        3 => Value::Float(rng.f32() * 10f32.powi(rng.i32(-20..20))),
        4 => Value::Double(rng.f64() * 10f64.powi(rng.i32(-30..30))),
        5 => Value::Decimal(format!("-{}.{:02}", rng.u32(..), rng.u8(0..100))),
        6 => Value::String(random_string(rng)),
        7 => Value::Bytes((0..rng.usize(0..20)).map(|_| rng.u8(..)).collect()),
        8 => Value::Date {
            year: rng.u16(0..10000),
            month: rng.u8(0..13),
            day: rng.u8(0..32),
        },
        9 => Value::DateTime {
            year: rng.u16(0..10000),
            month: rng.u8(1..13),
            day: rng.u8(1..29),
            hour: rng.u8(0..24),
            minute: rng.u8(0..60),
            second: rng.u8(0..60),
            micros: rng.u32(0..1_000_000),
            fsp: rng.u8(0..7),
        },
        10 => Value::Timestamp {
            seconds: rng.i64(0..4_000_000_000),
            micros: rng.u32(0..1_000_000),
            fsp: rng.u8(0..7),
        },
        11 => Value::Time {
            negative: rng.bool(),
            hours: rng.u32(0..839),
            minutes: rng.u8(0..60),
            seconds: rng.u8(0..60),
            micros: rng.u32(0..1_000_000),
            fsp: rng.u8(0..7),
        },
        12 => Value::Year(rng.u16(0..2156)),
        13 => Value::Json(format!("{{\"k\":{}}}", rng.i32(..))),
        14 => Value::Absent,
        _ => Value::String(String::new()),
    }
}

fn random_event(rng: &mut fastrand::Rng) -> ChangeEvent {
    let op = [Op::Insert, Op::Update, Op::Delete, Op::Ddl][rng.usize(0..4)];
    let width = rng.usize(0..8);
    let columns: Arc<[Column]> = (0..width)
        .map(|i| Column {
            name: format!("c{i}").into(),
            sql_type: ["int", "varchar(10)", "set('a','b')", "blob"][rng.usize(0..4)].into(),
        })
        .collect();
    let image = |rng: &mut fastrand::Rng| (0..width).map(|_| random_value(rng)).collect();
    let (before, after, sql) = match op {
        Op::Insert => (None, Some(image(rng)), None),
        Op::Update => (Some(image(rng)), Some(image(rng)), None),
        Op::Delete => (Some(image(rng)), None, None),
        Op::Ddl => (None, None, Some(random_string(rng))),
    };
    ChangeEvent {
        op,
        db: format!("db{}", rng.u8(0..3)).into(),
        table: if op == Op::Ddl && rng.bool() {
            "".into()
        } else {
            random_string(rng).into()
        },
        ts_ms: rng.u64(0..4_000_000_000_000),
        pos: EventPosition {
            file: format!("mariadb-bin.{:06}", rng.u32(1..1000)).into(),
            offset: rng.u64(4..1 << 40),
            row: rng.u32(0..1000),
            gtid: rng.bool().then(|| format!("0-1-{}", rng.u32(..)).into()),
        },
        columns: if op == Op::Ddl {
            Arc::from(Vec::new())
        } else {
            columns
        },
        before,
        after,
        sql,
    }
}

#[test]
fn typed_key_restores_every_event_exactly() {
    let mut rng = fastrand::Rng::with_seed(0x5157);
    let mut decoder = WireDecoder::new();
    for _ in 0..5000 {
        let event = random_event(&mut rng);
        let log = encode_event(&event, Some("10.0.0.1"));
        assert_eq!(u64::from(log.time), event.ts_ms / 1000);
        let decoded = decoder.decode(&log).unwrap();
        assert_eq!(decoded, event);
    }
}

#[test]
fn canal_keys_skip_absent_columns() {
    // binlog_row_image=MINIMAL: the before image logs the key, the after image the changes.
    let event = ChangeEvent {
        op: Op::Update,
        db: "shop".into(),
        table: "t".into(),
        ts_ms: 1_000,
        pos: EventPosition {
            file: "binlog.000001".into(),
            offset: 3750,
            row: 0,
            gtid: None,
        },
        columns: Arc::from(vec![col("id", "int"), col("doc", "json"), col("n", "int")]),
        before: Some(vec![Value::Int(1), Value::Absent, Value::Absent]),
        after: Some(vec![
            Value::Absent,
            Value::Json(r#"{"age":26}"#.into()),
            Value::Null,
        ]),
        sql: None,
    };
    let log = encode_event(&event, None);
    let meta = [
        "_db_",
        "_table_",
        "_event_",
        "_gtid_",
        "_filename_",
        "_offset_",
        "_wproc_",
    ];
    let columns: Vec<(&str, String)> = keys(&log)
        .into_iter()
        .filter(|(k, _)| !meta.contains(k))
        .collect();
    assert_eq!(
        columns,
        [
            ("doc", r#"{"age":26}"#.to_owned()),
            ("n", "<nil>".to_owned()),
            ("_old_id", "1".to_owned()),
        ]
    );
    // The typed key still restores the absent values exactly.
    assert_eq!(WireDecoder::new().decode(&log).unwrap(), event);
    // A delete whose image lacks a column has no key for it either.
    let delete = ChangeEvent {
        op: Op::Delete,
        before: Some(vec![Value::Int(1), Value::Absent, Value::Int(2)]),
        after: None,
        ..event
    };
    let log = encode_event(&delete, None);
    let names: Vec<&str> = log
        .contents
        .iter()
        .map(|c| c.key.as_str())
        .filter(|k| !k.starts_with('_'))
        .collect();
    assert_eq!(names, ["id", "n"]);
}

fn keys(log: &Log) -> Vec<(&str, String)> {
    log.contents
        .iter()
        .map(|c| (c.key.as_str(), String::from_utf8(c.value.clone()).unwrap()))
        .collect()
}

fn col(name: &str, ty: &str) -> Column {
    Column {
        name: name.into(),
        sql_type: ty.into(),
    }
}

#[test]
fn canal_keys_and_rendering() {
    let event = ChangeEvent {
        op: Op::Update,
        db: "employees".into(),
        table: "titles".into(),
        ts_ms: 1_657_890_330_250,
        pos: EventPosition {
            file: "mysql-bin.000001".into(),
            offset: 4308,
            row: 2,
            gtid: None,
        },
        columns: Arc::from(vec![
            col("emp_no", "int"),
            col("title", "varchar(50)"),
            col("from_date", "date"),
            col("amount", "double"),
            col("tags", "set('a','b')"),
            col("note", "text"),
            col("at", "timestamp(3)"),
        ]),
        before: Some(vec![
            Value::Int(10006),
            Value::String("Senior Engineer".into()),
            Value::Date {
                year: 1990,
                month: 8,
                day: 5,
            },
            Value::Double(1e6),
            Value::String("a,b".into()),
            Value::Null,
            Value::Timestamp {
                seconds: 0,
                micros: 0,
                fsp: 3,
            },
        ]),
        after: Some(vec![
            Value::Int(10006),
            Value::String("test-update".into()),
            Value::Date {
                year: 1990,
                month: 8,
                day: 5,
            },
            Value::Double(0.000123),
            Value::String(String::new()),
            Value::String("<nil>".into()),
            Value::Timestamp {
                seconds: 1_657_890_330,
                micros: 250_000,
                fsp: 3,
            },
        ]),
        sql: None,
    };
    let log = encode_event(&event, None);
    assert_eq!(log.time, 1_657_890_330);
    assert_eq!(log.time_ns, Some(250_000_000));
    let kv = keys(&log);
    let expect = [
        ("_db_", "employees"),
        ("_table_", "titles"),
        ("_event_", "row_update"),
        ("_gtid_", "00000000-0000-0000-0000-000000000000:0"),
        ("_filename_", "mysql-bin.000001"),
        ("_offset_", "4308"),
        ("emp_no", "10006"),
        ("title", "test-update"),
        ("from_date", "1990-08-05"),
        ("amount", "0.000123"),
        ("tags", "[]"),
        ("note", "<nil>"),
        ("at", "2022-07-15 13:05:30.250"),
        ("_old_emp_no", "10006"),
        ("_old_title", "Senior Engineer"),
        ("_old_from_date", "1990-08-05"),
        ("_old_amount", "1e+06"),
        ("_old_tags", "[a b]"),
        ("_old_note", "<nil>"),
        ("_old_at", "0000-00-00 00:00:00.000"),
    ];
    for (i, (k, v)) in expect.iter().enumerate() {
        assert_eq!((kv[i].0, kv[i].1.as_str()), (*k, *v));
    }
    assert_eq!(kv.len(), expect.len() + 1);
    assert_eq!(kv.last().unwrap().0, wire::TYPED_KEY);
    // The typed key tells NULL from the string "<nil>".
    let decoded = WireDecoder::new().decode(&log).unwrap();
    assert_eq!(decoded.before.as_ref().unwrap()[5], Value::Null);
    assert_eq!(
        decoded.after.as_ref().unwrap()[5],
        Value::String("<nil>".into())
    );
}

#[test]
fn go_float_formatting_matches_go_fmt_v() {
    for (v, go) in [
        (1e6, "1e+06"),
        (100000.0, "100000"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (123.456, "123.456"),
        (1e21, "1e+21"),
        (3.0e-7, "3e-07"),
    ] {
        assert_eq!(go_float_for_test(&format!("{v:e}")), go, "{v}");
    }
    assert_eq!(go_float_for_test(&format!("{:e}", 0.1f32)), "0.1");
    assert_eq!(go_float_for_test(&format!("{:e}", f64::INFINITY)), "+Inf");
}

fn canal_log(time: u32, pairs: &[(&str, &str)]) -> Log {
    Log {
        time,
        contents: pairs.iter().map(|(k, v)| Content::new(*k, *v)).collect(),
        time_ns: None,
    }
}

#[test]
fn service_canal_logs_become_string_events() {
    // The doc's sample records (key order is random in real service_canal output).
    let update = canal_log(
        1_657_890_330,
        &[
            ("_table_", "titles"),
            ("_offset_", "4308"),
            ("_old_emp_no", "10006"),
            ("from_date", "1990-08-05"),
            ("_host_", "127.0.0.1"),
            ("_event_", "row_update"),
            ("_id_", "12"),
            ("_old_from_date", "1990-08-05"),
            ("_gtid_", "00000000-0000-0000-0000-000000000000:0"),
            ("_db_", "employees"),
            ("_filename_", "mysql-bin.000001"),
            ("_old_title", "Senior Engineer"),
            ("_old_to_date", "9999-01-01"),
            ("emp_no", "10006"),
            ("title", "test-update"),
            ("to_date", "<nil>"),
        ],
    );
    let delete = canal_log(
        1_657_890_333,
        &[
            ("_id_", "13"),
            ("_filename_", "mysql-bin.000001"),
            ("emp_no", "10006"),
            ("_db_", "employees"),
            ("_table_", "titles"),
            ("_event_", "row_delete"),
            ("_offset_", "4308"),
        ],
    );
    let mut decoder = WireDecoder::new();
    let u = decoder.decode(&update).unwrap();
    assert_eq!(u.op, Op::Update);
    assert_eq!((&*u.db, &*u.table), ("employees", "titles"));
    assert_eq!(u.ts_ms, 1_657_890_330_000);
    let names: Vec<&str> = u.columns.iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["from_date", "emp_no", "title", "to_date"]);
    let s = |t: &str| Value::String(t.into());
    assert_eq!(
        u.after.unwrap(),
        vec![s("1990-08-05"), s("10006"), s("test-update"), Value::Null]
    );
    assert_eq!(
        u.before.unwrap(),
        vec![
            s("1990-08-05"),
            s("10006"),
            s("Senior Engineer"),
            s("9999-01-01")
        ]
    );
    assert_eq!(
        (&*u.pos.file, u.pos.offset, u.pos.row),
        ("mysql-bin.000001", 4308, 0)
    );
    let d = decoder.decode(&delete).unwrap();
    assert_eq!(d.op, Op::Delete);
    assert_eq!(d.before.unwrap(), vec![s("10006")]);
    assert!(d.after.is_none());
    // Second row of the same binlog event.
    assert_eq!(d.pos.row, 1);
    assert_eq!(d.pos.gtid, None);

    let ddl = canal_log(
        5,
        &[
            ("_db_", "shop"),
            ("_event_", "ddl"),
            ("Query", "ALTER TABLE t ADD c INT"),
            ("ErrorCode", "0"),
        ],
    );
    let e = decoder.decode(&ddl).unwrap();
    assert_eq!(e.op, Op::Ddl);
    assert_eq!(e.sql.as_deref(), Some("ALTER TABLE t ADD c INT"));

    let not_a_change = canal_log(5, &[("message", "hello")]);
    let err = decoder.decode(&not_a_change).unwrap_err().to_string();
    assert!(err.contains("_event_"), "{err}");
    let bad_typed = canal_log(5, &[("_wproc_", "1:!!")]);
    assert!(decoder.decode(&bad_typed).is_err());
}

fn config(toml_text: &str) -> Result<SlsTransportConfig, String> {
    let c: SlsTransportConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    c.validate()
        .map_err(|e| format!("{}: {}", e.field, e.message))?;
    Ok(c)
}

const BASE: &str = "endpoint = \"http://127.0.0.1:1\"\nproject = \"p\"\nlogstore = \"s\"\n";

#[test]
fn config_defaults_validation_and_credentials() {
    let c = config(BASE).unwrap();
    assert_eq!(c.max_group_logs, 4096);
    assert_eq!(c.consumer.group, "wproc");
    assert_eq!(c.consumer.start, StartFrom::Begin);
    let env = |name: &str| match name {
        "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("id-from-env".to_owned()),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("secret".to_owned()),
        _ => None,
    };
    let creds = c.credentials(env).unwrap();
    assert_eq!(creds.access_key_id, "id-from-env");
    assert!(creds.security_token.is_none());
    assert!(c.credentials(|_| None).is_err());
    let with_keys = config(&format!(
        "{BASE}access_key_id = \"k\"\naccess_key_secret = \"s\"\n[consumer]\nstart = \"2026-12-01T00:00:00Z\"\ntimeout = \"3s\"\nheartbeat_interval = \"1s\"\n"
    ))
    .unwrap();
    assert_eq!(with_keys.credentials(env).unwrap().access_key_id, "k");
    assert_eq!(with_keys.consumer.start, StartFrom::Time(1_796_083_200));
    assert!(format!("{:?}", with_keys).contains("***"));
    for bad in [
        "access_key_id = \"k\"\n",
        "max_group_logs = 5000\n",
        "max_group_bytes = 10000000\n",
        "[consumer]\nstart = \"yesterday\"\n",
        "[consumer]\ntimeout = \"1s\"\n",
        "[consumer]\nfetch_count = 0\n",
        "unknown = 1\n",
    ] {
        assert!(config(&format!("{BASE}{bad}")).is_err(), "{bad}");
    }
}

#[test]
fn groups_stay_within_the_limits() {
    let mut c = config(BASE).unwrap();
    c.max_group_logs = 100;
    c.max_group_bytes = 20_000;
    let mut rng = fastrand::Rng::with_seed(7);
    let events: Vec<ChangeEvent> = (0..1000).map(|_| random_event(&mut rng)).collect();
    let encoded = encode_groups(&events, &c, "src");
    let mut groups = Vec::new();
    for (raw, logs) in &encoded {
        assert!(raw.len() <= 20_000 + 4096, "group of {} bytes", raw.len());
        let g = crate::sls::proto::decode_log_group(raw).unwrap();
        assert_eq!(g.logs.len(), *logs);
        assert!(g.logs.len() <= 100);
        assert_eq!(g.source.as_deref(), Some("src"));
        assert_eq!(g.topic.as_deref(), Some(c.topic.as_str()));
        groups.push(g);
    }
    let logs: usize = groups.iter().map(|g| g.logs.len()).sum();
    assert_eq!(logs, events.len());
    // Order is kept across groups.
    let mut decoder = WireDecoder::new();
    let back: Vec<ChangeEvent> = groups
        .iter()
        .flat_map(|g| &g.logs)
        .map(|l| decoder.decode(l).unwrap())
        .collect();
    assert_eq!(back, events);
}
