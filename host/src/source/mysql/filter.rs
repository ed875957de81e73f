//! `[source.mysql.filter]`: which tables, operations and columns capture keeps.
//!
//! Tables are matched by their `db.table` name against regular expressions (the `regex` crate's
//! syntax). A pattern must match the whole name: `shop\..*` keeps every table of `shop`,
//! `shop\.orders` only that table. A table is kept when it matches an `include` pattern (or
//! `include` is empty) and no `exclude` pattern. A DDL statement is matched by the table it
//! names; a statement that names no table (`CREATE DATABASE x`, `CREATE VIEW ...`) is matched as
//! `db.` (its database, a dot, an empty table name).
//!
//! Filtered events never reach the transport, but they still move the checkpoint: a
//! transaction whose every event was filtered out ends in an empty batch that carries the
//! checkpoint after it. Rows of excluded tables are not even decoded.

use regex::{Regex, RegexSet};
use serde::Deserialize;

use crate::config::InvalidField;
use crate::event::Op;

const fn yes() -> bool {
    true
}

/// `[source.mysql.filter]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Regular expressions on `db.table` (whole-name match); when not empty, only matching
    /// tables are captured. Default: every table.
    #[serde(default)]
    pub include: Vec<String>,
    /// Regular expressions on `db.table` (whole-name match) of tables never captured, even when
    /// `include` matches them.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Capture inserted rows. Default true.
    #[serde(default = "yes")]
    pub insert: bool,
    /// Capture updated rows. Default true.
    #[serde(default = "yes")]
    pub update: bool,
    /// Capture deleted rows. Default true.
    #[serde(default = "yes")]
    pub delete: bool,
    /// Capture DDL statements as `ddl` events. Default true.
    #[serde(default = "yes")]
    pub ddl: bool,
    /// Columns left out of the row images, per table pattern, e.g.
    /// `[[source.mysql.filter.exclude_columns]] tables = "shop\\.users"  columns = ["password"]`.
    #[serde(default)]
    pub exclude_columns: Vec<ExcludeColumns>,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self {
            include: Vec::new(),
            exclude: Vec::new(),
            insert: true,
            update: true,
            delete: true,
            ddl: true,
            exclude_columns: Vec::new(),
        }
    }
}

/// One `[[source.mysql.filter.exclude_columns]]` rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludeColumns {
    /// Regular expression on `db.table` (whole-name match) of the tables the rule applies to.
    pub tables: String,
    /// Column names removed from the before and after images (exact, case-insensitive as in
    /// MySQL).
    pub columns: Vec<String>,
}

/// A compiled [`FilterConfig`].
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    include: Option<RegexSet>,
    exclude: Option<RegexSet>,
    insert: bool,
    update: bool,
    delete: bool,
    ddl: bool,
    columns: Vec<(Regex, Vec<String>)>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter::compile(&FilterConfig::default()).expect("the empty filter compiles")
    }
}

fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

fn regex_set(field: &str, patterns: &[String]) -> Result<Option<RegexSet>, InvalidField> {
    if patterns.is_empty() {
        return Ok(None);
    }
    RegexSet::new(patterns.iter().map(|p| anchored(p)))
        .map(Some)
        .map_err(|e| InvalidField::new(field, format!("invalid regular expression: {e}")))
}

impl Filter {
    /// Compiles the patterns; an invalid one is a config error naming the field.
    pub fn compile(config: &FilterConfig) -> Result<Self, InvalidField> {
        let columns = config
            .exclude_columns
            .iter()
            .map(|rule| {
                Regex::new(&anchored(&rule.tables))
                    .map(|re| {
                        let names = rule.columns.iter().map(|c| c.to_lowercase()).collect();
                        (re, names)
                    })
                    .map_err(|e| {
                        InvalidField::new(
                            "source.mysql.filter.exclude_columns.tables",
                            format!("invalid regular expression: {e}"),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            include: regex_set("source.mysql.filter.include", &config.include)?,
            exclude: regex_set("source.mysql.filter.exclude", &config.exclude)?,
            insert: config.insert,
            update: config.update,
            delete: config.delete,
            ddl: config.ddl,
            columns,
        })
    }

    /// Whether events of `db.table` are captured at all.
    pub fn table(&self, db: &str, table: &str) -> bool {
        let name = format!("{db}.{table}");
        self.include.as_ref().is_none_or(|set| set.is_match(&name))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(&name))
    }

    /// Whether events of this operation are captured.
    pub fn op(&self, op: Op) -> bool {
        match op {
            Op::Insert => self.insert,
            Op::Update => self.update,
            Op::Delete => self.delete,
            Op::Ddl => self.ddl,
        }
    }

    /// Whether a column of `db.table` is removed from the images.
    pub fn column_excluded(&self, db: &str, table: &str, column: &str) -> bool {
        if self.columns.is_empty() {
            return false;
        }
        let name = format!("{db}.{table}");
        let column = column.to_lowercase();
        self.columns
            .iter()
            .any(|(re, columns)| re.is_match(&name) && columns.contains(&column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(toml_text: &str) -> Filter {
        let config: FilterConfig = toml::from_str(toml_text).unwrap();
        Filter::compile(&config).unwrap()
    }

    #[test]
    fn include_and_exclude_match_whole_names() {
        let f = filter(
            r#"include = ['shop\..*', 'crm\.contacts']
               exclude = ['shop\.tmp_.*']"#,
        );
        assert!(f.table("shop", "orders"));
        assert!(!f.table("shop", "tmp_1"));
        assert!(f.table("crm", "contacts"));
        assert!(!f.table("crm", "contacts_old"), "patterns are anchored");
        assert!(!f.table("xshop", "orders"));
        assert!(
            f.table("shop", ""),
            "a DDL naming no table matches as `db.`"
        );
        assert!(Filter::default().table("any", "thing"));
    }

    #[test]
    fn operations_and_columns() {
        let f = filter(
            r#"delete = false
               [[exclude_columns]]
               tables = 'shop\.users'
               columns = ['Password']"#,
        );
        assert!(f.op(Op::Insert) && f.op(Op::Update) && f.op(Op::Ddl));
        assert!(!f.op(Op::Delete));
        assert!(f.column_excluded("shop", "users", "PASSWORD"));
        assert!(!f.column_excluded("shop", "users", "name"));
        assert!(!f.column_excluded("shop", "admins", "password"));
    }

    #[test]
    fn bad_pattern_names_the_field() {
        let config: FilterConfig = toml::from_str("exclude = ['(']").unwrap();
        let err = Filter::compile(&config).unwrap_err();
        assert_eq!(err.field, "source.mysql.filter.exclude");
    }
}
