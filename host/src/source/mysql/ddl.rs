//! What a DDL statement changes: the database and table it names, read from the statement.
//!
//! Only the head of the statement is read, far enough to find the first table name of
//! `CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS]`, `ALTER [ONLINE] [IGNORE] TABLE`,
//! `DROP [TEMPORARY] TABLE [IF EXISTS]`, `RENAME TABLE`, `TRUNCATE [TABLE]`, and the database of
//! `CREATE/ALTER/DROP DATABASE|SCHEMA`. Comments (`/* */`, `-- `, `#`) and MySQL's versioned
//! comments (`/*!50100 ... */`, whose content counts) are skipped. A statement that names several
//! tables (`DROP TABLE a, b`, `RENAME TABLE a TO b, c TO d`) reports the first; all tables it
//! names are in [`DdlTarget::tables`] so the schema tracker refreshes each of them.

/// The objects a DDL statement changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DdlTarget {
    /// Every `(db, table)` named, `db` from the statement or else the session's default schema.
    pub tables: Vec<(String, String)>,
    /// A database created, altered or dropped (`CREATE DATABASE x`).
    pub database: Option<String>,
}

/// Reads the target of `sql`; `default_db` is the QUERY event's schema.
pub(crate) fn parse_target(sql: &str, default_db: &str) -> DdlTarget {
    let tokens = tokenize(sql, 64);
    let upper: Vec<String> = tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) => w.to_ascii_uppercase(),
            Token::Quoted(_) => String::new(),
            Token::Punct(c) => c.to_string(),
        })
        .collect();
    let kw = |i: usize, word: &str| upper.get(i).is_some_and(|u| u == word);
    let mut i = 0;
    let verb = upper.first().cloned().unwrap_or_default();
    i += 1;
    let mut target = DdlTarget::default();
    let skip = |i: &mut usize, words: &[&str]| {
        while words.iter().any(|w| kw(*i, w)) {
            *i += 1;
        }
    };
    match verb.as_str() {
        "CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE" => {}
        _ => return target,
    }
    // CREATE OR REPLACE ...
    if kw(i, "OR") && kw(i + 1, "REPLACE") {
        i += 2;
    }
    skip(
        &mut i,
        &["TEMPORARY", "ONLINE", "OFFLINE", "IGNORE", "DEFINER"],
    );
    if kw(i, "DATABASE") || kw(i, "SCHEMA") {
        i += 1;
        skip(&mut i, &["IF", "NOT", "EXISTS"]);
        target.database = name_at(&tokens, i).map(|(name, _)| name);
        return target;
    }
    let table_keyword = kw(i, "TABLE") || kw(i, "TABLES");
    if table_keyword {
        i += 1;
    } else if verb != "TRUNCATE" {
        return target;
    }
    skip(&mut i, &["IF", "NOT", "EXISTS"]);
    // Names: `a`, `db`.`a`, separated by commas (DROP) or `a TO b` pairs (RENAME).
    while let Some((first, next)) = name_at(&tokens, i) {
        let (db, table) = match (tokens.get(next), name_at(&tokens, next + 1)) {
            (Some(Token::Punct('.')), Some((table, after))) => {
                i = after;
                (first, table)
            }
            _ => {
                i = next;
                (default_db.to_owned(), first)
            }
        };
        target.tables.push((db, table));
        if verb == "RENAME" && kw(i, "TO") {
            i += 1;
            continue;
        }
        if (verb == "DROP" || verb == "RENAME") && matches!(tokens.get(i), Some(Token::Punct(',')))
        {
            i += 1;
            continue;
        }
        break;
    }
    target
}

/// A name (bare word or back-quoted) at `i`, and the index after it.
fn name_at(tokens: &[Token], i: usize) -> Option<(String, usize)> {
    match tokens.get(i)? {
        Token::Word(w) => Some((w.clone(), i + 1)),
        Token::Quoted(q) => Some((q.clone(), i + 1)),
        Token::Punct(_) => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Punct(char),
}

/// The first `limit` tokens of `sql`, comments skipped.
fn tokenize(sql: &str, limit: usize) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() && tokens.len() < limit {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('*') {
            if chars.get(i + 2) == Some(&'!') {
                // Versioned comment: its content is part of the statement.
                i += 3;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            } else {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
        } else if c == '*' && next == Some('/') {
            i += 2; // end of a versioned comment
        } else if c == '#' || (c == '-' && next == Some('-')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '`' || c == '"' {
            let mut name = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        name.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                name.push(chars[i]);
                i += 1;
            }
            i += 1;
            tokens.push(Token::Quoted(name));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(sql: &str) -> Option<(String, String)> {
        parse_target(sql, "def").tables.first().cloned()
    }

    fn pair(db: &str, table: &str) -> Option<(String, String)> {
        Some((db.to_owned(), table.to_owned()))
    }

    #[test]
    fn table_statements_name_db_and_table() {
        assert_eq!(first("CREATE TABLE t (id INT)"), pair("def", "t"));
        assert_eq!(
            first("create table if not exists `my db`.`t``x` (id int)"),
            pair("my db", "t`x")
        );
        assert_eq!(
            first("CREATE OR REPLACE TEMPORARY TABLE d.t LIKE x"),
            pair("d", "t")
        );
        assert_eq!(
            first("/* c */ ALTER ONLINE IGNORE TABLE d . t ADD c INT"),
            pair("d", "t")
        );
        assert_eq!(
            first("DROP TABLE IF EXISTS `t` /* generated by server */"),
            pair("def", "t")
        );
        assert_eq!(first("TRUNCATE TABLE x.y"), pair("x", "y"));
        assert_eq!(first("truncate y"), pair("def", "y"));
        assert_eq!(first("ALTER TABLE `t` ADD COLUMN c INT"), pair("def", "t"));
        let rename = parse_target("RENAME TABLE a TO d2.b, c TO e", "def");
        assert_eq!(
            rename.tables,
            [
                pair("def", "a"),
                pair("d2", "b"),
                pair("def", "c"),
                pair("def", "e")
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
        );
        let drop = parse_target("DROP TABLE a, d.b", "def");
        assert_eq!(drop.tables.len(), 2);
    }

    #[test]
    fn other_statements_name_no_table() {
        assert_eq!(first("CREATE INDEX i ON t (c)"), None);
        assert_eq!(first("CREATE VIEW v AS SELECT 1"), None);
        assert_eq!(first("INSERT INTO t VALUES (1)"), None);
        assert_eq!(
            parse_target("CREATE DATABASE IF NOT EXISTS `shop`", "").database,
            Some("shop".to_owned())
        );
        assert_eq!(
            first("/*!40000 ALTER TABLE `t` DISABLE KEYS */"),
            pair("def", "t")
        );
    }
}
