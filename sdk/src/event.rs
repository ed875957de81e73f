//! Owned change events and the column edits that a transform can apply to kept events.
//!
//! [`ChangeEvent`] is a whole record, as the WIT `change-event`: used to replace or add events,
//! and by the native test harness. Reading a batch does not need it: see [`crate::EventRef`].
//!
//! The editing methods ([`ChangeEvent::set_value`], [`ChangeEvent::remove_column`],
//! [`ChangeEvent::rename_column`]) are the reference semantics of the WIT `edit` variant;
//! the host applies edits to kept events the same way.

use std::fmt;

use crate::Value;

/// The kind of change an event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// A row was inserted (`after` only).
    Insert,
    /// A row was updated (`before` and `after`).
    Update,
    /// A row was deleted (`before` only).
    Delete,
    /// A schema change (`sql` only).
    Ddl,
}

impl Op {
    /// The row images an event of this kind carries: `after` for inserts, `before` and
    /// `after` for updates, `before` for deletes, none for DDL.
    pub fn images(self) -> &'static [Image] {
        match self {
            Op::Insert => &[Image::After],
            Op::Update => &[Image::Before, Image::After],
            Op::Delete => &[Image::Before],
            Op::Ddl => &[],
        }
    }

    /// Lowercase name: `insert`, `update`, `delete` or `ddl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Ddl => "ddl",
        }
    }

    /// Parses a lowercase or uppercase name (`insert`, `UPDATE`, ...).
    pub fn parse(name: &str) -> Option<Op> {
        [Op::Insert, Op::Update, Op::Delete, Op::Ddl]
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(name))
    }

    /// The image that holds the row's current state: `before` for deletes, else `after`.
    pub fn current_image(self) -> Image {
        if self == Op::Delete {
            Image::Before
        } else {
            Image::After
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the two row images of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Image {
    /// The row before the change.
    Before,
    /// The row after the change.
    After,
}

/// Where an event comes from in the binlog (informational for transforms).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// Binlog file name.
    pub file: String,
    /// Byte offset in the file.
    pub offset: u64,
    /// GTID of the transaction, if any.
    pub gtid: Option<String>,
    /// Row number inside a multi-row binlog event.
    pub row: u32,
}

impl fmt::Display for Position {
    /// `file:offset#row`, followed by ` (gtid)` when there is a GTID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}#{}", self.file, self.offset, self.row)?;
        match &self.gtid {
            Some(g) => write!(f, " ({g})"),
            None => Ok(()),
        }
    }
}

/// Database and table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TableName {
    /// Database (schema) name.
    pub db: String,
    /// Table name.
    pub table: String,
}

impl TableName {
    /// True if `pattern` names this table: either `table` or `db.table`; `*` matches any
    /// table (`*`, `db.*`, `*.table`).
    pub fn matches(&self, pattern: &str) -> bool {
        match pattern.split_once('.') {
            Some((db, table)) => {
                (db == "*" || db == self.db) && (table == "*" || table == self.table)
            }
            None => pattern == "*" || pattern == self.table,
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.db, self.table)
    }
}

/// Op and table of one event, as returned for a whole batch by [`crate::Batch::headers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Kind of change.
    pub op: Op,
    /// Index of the event's table in [`crate::Batch::tables`].
    pub table: u32,
}

/// A whole change event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// Kind of change.
    pub op: Op,
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Commit time, milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// Source position.
    pub position: Position,
    /// Column names; `before` and `after` are aligned with them.
    pub columns: Vec<String>,
    /// Row before the change.
    pub before: Option<Vec<Value>>,
    /// Row after the change.
    pub after: Option<Vec<Value>>,
    /// The statement of a DDL event.
    pub sql: Option<String>,
}

impl ChangeEvent {
    /// An event with no columns, with empty row images as `op` requires (`after` for
    /// inserts, both for updates, `before` for deletes, none for DDL). Add columns with
    /// [`ChangeEvent::set_value`].
    pub fn new(op: Op, db: impl Into<String>, table: impl Into<String>) -> Self {
        ChangeEvent {
            op,
            db: db.into(),
            table: table.into(),
            ts_ms: 0,
            position: Position::default(),
            columns: Vec::new(),
            before: matches!(op, Op::Update | Op::Delete).then(Vec::new),
            after: matches!(op, Op::Insert | Op::Update).then(Vec::new),
            sql: None,
        }
    }

    /// Builder form of [`ChangeEvent::set_value`].
    pub fn with(mut self, image: Image, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set_value(image, name, value.into());
        self
    }

    /// Position of a column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The row image, if present.
    pub fn row(&self, image: Image) -> Option<&Vec<Value>> {
        match image {
            Image::Before => self.before.as_ref(),
            Image::After => self.after.as_ref(),
        }
    }

    /// A value by column name; `None` if the column or the image is missing.
    pub fn value(&self, image: Image, name: &str) -> Option<&Value> {
        self.row(image)?.get(self.column_index(name)?)
    }

    /// A value from the row's current image (`before` for deletes, else `after`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.value(self.op.current_image(), name)
    }

    /// Table name of the event.
    pub fn table_name(&self) -> TableName {
        TableName {
            db: self.db.clone(),
            table: self.table.clone(),
        }
    }

    /// Sets a value in one image. A missing column is appended (with `Null` in the other
    /// image when present); setting a value in a missing image does nothing.
    pub fn set_value(&mut self, image: Image, name: impl Into<String>, value: Value) {
        let name = name.into();
        let has_image = self.row(image).is_some();
        let idx = match self.column_index(&name) {
            Some(i) => i,
            None if has_image => {
                self.columns.push(name);
                for row in [&mut self.before, &mut self.after].into_iter().flatten() {
                    row.push(Value::Null);
                }
                self.columns.len() - 1
            }
            None => return,
        };
        let row = match image {
            Image::Before => self.before.as_mut(),
            Image::After => self.after.as_mut(),
        };
        if let Some(slot) = row.and_then(|r| r.get_mut(idx)) {
            *slot = value;
        }
    }

    /// Removes a column from the names and both images; returns whether it existed.
    pub fn remove_column(&mut self, name: &str) -> bool {
        let Some(idx) = self.column_index(name) else {
            return false;
        };
        self.columns.remove(idx);
        for row in [&mut self.before, &mut self.after].into_iter().flatten() {
            if idx < row.len() {
                row.remove(idx);
            }
        }
        true
    }

    /// Renames a column; a different column already named `new_name` is removed first.
    /// Returns whether `old_name` existed.
    pub fn rename_column(&mut self, old_name: &str, new_name: &str) -> bool {
        if old_name == new_name {
            return self.column_index(old_name).is_some();
        }
        if self.column_index(old_name).is_none() {
            return false;
        }
        self.remove_column(new_name);
        if let Some(idx) = self.column_index(old_name) {
            self.columns[idx] = new_name.to_owned();
        }
        true
    }

    /// Applies one edit; returns the partition if the edit sets one.
    pub fn apply(&mut self, edit: &Edit) -> Option<String> {
        match edit {
            Edit::Set { image, name, value } => self.set_value(*image, name.clone(), value.clone()),
            Edit::Remove(name) => {
                self.remove_column(name);
            }
            Edit::Rename { old_name, new_name } => {
                self.rename_column(old_name, new_name);
            }
            Edit::Partition(p) => return Some(p.clone()),
        }
        None
    }

    /// Checks that both row images are as long as `columns`.
    pub fn check_shape(&self) -> Result<(), String> {
        for (image, row) in [("before", &self.before), ("after", &self.after)] {
            if let Some(row) = row
                && row.len() != self.columns.len()
            {
                return Err(format!(
                    "{}.{}: {image} has {} values for {} columns",
                    self.db,
                    self.table,
                    row.len(),
                    self.columns.len()
                ));
            }
        }
        Ok(())
    }
}

/// A cheap change to a kept event (the WIT `edit` variant); see [`crate::Kept`].
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Set a column value in one image; see [`ChangeEvent::set_value`].
    Set {
        /// Which image.
        image: Image,
        /// Column name.
        name: String,
        /// New value.
        value: Value,
    },
    /// Remove a column; see [`ChangeEvent::remove_column`].
    Remove(String),
    /// Rename a column; see [`ChangeEvent::rename_column`].
    Rename {
        /// Current name.
        old_name: String,
        /// New name.
        new_name: String,
    },
    /// Set the output partition (empty = default).
    Partition(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_value_appends_missing_columns_to_both_images() {
        let mut e = ChangeEvent::new(Op::Update, "shop", "users")
            .with(Image::Before, "id", 1)
            .with(Image::After, "id", 1);
        assert_eq!(e.before, Some(vec![Value::Int(1)]));
        e.set_value(Image::After, "email", "a@b".into());
        assert_eq!(e.columns, ["id", "email"]);
        assert_eq!(e.before, Some(vec![Value::Int(1), Value::Null]));
        assert_eq!(e.get("email"), Some(&Value::from("a@b")));
        e.check_shape().unwrap();
        let mut ins = ChangeEvent::new(Op::Insert, "d", "t");
        ins.set_value(Image::Before, "x", Value::Int(1));
        assert!(ins.columns.is_empty(), "no before image: no-op");
    }

    #[test]
    fn remove_and_rename() {
        let mut e = ChangeEvent::new(Op::Insert, "d", "t")
            .with(Image::After, "a", 1)
            .with(Image::After, "b", 2)
            .with(Image::After, "c", 3);
        assert!(e.remove_column("b"));
        assert!(!e.remove_column("zz"));
        assert!(e.rename_column("a", "c"));
        assert_eq!(e.columns, ["c"]);
        assert_eq!(e.after, Some(vec![Value::Int(1)]));
        assert_eq!(e.apply(&Edit::Partition("p".into())), Some("p".into()));
    }

    #[test]
    fn table_patterns() {
        let t = TableName {
            db: "shop".into(),
            table: "orders".into(),
        };
        for p in ["orders", "shop.orders", "shop.*", "*.orders", "*"] {
            assert!(t.matches(p), "{p}");
        }
        for p in ["order", "other.orders", "shop.users"] {
            assert!(!t.matches(p), "{p}");
        }
        assert_eq!(Op::parse("DELETE"), Some(Op::Delete));
    }
}
