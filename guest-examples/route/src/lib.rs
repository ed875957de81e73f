//! Routes events to output partitions (the `{partition}` of the sink's path template).
//!
//! Config (JSON):
//! ```json
//! {"template": "{db}/{table}/country={col:country}/dt={date}", "missing": "_null",
//!  "tables": ["shop.*"]}
//! ```
//! Placeholders: `{db}`, `{table}`, `{op}`, `{col:NAME}` (the column's value in the row's
//! current image: `after`, or `before` for deletes), `{date}` and `{hour}` (commit time in
//! UTC, `YYYY-MM-DD` and `HH`). `{{` and `}}` are literal braces. A NULL or missing column
//! gives `missing` (default `_null`). Substituted values are made path-safe: characters
//! other than letters, digits, `-`, `_`, `.` and `=` become `_`, and `.`/`..` become `_`.
//!
//! `tables` limits routing to matching tables; other events keep the default partition.
//! A template without `{col:..}`, `{date}` or `{hour}` is evaluated once per table and op of
//! the batch, not per event.

use serde::Deserialize;
use wproc_sdk::{Batch, Error, EventRef, Result, Timestamp, Transform, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    template: String,
    #[serde(default = "default_missing")]
    missing: String,
    #[serde(default)]
    tables: Vec<String>,
}

fn default_missing() -> String {
    "_null".to_owned()
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Db,
    Table,
    Op,
    Col(String),
    Date,
    Hour,
}

fn parse_template(t: &str) -> Result<Vec<Part>> {
    let bad = |m: &str| Error::InvalidInput(format!("config: template {t:?}: {m}"));
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{") || rest.starts_with("}}") {
            lit.push(c);
            rest = &rest[2..];
        } else if c == '{' {
            let end = rest.find('}').ok_or_else(|| bad("unclosed `{`"))?;
            let name = &rest[1..end];
            let part = match name {
                "db" => Part::Db,
                "table" => Part::Table,
                "op" => Part::Op,
                "date" => Part::Date,
                "hour" => Part::Hour,
                _ => match name.strip_prefix("col:") {
                    Some(col) if !col.is_empty() => Part::Col(col.to_owned()),
                    _ => return Err(bad(&format!("unknown placeholder {{{name}}}"))),
                },
            };
            parts.push(Part::Lit(std::mem::take(&mut lit)));
            parts.push(part);
            rest = &rest[end + 1..];
        } else if c == '}' {
            return Err(bad("unmatched `}`"));
        } else {
            lit.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    parts.push(Part::Lit(lit));
    parts.retain(|p| *p != Part::Lit(String::new()));
    Ok(parts)
}

/// Makes a substituted value safe as one path segment.
fn path_safe(s: &str) -> String {
    if s == "." || s == ".." {
        return "_".to_owned();
    }
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '=');
    s.chars().map(|c| if ok(c) { c } else { '_' }).collect()
}

/// The route transform.
pub struct Route {
    parts: Vec<Part>,
    per_event: bool,
    missing: String,
    tables: Vec<String>,
}

impl Route {
    fn render(&self, e: &EventRef<'_>) -> String {
        let mut out = String::new();
        let utc = || {
            Timestamp {
                seconds: (e.ts_ms() / 1000) as i64,
                micros: 0,
                fsp: 0,
            }
            .to_utc()
        };
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Db => out.push_str(&path_safe(e.db())),
                Part::Table => out.push_str(&path_safe(e.table())),
                Part::Op => out.push_str(e.op().as_str()),
                Part::Col(name) => match e.get(name) {
                    None | Some(Value::Null) => out.push_str(&path_safe(&self.missing)),
                    Some(v) => out.push_str(&path_safe(&v.to_string())),
                },
                Part::Date => {
                    let d = utc();
                    out.push_str(&format!("{:04}-{:02}-{:02}", d.year, d.month, d.day));
                }
                Part::Hour => out.push_str(&format!("{:02}", utc().hour)),
            }
        }
        out
    }
}

impl Transform for Route {
    fn init(config: &str) -> Result<Self> {
        let c: Config = wproc_sdk::config::json(config)?;
        let parts = parse_template(&c.template)?;
        let per_event = parts
            .iter()
            .any(|p| matches!(p, Part::Col(_) | Part::Date | Part::Hour));
        Ok(Route {
            parts,
            per_event,
            missing: c.missing,
            tables: c.tables,
        })
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut wproc_sdk::Output) -> Result<()> {
        let in_scope: Vec<bool> = batch
            .tables()
            .iter()
            .map(|t| self.tables.is_empty() || self.tables.iter().any(|p| t.matches(p)))
            .collect();
        // (table id, op) -> partition, for templates that do not look at the event itself.
        let mut cache: Vec<Option<String>> = vec![None; batch.tables().len() * 4];
        for e in batch.events() {
            if !in_scope[e.table_id()] {
                out.keep(&e);
                continue;
            }
            let partition = if self.per_event {
                self.render(&e)
            } else {
                let slot = &mut cache[e.table_id() * 4 + e.op() as usize];
                slot.get_or_insert_with(|| self.render(&e)).clone()
            };
            out.keep(&e).partition(partition);
        }
        Ok(())
    }
}

wproc_sdk::export_transform!(Route);

#[cfg(test)]
mod tests {
    use wproc_sdk::testing::Harness;

    use super::{Part, Route, parse_template, path_safe};

    const INPUT: &str = r#"{"op":"insert","db":"shop","table":"orders","ts_ms":1704164645000,"after":{"id":1,"country":"NL"}}
{"op":"delete","db":"shop","table":"orders","ts_ms":1704164645000,"before":{"id":2,"country":"a/../b"}}
{"op":"update","db":"shop","table":"orders","ts_ms":1704164645000,"before":{"id":3,"country":"BE"},"after":{"id":3,"country":null}}
{"op":"insert","db":"crm","table":"leads","ts_ms":1704164645000,"after":{"id":4}}"#;

    fn partitions(config: &str) -> Vec<Option<String>> {
        let out = Harness::<Route>::new(config)
            .unwrap()
            .process_jsonl(INPUT)
            .unwrap();
        out.partitions()
            .into_iter()
            .map(|p| p.map(str::to_owned))
            .collect()
    }

    #[test]
    fn by_column_and_commit_time() {
        let p = partitions(
            r#"{"template": "{table}/country={col:country}/dt={date}/h={hour}", "tables": ["shop.*"]}"#,
        );
        assert_eq!(
            p,
            [
                Some("orders/country=NL/dt=2024-01-02/h=03".to_owned()),
                Some("orders/country=a_.._b/dt=2024-01-02/h=03".to_owned()),
                Some("orders/country=_null/dt=2024-01-02/h=03".to_owned()),
                None,
            ]
        );
    }

    #[test]
    fn by_table_is_cached_per_table_and_op() {
        let p = partitions(r#"{"template": "{db}.{table}-{op}"}"#);
        assert_eq!(p[0].as_deref(), Some("shop.orders-insert"));
        assert_eq!(p[1].as_deref(), Some("shop.orders-delete"));
        assert_eq!(p[3].as_deref(), Some("crm.leads-insert"));
    }

    #[test]
    fn template_parsing() {
        assert_eq!(
            parse_template("a{{b}}/{col:x}").unwrap(),
            [Part::Lit("a{b}/".into()), Part::Col("x".into())]
        );
        for bad in ["{nope}", "{col:}", "x{table", "x}"] {
            assert!(parse_template(bad).is_err(), "{bad}");
        }
        assert_eq!(path_safe(".."), "_");
        assert_eq!(path_safe("São Paulo"), "São_Paulo");
        assert!(Harness::<Route>::new("").is_err(), "template is required");
    }
}
