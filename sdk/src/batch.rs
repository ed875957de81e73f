//! Lazy, read-only views of the input batch.
//!
//! Inside a component, a [`Batch`] wraps the host-owned WIT `batch` resource: nothing is
//! copied into the guest until an accessor asks for it. The first call to [`EventRef::op`],
//! [`EventRef::table`] (and the like) fetches the op and table of *every* event in two host
//! calls (`headers`, `tables`) and caches them, so filters and routers by table and op cost
//! a few nanoseconds per event. Values are fetched one by one ([`EventRef::value`],
//! about 0.3 µs per call); whole records ([`EventRef::to_event`], about 3 µs) only when a
//! transform must rebuild an event.
//!
//! On native targets the same views run over events in memory ([`Batch::from_events`]),
//! which is what the test harness (`wproc_sdk::testing`, native only) uses.

use std::cell::OnceCell;

use crate::{ChangeEvent, Header, Image, Op, Position, TableName, Value};

#[cfg(target_arch = "wasm32")]
use crate::rt::{self, HostBatch};

/// Where the events live.
enum Source<'a> {
    /// Host memory, reached through the WIT resource.
    #[cfg(target_arch = "wasm32")]
    Host(&'a HostBatch),
    /// Guest (or test) memory.
    Memory(&'a [ChangeEvent]),
}

/// A batch of change events, in commit order, lent to [`crate::Transform::process`].
pub struct Batch<'a> {
    source: Source<'a>,
    len: u32,
    headers: OnceCell<Vec<Header>>,
    tables: OnceCell<Vec<TableName>>,
}

impl<'a> Batch<'a> {
    /// A batch over events in memory (used by the test harness; works on every target).
    ///
    /// # Panics
    /// If there are more than `u32::MAX` events.
    pub fn from_events(events: &'a [ChangeEvent]) -> Self {
        let len = u32::try_from(events.len()).expect("a batch holds at most u32::MAX events");
        Batch {
            source: Source::Memory(events),
            len,
            headers: OnceCell::new(),
            tables: OnceCell::new(),
        }
    }

    #[cfg(target_arch = "wasm32")]
    pub(crate) fn from_host(batch: &'a HostBatch) -> Self {
        Batch {
            source: Source::Host(batch),
            len: batch.len(),
            headers: OnceCell::new(),
            tables: OnceCell::new(),
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True if the batch has no events.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The event at `index`, if in range.
    pub fn get(&self, index: usize) -> Option<EventRef<'_>> {
        let index = u32::try_from(index).ok().filter(|&i| i < self.len)?;
        Some(EventRef { batch: self, index })
    }

    /// All events, in order.
    pub fn events(&self) -> impl ExactSizeIterator<Item = EventRef<'_>> + '_ {
        (0..self.len).map(move |index| EventRef { batch: self, index })
    }

    /// Op and table id of every event (fetched once per batch).
    pub fn headers(&self) -> &[Header] {
        self.headers.get_or_init(|| match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.headers().into_iter().map(rt::header_from_wit).collect(),
            Source::Memory(events) => {
                let tables = self.tables();
                events
                    .iter()
                    .map(|e| Header {
                        op: e.op,
                        table: table_id(tables, &e.db, &e.table),
                    })
                    .collect()
            }
        })
    }

    /// For each entry of [`Batch::tables`], whether it matches one of `patterns`
    /// (`db.table`, `*` wildcards, see [`TableName::matches`]); an empty list matches every table.
    /// Index the result with [`EventRef::table_id`](crate::EventRef::table_id).
    pub fn tables_matching<S: AsRef<str>>(&self, patterns: &[S]) -> Vec<bool> {
        self.tables()
            .iter()
            .map(|t| patterns.is_empty() || patterns.iter().any(|p| t.matches(p.as_ref())))
            .collect()
    }

    /// The distinct tables of the batch; [`Header::table`] and [`EventRef::table_id`] index it.
    pub fn tables(&self) -> &[TableName] {
        self.tables.get_or_init(|| match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.tables().into_iter().map(rt::table_from_wit).collect(),
            Source::Memory(events) => {
                let mut tables: Vec<TableName> = Vec::new();
                for e in events.iter() {
                    if !tables.iter().any(|t| t.db == e.db && t.table == e.table) {
                        tables.push(e.table_name());
                    }
                }
                tables
            }
        })
    }
}

/// Index of a table in a (small) table list; the list is built from the same events.
fn table_id(tables: &[TableName], db: &str, table: &str) -> u32 {
    let pos = tables.iter().position(|t| t.db == db && t.table == table);
    pos.map_or(u32::MAX, |p| p as u32)
}

/// A lazy view of one event of a [`Batch`]: each accessor fetches only what it returns.
#[derive(Clone, Copy)]
pub struct EventRef<'b> {
    batch: &'b Batch<'b>,
    index: u32,
}

impl<'b> EventRef<'b> {
    /// Index of the event in its batch.
    pub fn index(&self) -> u32 {
        self.index
    }

    fn header(&self) -> Header {
        self.batch.headers()[self.index as usize]
    }

    /// Kind of change (cached for the batch).
    pub fn op(&self) -> Op {
        self.header().op
    }

    /// Index of the event's table in [`Batch::tables`] (cached for the batch). Handy for
    /// per-table decisions computed once per batch.
    pub fn table_id(&self) -> usize {
        self.header().table as usize
    }

    /// Database and table name (cached for the batch).
    pub fn table_name(&self) -> &'b TableName {
        &self.batch.tables()[self.table_id()]
    }

    /// Database name (cached for the batch).
    pub fn db(&self) -> &'b str {
        &self.table_name().db
    }

    /// Table name (cached for the batch).
    pub fn table(&self) -> &'b str {
        &self.table_name().table
    }

    /// Commit time, milliseconds since the Unix epoch.
    pub fn ts_ms(&self) -> u64 {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.ts_ms(self.index),
            Source::Memory(e) => e[self.index as usize].ts_ms,
        }
    }

    /// Source position.
    pub fn position(&self) -> Position {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => rt::position_from_wit(h.position(self.index)),
            Source::Memory(e) => e[self.index as usize].position.clone(),
        }
    }

    /// The statement of a DDL event.
    pub fn sql(&self) -> Option<String> {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.sql(self.index),
            Source::Memory(e) => e[self.index as usize].sql.clone(),
        }
    }

    /// Number of columns.
    pub fn column_count(&self) -> usize {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.column_count(self.index) as usize,
            Source::Memory(e) => e[self.index as usize].columns.len(),
        }
    }

    /// Column names, in table order.
    pub fn column_names(&self) -> Vec<String> {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.column_names(self.index),
            Source::Memory(e) => e[self.index as usize].columns.clone(),
        }
    }

    /// Position of a column in [`EventRef::column_names`].
    pub fn column_index(&self, name: &str) -> Option<usize> {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h.column_index(self.index, name).map(|i| i as usize),
            Source::Memory(e) => e[self.index as usize].column_index(name),
        }
    }

    /// True if the event has this column.
    pub fn has_column(&self, name: &str) -> bool {
        self.column_index(name).is_some()
    }

    /// A value by column name: `None` if the column or the image is missing, or the image does
    /// not log the column (`binlog_row_image=MINIMAL`); `Some(Value::Null)` for SQL NULL.
    pub fn value(&self, image: Image, name: &str) -> Option<Value> {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h
                .value(self.index, rt::image_to_wit(image), name)
                .map(rt::value_from_wit),
            Source::Memory(e) => e[self.index as usize].value(image, name).cloned(),
        }
    }

    /// A value by column index: `None` if the image is missing, the column is out of range, or
    /// the image does not log the column (`binlog_row_image=MINIMAL`).
    pub fn value_at(&self, image: Image, column: usize) -> Option<Value> {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => {
                // The host traps on an out-of-range column: check first.
                if column >= self.column_count() {
                    return None;
                }
                h.value_at(self.index, rt::image_to_wit(image), column as u32)
                    .map(rt::value_from_wit)
            }
            Source::Memory(e) => e[self.index as usize].row(image)?.get(column).cloned(),
        }
    }

    /// A value from the `before` image.
    pub fn before(&self, name: &str) -> Option<Value> {
        self.value(Image::Before, name)
    }

    /// A value from the `after` image.
    pub fn after(&self, name: &str) -> Option<Value> {
        self.value(Image::After, name)
    }

    /// A value from the row's current image: `before` for deletes, `after` otherwise.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.value(self.op().current_image(), name)
    }

    /// A lazy view of one row image.
    pub fn row(&self, image: Image) -> RowRef<'b> {
        RowRef {
            event: *self,
            image,
        }
    }

    /// A whole row image, aligned with [`EventRef::column_names`]; `None` when absent.
    pub fn row_values(&self, image: Image) -> Option<Vec<Value>> {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => h
                .row(self.index, rt::image_to_wit(image))
                .map(|r| r.into_iter().map(rt::value_from_wit).collect()),
            Source::Memory(e) => e[self.index as usize].row(image).cloned(),
        }
    }

    /// The whole event, to modify it and emit it with [`crate::Output::replace`] or
    /// [`crate::Output::add`]. Costly inside a component (about 3 µs); prefer
    /// [`crate::Kept`] edits for column changes.
    pub fn to_event(&self) -> ChangeEvent {
        match &self.batch.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host(h) => rt::event_from_wit(h.get(self.index)),
            Source::Memory(e) => e[self.index as usize].clone(),
        }
    }
}

impl std::fmt::Debug for EventRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRef")
            .field("index", &self.index)
            .field("op", &self.op())
            .field("table", self.table_name())
            .finish()
    }
}

/// A lazy view of one row image of an event.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'b> {
    event: EventRef<'b>,
    image: Image,
}

impl RowRef<'_> {
    /// Which image this is.
    pub fn image(&self) -> Image {
        self.image
    }

    /// A value by column name (see [`EventRef::value`]).
    pub fn get(&self, name: &str) -> Option<Value> {
        self.event.value(self.image, name)
    }

    /// A value by column index (see [`EventRef::value_at`]).
    pub fn get_at(&self, column: usize) -> Option<Value> {
        self.event.value_at(self.image, column)
    }

    /// All values; `None` when the event has no such image.
    pub fn to_vec(&self) -> Option<Vec<Value>> {
        self.event.row_values(self.image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> Vec<ChangeEvent> {
        vec![
            ChangeEvent::new(Op::Insert, "shop", "orders").with(Image::After, "id", 1),
            ChangeEvent::new(Op::Delete, "shop", "users").with(Image::Before, "id", 2),
            ChangeEvent::new(Op::Update, "shop", "orders")
                .with(Image::Before, "id", 3)
                .with(Image::After, "id", 4),
        ]
    }

    #[test]
    fn headers_intern_tables() {
        let ev = events();
        let b = Batch::from_events(&ev);
        assert_eq!(b.len(), 3);
        assert_eq!(b.tables().len(), 2);
        let ids: Vec<usize> = b.events().map(|e| e.table_id()).collect();
        assert_eq!(ids, [0, 1, 0]);
        assert_eq!(b.get(1).unwrap().table(), "users");
        assert!(b.get(3).is_none());
    }

    #[test]
    fn lazy_values() {
        let ev = events();
        let b = Batch::from_events(&ev);
        let upd = b.get(2).unwrap();
        assert_eq!(upd.before("id"), Some(Value::Int(3)));
        assert_eq!(upd.get("id"), Some(Value::Int(4)));
        assert_eq!(b.get(1).unwrap().get("id"), Some(Value::Int(2)));
        assert_eq!(upd.row(Image::After).get_at(0), Some(Value::Int(4)));
        assert_eq!(upd.value_at(Image::After, 5), None);
        assert_eq!(b.get(0).unwrap().before("id"), None);
        assert_eq!(upd.to_event(), ev[2]);
        assert_eq!(upd.column_names(), ["id"]);
    }
}
