use std::sync::Arc;

use super::*;
use crate::event::Column;

fn table(plans: Vec<ColumnKind>, unsigned: bool) -> TableInfo {
    let columns: Vec<Column> = (0..plans.len())
        .map(|i| Column {
            name: format!("c{i}").into(),
            sql_type: "x".into(),
        })
        .collect();
    let columns: Arc<[Column]> = Arc::from(columns);
    TableInfo {
        db: "d".into(),
        table: "t".into(),
        all_columns: columns.clone(),
        columns,
        plans: plans
            .into_iter()
            .map(|kind| ColumnPlan {
                kind,
                unsigned,
                family: "",
            })
            .collect(),
        keep: None,
        captured: true,
    }
}

fn decode_one(kind: ColumnKind, unsigned: bool, bytes: &[u8]) -> Value {
    let t = table(vec![kind], unsigned);
    let mut data = vec![0u8]; // null bitmap: not null
    data.extend_from_slice(bytes);
    let mut reader = RowReader::new(&data);
    let mut values = reader.read_image(&t, &[true]).unwrap();
    assert!(reader.is_empty());
    values.remove(0)
}

#[test]
fn mediumint_is_sign_extended() {
    assert_eq!(
        decode_one(ColumnKind::Int24, false, &[0xFF, 0xFF, 0xFF]),
        Value::Int(-1)
    );
    assert_eq!(
        decode_one(ColumnKind::Int24, false, &[0, 0, 0x80]),
        Value::Int(-8_388_608)
    );
    assert_eq!(
        decode_one(ColumnKind::Int24, true, &[0xFF, 0xFF, 0xFF]),
        Value::UInt(16_777_215)
    );
    assert_eq!(
        decode_one(ColumnKind::LongLong, true, &[0xFF; 8]),
        Value::UInt(u64::MAX)
    );
    assert_eq!(
        decode_one(ColumnKind::Tiny, false, &[0x80]),
        Value::Int(-128)
    );
}

#[test]
fn year_zero_stays_zero() {
    assert_eq!(decode_one(ColumnKind::Year, true, &[0]), Value::Year(0));
    assert_eq!(
        decode_one(ColumnKind::Year, true, &[255]),
        Value::Year(2155)
    );
}

#[test]
fn time2_negative_with_fraction() {
    // -838:59:59.0001 as MySQL writes TIME(4): computed from my_time_packed_to_binary.
    let hms: i64 = (838 << 12) | (59 << 6) | 59;
    let packed = -((hms << 24) + 100);
    // MySQL stores `nr >> 24` (floor) and `(nr % 2^24) / 100` (C remainder) as a signed int16.
    let int = (packed >> 24) + 0x80_0000;
    let frac = (packed % (1 << 24)) / 100;
    let mut bytes = (int as u32).to_be_bytes()[1..].to_vec();
    bytes.extend_from_slice(&(frac as i16).to_be_bytes());
    let v = decode_one(ColumnKind::Time2 { fsp: 4 }, false, &bytes);
    assert_eq!(
        v,
        Value::Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 100,
            fsp: 4
        }
    );
}

#[test]
fn datetime2_with_millis() {
    // 2024-02-29 23:59:58.123 as DATETIME(3).
    let ym: u64 = 2024 * 13 + 2;
    let int = (ym << 22) | (29 << 17) | (23 << 12) | (59 << 6) | 58;
    let mut bytes = (int + 0x80_0000_0000).to_be_bytes()[3..].to_vec();
    bytes.extend_from_slice(&1230u16.to_be_bytes());
    let v = decode_one(ColumnKind::DateTime2 { fsp: 3 }, false, &bytes);
    let expected = Value::DateTime {
        year: 2024,
        month: 2,
        day: 29,
        hour: 23,
        minute: 59,
        second: 58,
        micros: 123_000,
        fsp: 3,
    };
    assert_eq!(v, expected);
}

#[test]
fn truncated_image_is_an_error_naming_the_column() {
    let t = table(vec![ColumnKind::Long, ColumnKind::LongLong], false);
    let data = [0u8, 1, 0, 0, 0, 9, 9];
    let err = RowReader::new(&data)
        .read_image(&t, &[true, true])
        .unwrap_err();
    assert!(err.to_string().contains("`c1`"), "{err}");
}

#[test]
fn columns_missing_from_the_image_are_absent() {
    // binlog_row_image=MINIMAL: c1 not logged; the NULL bitmap covers c0 and c2 only (c2 NULL).
    let t = table(vec![ColumnKind::Long; 3], false);
    let mut reader = RowReader::new(&[0b10, 1, 0, 0, 0]);
    let values = reader.read_image(&t, &[true, false, true]).unwrap();
    assert!(reader.is_empty());
    assert_eq!(values, [Value::Int(1), Value::Absent, Value::Null]);
}

#[test]
fn partial_json_without_a_before_value_is_the_mysql_expression() {
    let t = table(
        vec![ColumnKind::Long, ColumnKind::Json { length_bytes: 4 }],
        false,
    );
    let diff = [&[0u8, 5][..], b"$.age", &[3, 0x05, 26, 0]].concat();
    let mut data = vec![1, 0b1, 0]; // value options PARTIAL_JSON, partial bits, NULL bitmap
    data.extend_from_slice(&(diff.len() as u32).to_le_bytes());
    data.extend_from_slice(&diff);
    // MINIMAL: the before image logs the key only.
    let before = [Value::Int(1), Value::Absent];
    let mut reader = RowReader::new(&data);
    let after = reader
        .read_partial_after(&t, &[false, true], &before)
        .unwrap();
    assert!(reader.is_empty());
    assert_eq!(
        after,
        [
            Value::Absent,
            Value::Json(r#""JSON_REPLACE(@2, '$.age', 26)""#.into())
        ]
    );
    // FULL: the diff is applied to the before document.
    let before = [Value::Int(1), Value::Json(r#"{"age":25,"n":"Joe"}"#.into())];
    let mut data = vec![1, 0b1, 0, 1, 0, 0, 0]; // options, partial bits, NULL bitmap, id 1
    data.extend_from_slice(&(diff.len() as u32).to_le_bytes());
    data.extend_from_slice(&diff);
    let mut reader = RowReader::new(&data);
    let after = reader
        .read_partial_after(&t, &[true, true], &before)
        .unwrap();
    assert!(reader.is_empty());
    assert_eq!(
        after,
        [Value::Int(1), Value::Json(r#"{"age":26,"n":"Joe"}"#.into())]
    );
}

/// MySQL's decimal2bin, for the test: digits in 9-digit groups, 4 bytes each, big-endian.
fn decimal_bin(text: &str, p: usize, s: usize) -> Vec<u8> {
    const DIGIT_BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
    let negative = text.starts_with('-');
    let text = text.trim_start_matches('-');
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let int = format!("{:0>width$}", int.trim_start_matches('0'), width = p - s);
    let frac = format!("{:0<width$}", frac, width = s);
    let mut out = Vec::new();
    let mut put = |digits: &str| {
        let v: u32 = if digits.is_empty() {
            0
        } else {
            digits.parse().unwrap()
        };
        let len = if digits.len() == 9 {
            4
        } else {
            DIGIT_BYTES[digits.len()]
        };
        out.extend_from_slice(&v.to_be_bytes()[4 - len..]);
    };
    let lead = (p - s) % 9;
    put(&int[..lead]);
    for chunk in int.as_bytes()[lead..].chunks(9) {
        put(std::str::from_utf8(chunk).unwrap());
    }
    for chunk in frac.as_bytes().chunks(9) {
        put(std::str::from_utf8(chunk).unwrap());
    }
    out[0] ^= 0x80;
    if negative {
        for b in &mut out {
            *b ^= 0xFF;
        }
    }
    out
}

#[test]
fn decimals_decode_exactly() {
    use mysql_common::binlog::decimal::{Decimal, decimal_bin_size};
    let cases: [(usize, usize, &str, &str); 9] = [
        (12, 2, "-12345.67", "-12345.67"),
        (12, 2, "0.05", "0.05"),
        (1, 0, "-9", "-9"),
        (10, 4, "999999.9999", "999999.9999"),
        (5, 5, "-0.00001", "-0.00001"),
        (
            38,
            10,
            "-9999999999999999999999999999.9999999999",
            "-9999999999999999999999999999.9999999999",
        ),
        (
            65,
            30,
            "12345678901234567890123456789012345.12345678901234567890123456789",
            "12345678901234567890123456789012345.123456789012345678901234567890",
        ),
        (18, 9, "0.000000001", "0.000000001"),
        (20, 0, "0", "0"),
    ];
    for (p, s, input, expected) in cases {
        let bytes = decimal_bin(input, p, s);
        assert_eq!(bytes.len(), decimal_bin_size(p, s), "{input}");
        let mut slice = &bytes[..];
        let reference = Decimal::read_bin(&mut slice, p, s, false)
            .unwrap()
            .to_string();
        assert_eq!(reference, expected, "mysql_common agrees on {input}");
        assert_eq!(
            super::decimal_text(&bytes, p, s),
            expected,
            "{input} as DECIMAL({p},{s})"
        );
    }
}
