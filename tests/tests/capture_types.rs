//! Every column type, decoded from a real MariaDB binlog by `wproc binlog dump`, compared with
//! what the server itself returns for the same rows (`CAST(col AS CHAR)`, `HEX(col)`,
//! `col + 0` for BIT, the float itself for FLOAT/DOUBLE): not with the decoder's own idea.

use std::collections::BTreeMap;
use std::process::Command;

use mysql_async::prelude::Queryable;
use serde_json::Value;
use wproc_tests::{MariaDb, wproc_bin};

/// How a column's server text is read and compared.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    /// `CAST(col AS CHAR)` against the JSON string or number.
    Text,
    /// `HEX(col)` against the base64 bytes.
    Hex,
    /// `CAST(col AS UNSIGNED)` (BIT) against the JSON number.
    Unsigned,
    /// The FLOAT read as f32.
    Float,
    /// The DOUBLE read as f64.
    Double,
    /// `CAST(col AS CHAR)` against a TIMESTAMP's `YYYY-MM-DDTHH:MM:SS[.f]Z`.
    Timestamp,
    /// YEAR: the server prints 4 digits (`0000`), wproc the number.
    Year,
}

struct Col {
    name: String,
    ddl: String,
    values: [String; 3],
    cmp: Cmp,
}

fn col(name: &str, ddl: &str, values: [&str; 3], cmp: Cmp) -> Col {
    Col {
        name: name.to_owned(),
        ddl: ddl.to_owned(),
        values: values.map(str::to_owned),
        cmp,
    }
}

/// The matrix: each column with a maximum-ish, a minimum-ish and a zero-ish value.
fn columns() -> Vec<Col> {
    use Cmp::*;
    let mut c = vec![
        col("ti", "TINYINT", ["127", "-128", "0"], Text),
        col("tiu", "TINYINT UNSIGNED", ["255", "0", "1"], Text),
        col("si", "SMALLINT", ["32767", "-32768", "0"], Text),
        col("siu", "SMALLINT UNSIGNED", ["65535", "0", "1"], Text),
        col("mi", "MEDIUMINT", ["8388607", "-8388608", "-1"], Text),
        col(
            "miu",
            "MEDIUMINT UNSIGNED",
            ["16777215", "0", "8388608"],
            Text,
        ),
        col("i", "INT", ["2147483647", "-2147483648", "-1"], Text),
        col(
            "iu",
            "INT UNSIGNED",
            ["4294967295", "0", "2147483648"],
            Text,
        ),
        col(
            "bi",
            "BIGINT",
            ["9223372036854775807", "-9223372036854775808", "-1"],
            Text,
        ),
        col(
            "biu",
            "BIGINT UNSIGNED",
            ["18446744073709551615", "0", "9223372036854775808"],
            Text,
        ),
        col("d1", "DECIMAL(1,0)", ["9", "-9", "0"], Text),
        col(
            "d2",
            "DECIMAL(10,4)",
            ["999999.9999", "-999999.9999", "0"],
            Text,
        ),
        col(
            "d3",
            "DECIMAL(12,2)",
            ["1234567890.12", "-0.05", "0.00"],
            Text,
        ),
        col(
            "d4",
            "DECIMAL(38,10)",
            [
                "1234567890123456789012345678.0123456789",
                "-9999999999999999999999999999.9999999999",
                "0.0000000001",
            ],
            Text,
        ),
        col(
            "d5",
            "DECIMAL(65,30)",
            [
                "12345678901234567890123456789012345.123456789012345678901234567890",
                "-0.000000000000000000000000000001",
                "0",
            ],
            Text,
        ),
        col(
            "d6",
            "DECIMAL(5,5)",
            ["0.99999", "-0.99999", "0.00001"],
            Text,
        ),
        col("f", "FLOAT", ["3.4e38", "-1.1", "0"], Float),
        col(
            "dbl",
            "DOUBLE",
            ["1.7976931348623157e308", "-0.1", "5e-324"],
            Double,
        ),
        col(
            "c4",
            "CHAR(4) CHARACTER SET utf8mb4",
            ["'ab☃😀'", "''", "'a'"],
            Text,
        ),
        col(
            "vc",
            "VARCHAR(300) CHARACTER SET utf8mb4",
            ["REPEAT('é😀', 150)", "''", "'x'"],
            Text,
        ),
        col(
            "tx",
            "TEXT CHARACTER SET utf8mb4",
            ["'text\\nwith \"quotes\" and ☃'", "''", "' '"],
            Text,
        ),
        col(
            "c3",
            "VARCHAR(20) CHARACTER SET utf8mb3",
            ["'ñandú ☃'", "''", "'0'"],
            Text,
        ),
        col(
            "l1",
            "VARCHAR(300) CHARACTER SET latin1",
            ["CONCAT('café ', REPEAT('ÿ', 290))", "''", "'Æ'"],
            Text,
        ),
        col(
            "lc",
            "CHAR(3) CHARACTER SET latin1",
            ["'äöü'", "''", "'x'"],
            Text,
        ),
        col(
            "lt",
            "TEXT CHARACTER SET latin1",
            ["'Ærø ß'", "''", "'§'"],
            Text,
        ),
        col(
            "cb",
            "CHAR(4) CHARACTER SET binary",
            ["x'00FF0102'", "x''", "x'61'"],
            Hex,
        ),
        col("bn", "BINARY(4)", ["x'00010203'", "x''", "x'FF'"], Hex),
        col(
            "vb",
            "VARBINARY(300)",
            ["REPEAT(x'FF00', 140)", "x''", "x'00'"],
            Hex,
        ),
        col("bl", "BLOB", ["x'DEADBEEF'", "x''", "x'00'"], Hex),
        col(
            "mbl",
            "MEDIUMBLOB",
            ["REPEAT(x'0102030405', 20000)", "x''", "x'00'"],
            Hex,
        ),
        col(
            "lbl",
            "LONGTEXT CHARACTER SET utf8mb4",
            ["REPEAT('☃', 70000)", "''", "'z'"],
            Text,
        ),
        col(
            "dt",
            "DATE",
            ["'9999-12-31'", "'1000-01-01'", "'0000-00-00'"],
            Text,
        ),
        col("y", "YEAR", ["2155", "1901", "'0000'"], Year),
        col("e", "ENUM('a','b','ç')", ["'ç'", "'a'", "''"], Text),
        col("st", "SET('x','y','z')", ["'x,z'", "''", "'x,y,z'"], Text),
        col("b1", "BIT(1)", ["1", "0", "0"], Unsigned),
        col("b10", "BIT(10)", ["b'1010101011'", "0", "1"], Unsigned),
        col(
            "b64",
            "BIT(64)",
            ["x'FFFFFFFFFFFFFFFF'", "0", "x'8000000000000000'"],
            Unsigned,
        ),
        col(
            "j",
            "JSON",
            [
                "'{\"a\": [1, 2.5, {\"b\": null}], \"c\": \"☃\"}'",
                "'[]'",
                "'0'",
            ],
            Text,
        ),
        col(
            "g",
            "GEOMETRY",
            [
                "ST_GeomFromText('POINT(1 2)')",
                "ST_GeomFromText('LINESTRING(0 0, 1.5 -2)', 4326)",
                "ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))')",
            ],
            Hex,
        ),
    ];
    for fsp in 0..=6 {
        let frac = &"123456"[..fsp];
        let dot = if fsp == 0 { "" } else { "." };
        c.push(col(
            &format!("dt{fsp}"),
            &format!("DATETIME({fsp})"),
            [
                &format!("'9999-12-31 23:59:59{dot}{}'", &"999999"[..fsp]),
                &format!("'1000-01-01 00:00:00{dot}{frac}'"),
                "'0000-00-00 00:00:00'",
            ],
            Text,
        ));
        c.push(col(
            &format!("tm{fsp}"),
            &format!("TIME({fsp})"),
            [
                &format!("'838:59:59{dot}{}'", &"999999"[..fsp]),
                &format!("'-838:59:59{dot}{frac}'"),
                &format!("'-00:00:01{dot}{frac}'"),
            ],
            Text,
        ));
        c.push(col(
            &format!("ts{fsp}"),
            &format!("TIMESTAMP({fsp}) NULL"),
            [
                &format!("'2038-01-19 03:14:07{dot}{}'", &"999999"[..fsp]),
                &format!("'1970-01-01 00:00:01{dot}{frac}'"),
                "'0000-00-00 00:00:00'",
            ],
            Timestamp,
        ));
    }
    c
}

fn hex_of_base64(b64: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut bits, mut nbits, mut out) = (0u32, 0, String::new());
    for c in b64.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits = bits << 6 | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push_str(&format!("{:02X}", (bits >> nbits) & 0xFF));
        }
    }
    out
}

/// Every change event of `table` decoded from the server's binlog files by `wproc binlog dump`.
pub fn dump_binlogs(db: &MariaDb, table: &str) -> Vec<Value> {
    db.root_sql("FLUSH BINARY LOGS").unwrap();
    let mut files: Vec<_> = std::fs::read_dir(db.binlog_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    files.sort();
    let out = Command::new(wproc_bin())
        .args(["-q", "binlog", "dump"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["table"] == table)
        .collect()
}

#[test]
fn every_type_matches_the_server() {
    let db = MariaDb::start().unwrap();
    let cols = columns();
    let ddl = cols
        .iter()
        .map(|c| format!("`{}` {}", c.name, c.ddl))
        .collect::<Vec<_>>()
        .join(", ");
    let names = cols
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    let rows: Vec<mysql_async::Row> = rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        conn.query_drop("SET SESSION sql_mode = '', NAMES utf8mb4, time_zone = '+00:00'")
            .await
            .unwrap();
        conn.query_drop(format!(
            "CREATE TABLE matrix (id INT PRIMARY KEY, {ddl}) DEFAULT CHARSET=utf8mb4"
        ))
        .await
        .unwrap();
        for (row, id) in [(0usize, 1), (1, 2), (2, 3)] {
            let values = cols
                .iter()
                .map(|c| c.values[row].as_str())
                .collect::<Vec<_>>()
                .join(", ");
            conn.query_drop(format!(
                "INSERT INTO matrix (id, {names}) VALUES ({id}, {values})"
            ))
            .await
            .unwrap();
        }
        conn.query_drop("INSERT INTO matrix (id) VALUES (4)")
            .await
            .unwrap();
        // An update and a delete, so before images are checked too.
        conn.query_drop("UPDATE matrix SET mi = -2, vc = 'upd' WHERE id = 3")
            .await
            .unwrap();
        conn.query_drop("INSERT INTO matrix (id, mi) VALUES (5, 1)")
            .await
            .unwrap();
        conn.query_drop("DELETE FROM matrix WHERE id = 5")
            .await
            .unwrap();
        let select = cols
            .iter()
            .map(|c| match c.cmp {
                Cmp::Hex => format!("HEX(`{}`)", c.name),
                Cmp::Unsigned => format!("CAST(`{}` AS UNSIGNED)", c.name),
                Cmp::Float | Cmp::Double => format!("`{}`", c.name),
                _ => format!("CAST(`{}` AS CHAR)", c.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        conn.query(format!("SELECT id, {select} FROM matrix ORDER BY id"))
            .await
            .unwrap()
    });
    drop(pool);

    let mut events = dump_binlogs(&db, "matrix");
    // The CREATE TABLE is a ddl event naming the table it creates.
    let ddl = events.remove(0);
    assert_eq!(ddl["op"], "ddl");
    assert_eq!(ddl["db"], "wproc_test");
    assert!(
        ddl["sql"]
            .as_str()
            .unwrap()
            .starts_with("CREATE TABLE matrix")
    );
    let ops: Vec<&str> = events.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(
        ops,
        [
            "insert", "insert", "insert", "insert", "update", "insert", "delete"
        ]
    );
    let update = &events[4];
    assert_eq!(update["before"]["mi"], -1);
    assert_eq!(update["after"]["mi"], -2);
    assert_eq!(events[6]["before"]["id"], 5);
    let columns = events[0]["columns"].as_array();
    if let Some(columns) = columns {
        assert_eq!(columns.len(), cols.len() + 1);
    }

    // Rebuild the table from the events and compare each value with the server's.
    let mut state: BTreeMap<i64, serde_json::Map<String, Value>> = BTreeMap::new();
    for e in &events {
        match e["op"].as_str().unwrap() {
            "delete" => {
                state.remove(&e["before"]["id"].as_i64().unwrap());
            }
            _ => {
                let after = e["after"].as_object().unwrap().clone();
                state.insert(after["id"].as_i64().unwrap(), after);
            }
        }
    }
    assert_eq!(rows.len(), state.len());
    let mut checked = 0;
    for row in rows {
        let id: i64 = row.get(0).unwrap();
        let ours = &state[&id];
        for (i, c) in cols.iter().enumerate() {
            let got = &ours[&c.name];
            let context = format!("row {id} column {} ({})", c.name, c.ddl);
            match c.cmp {
                Cmp::Float => {
                    let server: Option<f32> = row.get(i + 1).unwrap();
                    assert_eq!(server, got.as_f64().map(|v| v as f32), "{context}");
                }
                Cmp::Double => {
                    let server: Option<f64> = row.get(i + 1).unwrap();
                    assert_eq!(server, got.as_f64(), "{context}");
                }
                _ => {
                    let server: Option<String> = row.get(i + 1).unwrap();
                    let ours = match (c.cmp, got) {
                        (_, Value::Null) => None,
                        (Cmp::Hex, v) => Some(hex_of_base64(v["base64"].as_str().unwrap())),
                        (Cmp::Timestamp, Value::String(s)) => {
                            Some(s.trim_end_matches('Z').replacen('T', " ", 1))
                        }
                        (Cmp::Year, Value::Number(n)) => {
                            Some(format!("{:04}", n.as_u64().unwrap()))
                        }
                        (_, Value::String(s)) => Some(s.clone()),
                        (_, Value::Number(n)) => Some(n.to_string()),
                        // MariaDB JSON without a schema tracker (offline dump) is its text.
                        (_, other) => Some(other.to_string()),
                    };
                    assert_eq!(server, ours, "{context}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, cols.len() * 4);
}
