//! The guest examples, run by the host runtime: exact output lines.

mod common;

use common::{batch, cache_dir, events, lines, settings};
use wproc::runtime::wasm::TransformChain;

const INPUT: &str = r#"{"op":"insert","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1,"name":"Ann","email":"a@b.c","phone":"0612345678","country":"NL"}}
{"op":"update","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":1,"gtid":null},"before":{"id":2,"name":"Bo","email":"b@c.d","phone":null,"country":"BE"},"after":{"id":2,"name":"Bob","email":"b@c.d","phone":null,"country":"BE"}}
{"op":"delete","db":"shop","table":"orders","ts_ms":1700000001000,"pos":{"file":"b.000001","offset":90,"row":0,"gtid":null},"before":{"id":7,"user_id":1},"after":null}
{"op":"insert","db":"crm","table":"audit_log","ts_ms":1700000002000,"pos":{"file":"b.000001","offset":120,"row":0,"gtid":null},"before":null,"after":{"id":9}}"#;

fn input(i: usize) -> String {
    INPUT.lines().nth(i).unwrap().to_owned()
}

fn run(name: &str, config: &str) -> Vec<String> {
    let chain = TransformChain::load(&[settings(name, config, &cache_dir())]).unwrap();
    let mut b = batch(0, events(INPUT));
    let report = chain.run_blocking(&mut b).unwrap();
    assert!(report.failed.is_none() && report.rejected.is_empty());
    lines(&b)
}

#[test]
fn passthrough_keeps_everything_unchanged() {
    let expected: Vec<String> = INPUT.lines().map(str::to_owned).collect();
    assert_eq!(run("passthrough", ""), expected);
}

#[test]
fn filter_keeps_tables_and_ops() {
    assert_eq!(
        run(
            "filter",
            r#"{"tables": ["shop.*"], "ops": ["insert", "update"]}"#
        ),
        [input(0), input(1)]
    );
    assert_eq!(
        run("filter", r#"{"exclude_tables": ["users"]}"#),
        [input(2), input(3)]
    );
}

#[test]
fn mask_redacts_and_truncates() {
    let out = run(
        "mask",
        r#"{"columns": {"email": "redact", "phone": "last4"}, "tables": ["shop.users"]}"#,
    );
    assert_eq!(
        out,
        [
            r#"{"op":"insert","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1,"name":"Ann","email":"***","phone":"******5678","country":"NL"}}"#.to_owned(),
            r#"{"op":"update","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":1,"gtid":null},"before":{"id":2,"name":"Bo","email":"***","phone":null,"country":"BE"},"after":{"id":2,"name":"Bob","email":"***","phone":null,"country":"BE"}}"#.to_owned(),
            input(2),
            input(3),
        ]
    );
}

#[test]
fn project_keeps_and_renames_columns() {
    let out = run(
        "project",
        r#"{"tables": ["shop.users"], "keep": ["id", "name"], "rename": {"name": "full_name"}}"#,
    );
    assert_eq!(
        out,
        [
            r#"{"op":"insert","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1,"full_name":"Ann"}}"#.to_owned(),
            r#"{"op":"update","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":1,"gtid":null},"before":{"id":2,"full_name":"Bo"},"after":{"id":2,"full_name":"Bob"}}"#.to_owned(),
            input(2),
            input(3),
        ]
    );
}

#[test]
fn route_sets_partitions() {
    let out = run(
        "route",
        r#"{"template": "{table}/country={col:country}", "tables": ["shop.*"]}"#,
    );
    let with_route = |i: usize, r: &str| {
        let l = input(i);
        format!("{},\"route\":\"{r}\"}}", &l[..l.len() - 1])
    };
    assert_eq!(
        out,
        [
            with_route(0, "users/country=NL"),
            with_route(1, "users/country=BE"),
            with_route(2, "orders/country=_null"),
            input(3),
        ]
    );
}

#[test]
fn enrich_adds_columns() {
    let out = run(
        "enrich",
        r#"{"columns": [{"name": "_op", "kind": "op"}, {"name": "_src", "kind": "const", "value": "eu-1"}], "tables": ["shop.*"]}"#,
    );
    assert_eq!(
        out,
        [
            r#"{"op":"insert","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1,"name":"Ann","email":"a@b.c","phone":"0612345678","country":"NL","_op":"insert","_src":"eu-1"}}"#.to_owned(),
            r#"{"op":"update","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":1,"gtid":null},"before":{"id":2,"name":"Bo","email":"b@c.d","phone":null,"country":"BE","_op":"update","_src":"eu-1"},"after":{"id":2,"name":"Bob","email":"b@c.d","phone":null,"country":"BE","_op":"update","_src":"eu-1"}}"#.to_owned(),
            r#"{"op":"delete","db":"shop","table":"orders","ts_ms":1700000001000,"pos":{"file":"b.000001","offset":90,"row":0,"gtid":null},"before":{"id":7,"user_id":1,"_op":"delete","_src":"eu-1"},"after":null}"#.to_owned(),
            input(3),
        ]
    );
}

#[test]
fn chained_transforms_run_in_order() {
    let cache = cache_dir();
    let chain = TransformChain::load(&[
        settings("filter", r#"{"tables": ["shop.users"]}"#, &cache),
        settings("route", r#"{"template": "{table}/{op}"}"#, &cache),
        settings("project", r#"{"keep": ["id"]}"#, &cache),
    ])
    .unwrap();
    let mut b = batch(0, events(INPUT));
    chain.run_blocking(&mut b).unwrap();
    assert_eq!(
        lines(&b),
        [
            r#"{"op":"insert","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1},"route":"users/insert"}"#,
            r#"{"op":"update","db":"shop","table":"users","ts_ms":1700000000000,"pos":{"file":"b.000001","offset":4,"row":1,"gtid":null},"before":{"id":2},"after":{"id":2},"route":"users/update"}"#,
        ]
    );
}
