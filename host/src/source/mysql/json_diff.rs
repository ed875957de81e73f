//! MySQL partial JSON updates (`binlog_row_value_options=PARTIAL_JSON`, PARTIAL_UPDATE_ROWS
//! events): the after image of a JSON column is a list of diffs against the before image.
//!
//! Each diff is `operation u8` (0 REPLACE, 1 INSERT, 2 REMOVE), a length-encoded JSON path
//! (`$.a."b c"[2]`: only member and array-index legs occur), and, except for REMOVE, a
//! length-encoded binary JSON value. They are applied in order to the before value, so the
//! change event always carries the whole document, as for a full update.
//!
//! With `binlog_row_image=MINIMAL` the before image usually lacks the JSON column, so there is
//! nothing to apply the diffs to. [`expression`] then writes the change as the MySQL expression
//! `mysqlbinlog -v` prints for it, e.g. `JSON_REPLACE(@2, '$.age', 26)`.

use mysql_common::binlog::decimal::{DIG_TO_BYTES, decimal_bin_size};
use mysql_common::binlog::jsonb;
use mysql_common::constants::ColumnType;
use mysql_common::io::ParseBuf;
use mysql_common::proto::MyDeserialize;
use serde_json::Value as Json;

const REPLACE: u8 = 0;
const INSERT: u8 = 1;
const REMOVE: u8 = 2;

#[derive(Debug, PartialEq)]
enum Leg {
    Member(String),
    Index(usize),
}

/// Applies the encoded `diffs` to the JSON text `base`; returns the new JSON text.
pub(crate) fn apply_diffs(base: &str, mut diffs: &[u8]) -> Result<String, String> {
    let mut doc: Json =
        serde_json::from_str(base).map_err(|e| format!("before image JSON: {e}"))?;
    while !diffs.is_empty() {
        let operation = take(&mut diffs, 1)?[0];
        let path_len = take_lenenc(&mut diffs)? as usize;
        let path = std::str::from_utf8(take(&mut diffs, path_len)?)
            .map_err(|_| "JSON diff path is not UTF-8".to_owned())?;
        let legs = parse_path(path)?;
        let value = if operation == REMOVE {
            None
        } else {
            let len = take_lenenc(&mut diffs)? as usize;
            Some(binary_json(take(&mut diffs, len)?)?)
        };
        apply(&mut doc, operation, &legs, value)
            .map_err(|e| format!("JSON diff at {path}: {e}"))?;
    }
    Ok(doc.to_string())
}

/// The encoded `diffs` of the JSON column numbered `column` (1-based, in table order) as the
/// MySQL expression that computes the new value from the old one, in `mysqlbinlog -v` form:
/// one `JSON_REPLACE`/`JSON_INSERT`/`JSON_REMOVE` call per run of diffs with the same
/// operation, nested in order, on `@<column>`; paths as SQL strings; values as SQL literals
/// (numbers, `true`, `false`, `null`, strings quoted) or `CAST('<json>' AS JSON)` for objects
/// and arrays. E.g. `JSON_INSERT(JSON_REPLACE(@2, '$.a', 1, '$.b', 'x'), '$.c', CAST('[1]' AS JSON))`.
pub(crate) fn expression(column: usize, mut diffs: &[u8]) -> Result<String, String> {
    // (operation, arguments) per run of equal operations.
    let mut calls: Vec<(u8, String)> = Vec::new();
    while !diffs.is_empty() {
        let operation = take(&mut diffs, 1)?[0];
        if operation > REMOVE {
            return Err(format!("unknown JSON diff operation {operation}"));
        }
        let path_len = take_lenenc(&mut diffs)? as usize;
        let path = std::str::from_utf8(take(&mut diffs, path_len)?)
            .map_err(|_| "JSON diff path is not UTF-8".to_owned())?;
        let mut args = String::from(", ");
        sql_string(&mut args, path);
        if operation != REMOVE {
            let len = take_lenenc(&mut diffs)? as usize;
            let value = binary_json(take(&mut diffs, len)?)?;
            args.push_str(", ");
            match &value {
                Json::String(s) => sql_string(&mut args, s),
                Json::Object(_) | Json::Array(_) => {
                    args.push_str("CAST(");
                    sql_string(&mut args, &value.to_string());
                    args.push_str(" AS JSON)");
                }
                other => args.push_str(&other.to_string()),
            }
        }
        match calls.last_mut() {
            Some((op, list)) if *op == operation => list.push_str(&args),
            _ => calls.push((operation, args)),
        }
    }
    if calls.is_empty() {
        return Err("partial JSON update without diffs".into());
    }
    let mut out = String::new();
    for (operation, _) in calls.iter().rev() {
        out.push_str(match *operation {
            REPLACE => "JSON_REPLACE(",
            INSERT => "JSON_INSERT(",
            _ => "JSON_REMOVE(",
        });
    }
    out.push('@');
    out.push_str(&column.to_string());
    for (_, args) in &calls {
        out.push_str(args);
        out.push(')');
    }
    Ok(out)
}

/// Appends `s` as a single-quoted SQL string literal.
fn sql_string(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// MySQL binary JSON to a `serde_json` value.
pub(crate) fn binary_json(bytes: &[u8]) -> Result<Json, String> {
    if bytes.is_empty() {
        return Ok(Json::Null);
    }
    let value = jsonb::Value::deserialize((), &mut ParseBuf(bytes))
        .map_err(|e| format!("binary JSON: {e}"))?;
    check_binary_json(&value, 0).map_err(|e| format!("binary JSON: {e}"))?;
    let dom = value.parse().map_err(|e| format!("binary JSON: {e}"))?;
    Ok(dom.into())
}

/// An opaque DECIMAL (precision, scale, then the value in MySQL's binary format) as
/// `Decimal::read_packed` reads it: a scale above the precision underflows `decimal_bin_size`, and
/// a digit group outside its range overflows the multiplication that scales the last group.
/// Both are errors here; a value too short is left to the parser, which reports it.
fn check_opaque_decimal(data: &[u8]) -> Result<(), String> {
    let [precision, scale, digits @ ..] = data else {
        return Ok(());
    };
    let (p, s) = (usize::from(*precision), usize::from(*scale));
    if s > p {
        return Err(format!("DECIMAL({p},{s}): scale above precision"));
    }
    let Some(bytes) = digits.get(..decimal_bin_size(p, s)) else {
        return Ok(());
    };
    // Groups of 9 digits in 4 bytes, the leading and trailing partial groups in fewer; the first
    // bit is the sign, and a negative value has every bit inverted.
    let negative = bytes.first().is_some_and(|b| b & 0x80 == 0);
    let (intg, frac) = (p - s, s);
    let mut groups = Vec::new();
    groups.extend((intg % 9 > 0).then_some(intg % 9));
    groups.extend(std::iter::repeat_n(9, intg / 9 + frac / 9));
    groups.extend((frac % 9 > 0).then_some(frac % 9));
    let mut at = 0;
    for digits in groups {
        let len = usize::from(DIG_TO_BYTES[digits]);
        let mut raw = bytes[at..at + len].to_vec();
        if at == 0 {
            raw[0] ^= 0x80;
        }
        at += len;
        let signed = if raw[0] & 0x80 != 0 { -1i64 } else { 0 };
        let mut x = raw.iter().fold(signed, |acc, b| acc << 8 | i64::from(*b));
        if negative {
            x = !x;
        }
        if !(0..10i64.pow(digits as u32)).contains(&x) {
            return Err(format!(
                "DECIMAL({p},{s}): a group of {digits} digits holds {x}"
            ));
        }
    }
    Ok(())
}

/// MySQL's limit on the nesting of a JSON document.
const MAX_JSON_DEPTH: usize = 100;

/// Checks what `jsonb::Value::parse` trusts, before it runs: an opaque DECIMAL's scale is at
/// most its precision (`decimal_bin_size` subtracts them: an overflow panic, or in a release
/// build a wrapped size that is allocated), and nesting stays within MySQL's depth limit
/// (`parse` recurses). Found by the `binlog_file` fuzz target.
fn check_binary_json(value: &jsonb::Value<'_>, depth: usize) -> Result<(), String> {
    use jsonb::Value as V;
    if depth > MAX_JSON_DEPTH {
        return Err(format!("nested deeper than {MAX_JSON_DEPTH} levels"));
    }
    let check = |value: std::io::Result<jsonb::Value<'_>>| {
        check_binary_json(&value.map_err(|e| e.to_string())?, depth + 1)
    };
    match value {
        V::Opaque(opaque) if opaque.value_type() == ColumnType::MYSQL_TYPE_NEWDECIMAL => {
            check_opaque_decimal(opaque.data_raw())?;
        }
        V::SmallArray(array) => array.iter().try_for_each(check)?,
        V::LargeArray(array) => array.iter().try_for_each(check)?,
        V::SmallObject(object) => object.iter().try_for_each(|e| check(e.map(|(_, v)| v)))?,
        V::LargeObject(object) => object.iter().try_for_each(|e| check(e.map(|(_, v)| v)))?,
        _ => {}
    }
    Ok(())
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if buf.len() < n {
        return Err("JSON diff ends early".into());
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

fn take_lenenc(buf: &mut &[u8]) -> Result<u64, String> {
    let le = |b: &[u8]| b.iter().rev().fold(0u64, |acc, x| acc << 8 | u64::from(*x));
    Ok(match take(buf, 1)?[0] {
        0xfc => le(take(buf, 2)?),
        0xfd => le(take(buf, 3)?),
        0xfe => le(take(buf, 8)?),
        b => u64::from(b),
    })
}

fn parse_path(path: &str) -> Result<Vec<Leg>, String> {
    let bad = |why: &str| format!("JSON path {path:?}: {why}");
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| bad("no leading $"))?;
    let chars: Vec<char> = rest.chars().collect();
    let mut legs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let mut key = String::new();
                if chars.get(i) == Some(&'"') {
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            i += 1;
                        }
                        key.push(chars[i]);
                        i += 1;
                    }
                    if i >= chars.len() {
                        return Err(bad("unterminated quoted key"));
                    }
                    i += 1;
                } else {
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        key.push(chars[i]);
                        i += 1;
                    }
                }
                legs.push(Leg::Member(key));
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|c| *c == ']')
                    .ok_or_else(|| bad("unterminated ["))?;
                let index: String = chars[i + 1..i + end].iter().collect();
                let index = index
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| bad("array index is not a number"))?;
                legs.push(Leg::Index(index));
                i += end + 1;
            }
            c if c.is_whitespace() => i += 1,
            _ => return Err(bad("unexpected character")),
        }
    }
    Ok(legs)
}

fn apply(doc: &mut Json, operation: u8, legs: &[Leg], value: Option<Json>) -> Result<(), String> {
    let Some((last, parents)) = legs.split_last() else {
        return match (operation, value) {
            (REPLACE, Some(v)) => {
                *doc = v;
                Ok(())
            }
            _ => Err("cannot insert or remove the whole document".into()),
        };
    };
    let mut target = doc;
    for leg in parents {
        target = match (leg, target) {
            (Leg::Member(key), Json::Object(map)) => map
                .get_mut(key)
                .ok_or_else(|| format!("no member {key:?}"))?,
            (Leg::Index(i), Json::Array(items)) => {
                items.get_mut(*i).ok_or_else(|| format!("no element {i}"))?
            }
            _ => return Err("path does not exist in the before image".into()),
        };
    }
    match (operation, last, target, value) {
        (REPLACE | INSERT, Leg::Member(key), Json::Object(map), Some(v)) => {
            map.insert(key.clone(), v);
        }
        (REPLACE, Leg::Index(i), Json::Array(items), Some(v)) => {
            let slot = items.get_mut(*i).ok_or_else(|| format!("no element {i}"))?;
            *slot = v;
        }
        (INSERT, Leg::Index(i), Json::Array(items), Some(v)) => {
            let at = (*i).min(items.len());
            items.insert(at, v);
        }
        (REMOVE, Leg::Member(key), Json::Object(map), None) => {
            map.remove(key);
        }
        (REMOVE, Leg::Index(i), Json::Array(items), None) => {
            if *i < items.len() {
                items.remove(*i);
            }
        }
        (op, _, _, _) => return Err(format!("operation {op} does not fit the before image")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing (panic): an opaque DECIMAL in binary JSON (type 0x0f, column type 0xf6, length,
    /// precision, scale, digits) whose scale exceeds its precision.
    #[test]
    fn opaque_decimal_with_scale_above_precision_is_an_error() {
        assert_eq!(
            binary_json(&[0x0f, 0xf6, 0x03, 1, 0, 0x81]).unwrap(),
            serde_json::json!("1")
        );
        let error = binary_json(&[0x0f, 0xf6, 0x03, 2, 5, 0x80]).unwrap_err();
        assert!(error.contains("DECIMAL(2,5)"), "{error}");
        // Inside an array: [DECIMAL(2,5)], the opaque value stored after the one entry.
        let array = [0x02, 1, 0, 12, 0, 0x0f, 7, 0, 0xf6, 0x03, 2, 5, 0x80];
        let error = binary_json(&array).unwrap_err();
        assert!(error.contains("DECIMAL(2,5)"), "{error}");
    }

    /// Fuzzing (panic): the last digit group of an opaque DECIMAL out of its range (127 in a
    /// 1-digit group) overflowed `x * 10^8` in `Decimal::read_bin`.
    #[test]
    fn opaque_decimal_digits_out_of_range_are_an_error() {
        let opaque = |bytes: &[u8]| {
            let mut value = vec![0x0f, 0xf6, bytes.len() as u8];
            value.extend_from_slice(bytes);
            binary_json(&value)
        };
        // DECIMAL(5,2): 3 integer digits in 2 bytes, 2 fraction digits in 1; the sign bit set
        // for positive values, every bit inverted for negative ones.
        assert_eq!(
            opaque(&[5, 2, 0x80, 0x7b, 0x2d]).unwrap(),
            serde_json::json!("123.45")
        );
        assert_eq!(
            opaque(&[5, 2, 0x7f, 0x84, 0xd2]).unwrap(),
            serde_json::json!("-123.45")
        );
        let error = opaque(&[2, 1, 0x81, 0x7f]).unwrap_err();
        assert!(error.contains("holds 127"), "{error}");
        let error = opaque(&[5, 2, 0x80, 0x7b, 0x64]).unwrap_err();
        assert!(error.contains("holds 100"), "{error}");
        // Full 9-digit groups too (10^9 does not fit 9 digits).
        let mut big = vec![9, 0];
        big.extend_from_slice(&(1_000_000_000u32 | 0x8000_0000).to_be_bytes());
        assert!(opaque(&big).is_err());
    }

    /// Arrays nested `depth` levels around an empty array, as binary JSON.
    fn nested_arrays(depth: usize) -> Vec<u8> {
        let mut body = vec![0, 0, 4, 0];
        for _ in 0..depth {
            let size = (7 + body.len()) as u16;
            let mut outer = vec![1, 0];
            outer.extend_from_slice(&size.to_le_bytes());
            outer.extend_from_slice(&[0x02, 7, 0]);
            outer.extend_from_slice(&body);
            body = outer;
        }
        let mut value = vec![0x02];
        value.extend_from_slice(&body);
        value
    }

    #[test]
    fn nesting_deeper_than_mysql_allows_is_an_error() {
        let json = binary_json(&nested_arrays(MAX_JSON_DEPTH)).unwrap();
        assert!(json.to_string().starts_with("[[[["), "{json}");
        let error = binary_json(&nested_arrays(MAX_JSON_DEPTH + 1)).unwrap_err();
        assert!(error.contains("nested deeper"), "{error}");
    }

    fn diff(op: u8, path: &str, value: Option<&[u8]>) -> Vec<u8> {
        let mut out = vec![op, path.len() as u8];
        out.extend_from_slice(path.as_bytes());
        if let Some(v) = value {
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        }
        out
    }

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path(r#"$.a."b c"[2]"#).unwrap(),
            [
                Leg::Member("a".into()),
                Leg::Member("b c".into()),
                Leg::Index(2)
            ]
        );
        assert!(parse_path("a").is_err());
    }

    #[test]
    fn diffs_apply_in_order() {
        // Binary JSON literal: type 0x04 (literal), 0x01 = true; int16: type 0x05, LE value.
        let mut diffs = diff(REPLACE, "$.a", Some(&[0x05, 7, 0]));
        diffs.extend(diff(INSERT, "$.b[0]", Some(&[0x04, 0x01])));
        diffs.extend(diff(REMOVE, "$.c", None));
        let out = apply_diffs(r#"{"a":1,"b":[2],"c":3}"#, &diffs).unwrap();
        assert_eq!(out, r#"{"a":7,"b":[true,2]}"#);
        assert!(apply_diffs("{}", &diff(REPLACE, "$.x[1]", Some(&[0x04, 1]))).is_err());
    }

    #[test]
    fn diffs_without_a_before_value_become_the_mysql_expression() {
        // int16 26; string "x'y" (type 0x0c, length 3); literal true; an empty array
        // (type 0x02 small array: count 0, size 4); REMOVE.
        assert_eq!(
            expression(2, &diff(REPLACE, "$.age", Some(&[0x05, 26, 0]))).unwrap(),
            "JSON_REPLACE(@2, '$.age', 26)"
        );
        let mut diffs = diff(REPLACE, "$.a", Some(&[0x05, 1, 0]));
        diffs.extend(diff(REPLACE, "$.b", Some(&[0x0c, 3, b'x', b'\'', b'y'])));
        diffs.extend(diff(INSERT, "$.c", Some(&[0x02, 0, 0, 4, 0])));
        diffs.extend(diff(INSERT, "$.d", Some(&[0x04, 0x01])));
        diffs.extend(diff(REMOVE, "$.e", None));
        assert_eq!(
            expression(3, &diffs).unwrap(),
            "JSON_REMOVE(JSON_INSERT(JSON_REPLACE(@3, '$.a', 1, '$.b', 'x\\'y'), \
             '$.c', CAST('[]' AS JSON), '$.d', true), '$.e')"
        );
        assert!(expression(1, &[]).is_err());
        assert!(expression(1, &[7, 1, b'$']).is_err());
    }
}
