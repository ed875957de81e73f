//! Path templates: where in the output tree an event's file goes.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, Timelike};

use crate::event::ChangeEvent;

/// Table directory used for DDL statements that name no single table.
const DDL_TABLE_DIR: &str = "_ddl";
/// Database directory used for statements run with no default database.
const NO_DB_DIR: &str = "_nodb";
/// Directory used for `{route}` when no transform routed the event.
pub const DEFAULT_ROUTE_DIR: &str = "_default";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Db,
    Table,
    Date,
    Hour,
    Route,
}

/// A parsed template such as `{db}/{table}/dt={date}`. Placeholders: `{db}`, `{table}`,
/// `{date}` (`YYYY-MM-DD` of the commit time, UTC), `{hour}` (`HH`, UTC) and `{route}` (the
/// output partition a transform set for the event, [`DEFAULT_ROUTE_DIR`] when it set none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    parts: Vec<Part>,
}

impl PathTemplate {
    /// Parses a template; the error says which placeholder is unknown.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in {template:?}"))?;
            let name = &rest[open + 1..open + close];
            parts.push(match name {
                "db" => Part::Db,
                "table" => Part::Table,
                "date" => Part::Date,
                "hour" => Part::Hour,
                "route" => Part::Route,
                other => {
                    return Err(format!(
                        "unknown placeholder {{{other}}}; use {{db}}, {{table}}, {{date}}, \
                         {{hour}}, {{route}}"
                    ));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        if template.split('/').any(|seg| seg == "..") || template.starts_with('/') {
            return Err(format!(
                "{template:?} must be relative and must not contain `..`"
            ));
        }
        Ok(Self { parts })
    }

    /// Whether the template uses `{route}`.
    pub fn uses_route(&self) -> bool {
        self.parts.contains(&Part::Route)
    }

    /// The relative directory for `event`, routed to `route` by a transform (or not: `None`).
    /// A route may contain `/` to make several directory levels; each level is made safe as a
    /// path component like db and table names.
    pub fn render(&self, event: &ChangeEvent, route: Option<&str>) -> PathBuf {
        let time = DateTime::from_timestamp_millis(event.ts_ms as i64).unwrap_or_default();
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Db if event.db.is_empty() => out.push_str(NO_DB_DIR),
                Part::Db => push_component(&mut out, &event.db),
                Part::Table if event.table.is_empty() => out.push_str(DDL_TABLE_DIR),
                Part::Table => push_component(&mut out, &event.table),
                Part::Date => {
                    let _ = write!(
                        out,
                        "{:04}-{:02}-{:02}",
                        time.year(),
                        time.month(),
                        time.day()
                    );
                }
                Part::Hour => {
                    let _ = write!(out, "{:02}", time.hour());
                }
                Part::Route => match route.filter(|r| !r.is_empty()) {
                    None => out.push_str(DEFAULT_ROUTE_DIR),
                    Some(r) => {
                        for (i, level) in r.split('/').filter(|l| !l.is_empty()).enumerate() {
                            if i > 0 {
                                out.push('/');
                            }
                            push_component(&mut out, level);
                        }
                    }
                },
            }
        }
        PathBuf::from(out)
    }
}

/// Appends a database or table name as one safe path component: `/`, `\`, NUL and `%` are
/// percent-encoded, and `.`/`..` cannot occur as a whole component.
fn push_component(out: &mut String, name: &str) {
    if name == "." || name == ".." {
        let _ = write!(out, "%2E{}", &name.get(1..).unwrap_or(""));
        return;
    }
    for c in name.chars() {
        match c {
            '/' | '\\' | '\0' | '%' => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::event::{EventPosition, Op};

    fn event(db: &str, table: &str, ts_ms: u64) -> ChangeEvent {
        ChangeEvent {
            op: Op::Insert,
            db: db.into(),
            table: table.into(),
            ts_ms,
            pos: EventPosition {
                file: "f.000001".into(),
                offset: 4,
                row: 0,
                gtid: None,
            },
            columns: Arc::from(Vec::new()),
            before: None,
            after: Some(Vec::new()),
            sql: None,
        }
    }

    #[test]
    fn renders_default_layout() {
        let t = PathTemplate::parse("{db}/{table}/dt={date}/h={hour}").unwrap();
        // 2024-11-24T08:30:00Z
        let p = t.render(&event("shop", "orders", 1_732_437_000_000), None);
        assert_eq!(p, PathBuf::from("shop/orders/dt=2024-11-24/h=08"));
        assert_eq!(
            t.render(&event("a/b", "", 0), None),
            PathBuf::from("a%2Fb/_ddl/dt=1970-01-01/h=00")
        );
        assert_eq!(
            t.render(&event("..", "x", 0), None),
            PathBuf::from("%2E./x/dt=1970-01-01/h=00")
        );
    }

    #[test]
    fn renders_routes_as_safe_components() {
        let t = PathTemplate::parse("{route}/{table}").unwrap();
        let e = event("shop", "orders", 0);
        assert!(t.uses_route());
        assert_eq!(t.render(&e, None), PathBuf::from("_default/orders"));
        assert_eq!(t.render(&e, Some("")), PathBuf::from("_default/orders"));
        assert_eq!(
            t.render(&e, Some("country=NL/x")),
            PathBuf::from("country=NL/x/orders")
        );
        assert_eq!(
            t.render(&e, Some("../..")),
            PathBuf::from("%2E./%2E./orders")
        );
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(PathTemplate::parse("{nope}").is_err());
        assert!(PathTemplate::parse("{db").is_err());
        assert!(PathTemplate::parse("../{db}").is_err());
        assert!(PathTemplate::parse("/abs/{db}").is_err());
    }
}
