//! The binary form of [`ChangeEvent`]s between processes: postcard, decoded with shared metadata.
//!
//! Both transports carry events as postcard (the local log's records, the `_wproc_` key of an
//! SLS log). The encoding is plain `postcard::to_*` of the derived `Serialize`; this module only
//! changes how it is **decoded**: [`EventDecoder`] reads the strings of an event (database,
//! table, column names and types, binlog file, GTID) as borrowed slices and hands out `Arc`s it
//! already holds when they are equal to the previous ones. Derived `Deserialize` allocates about
//! twenty strings per row for metadata that is the same for every row of a table; with the
//! decoder a row costs its values only, and events of one table share one `Arc<[Column]>`, as
//! they do when they come from the source.
//!
//! Invariant: for every input, [`EventDecoder::decode`] returns exactly what
//! `postcard::from_bytes::<ChangeEvent>` returns (the tests compare both), so the two encodings
//! are one format.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use super::{ChangeEvent, Column, EventPosition, Op, Value};

/// A [`ChangeEvent`] as postcard lays it out, with borrowed strings. Field order must stay the
/// order of `ChangeEvent`'s fields (postcard is positional).
#[derive(Deserialize)]
struct EventRef<'a> {
    op: Op,
    #[serde(borrow)]
    db: &'a str,
    #[serde(borrow)]
    table: &'a str,
    ts_ms: u64,
    #[serde(borrow)]
    pos: PositionRef<'a>,
    #[serde(borrow)]
    columns: Vec<ColumnRef<'a>>,
    before: Option<Vec<Value>>,
    after: Option<Vec<Value>>,
    sql: Option<String>,
}

/// [`EventPosition`], borrowed.
#[derive(Deserialize)]
struct PositionRef<'a> {
    #[serde(borrow)]
    file: &'a str,
    offset: u64,
    row: u32,
    #[serde(borrow)]
    gtid: Option<&'a str>,
}

/// [`Column`], borrowed.
#[derive(Deserialize)]
struct ColumnRef<'a> {
    #[serde(borrow)]
    name: &'a str,
    #[serde(borrow)]
    sql_type: &'a str,
}

/// One table's shared metadata.
struct TableMeta {
    db: Arc<str>,
    table: Arc<str>,
    columns: Arc<[Column]>,
}

/// Most tables remembered before the cache starts over (a bound on memory for streams that
/// touch very many tables).
const MAX_TABLES: usize = 4096;

/// Decodes postcard events, sharing the metadata of consecutive events (see the module docs).
/// One per reader: it is a cache, not shared state.
#[derive(Default)]
pub struct EventDecoder {
    /// Keyed by `db` NUL `table`.
    tables: HashMap<Box<str>, TableMeta>,
    /// Scratch space for a lookup key.
    key: String,
    file: Option<Arc<str>>,
    gtid: Option<Arc<str>>,
}

impl std::fmt::Debug for EventDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDecoder")
            .field("tables", &self.tables.len())
            .finish_non_exhaustive()
    }
}

impl EventDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one event that fills `bytes` exactly.
    pub fn decode(&mut self, bytes: &[u8]) -> Result<ChangeEvent, postcard::Error> {
        let (event, rest) = self.take(bytes)?;
        if rest.is_empty() {
            Ok(event)
        } else {
            Err(postcard::Error::DeserializeBadEncoding)
        }
    }

    /// Decodes a postcard `Vec<ChangeEvent>` (a length, then the events) that fills `bytes`.
    pub fn decode_seq(&mut self, bytes: &[u8]) -> Result<Vec<ChangeEvent>, postcard::Error> {
        let (len, mut rest) = postcard::take_from_bytes::<usize>(bytes)?;
        // Every event takes more than 8 bytes: a length beyond that is corrupt, not a reason
        // to allocate.
        if len > rest.len() / 8 + 1 {
            return Err(postcard::Error::DeserializeBadEncoding);
        }
        let mut events = Vec::with_capacity(len);
        for _ in 0..len {
            let (event, next) = self.take(rest)?;
            events.push(event);
            rest = next;
        }
        if rest.is_empty() {
            Ok(events)
        } else {
            Err(postcard::Error::DeserializeBadEncoding)
        }
    }

    /// Decodes the event at the start of `bytes`; returns it and what follows.
    fn take<'a>(&mut self, bytes: &'a [u8]) -> Result<(ChangeEvent, &'a [u8]), postcard::Error> {
        let (raw, rest) = postcard::take_from_bytes::<EventRef<'_>>(bytes)?;
        let meta = self.table(raw.db, raw.table, &raw.columns);
        let (db, table, columns) = (meta.db.clone(), meta.table.clone(), meta.columns.clone());
        let file = intern(&mut self.file, raw.pos.file);
        let gtid = raw.pos.gtid.map(|g| intern(&mut self.gtid, g));
        let event = ChangeEvent {
            op: raw.op,
            db,
            table,
            ts_ms: raw.ts_ms,
            pos: EventPosition {
                file,
                offset: raw.pos.offset,
                row: raw.pos.row,
                gtid,
            },
            columns,
            before: raw.before,
            after: raw.after,
            sql: raw.sql,
        };
        Ok((event, rest))
    }

    /// The shared metadata of `db.table` with exactly `columns`, remembered for the next event.
    fn table(&mut self, db: &str, table: &str, columns: &[ColumnRef<'_>]) -> &TableMeta {
        let same = |m: &TableMeta| {
            *m.db == *db
                && *m.table == *table
                && m.columns.len() == columns.len()
                && m.columns
                    .iter()
                    .zip(columns)
                    .all(|(c, r)| *c.name == *r.name && *c.sql_type == *r.sql_type)
        };
        self.key.clear();
        self.key.push_str(db);
        self.key.push('\0');
        self.key.push_str(table);
        if !self.tables.get(self.key.as_str()).is_some_and(same) {
            if self.tables.len() >= MAX_TABLES {
                self.tables.clear();
            }
            let columns: Arc<[Column]> = columns
                .iter()
                .map(|c| Column {
                    name: Arc::from(c.name),
                    sql_type: Arc::from(c.sql_type),
                })
                .collect();
            let meta = TableMeta {
                db: Arc::from(db),
                table: Arc::from(table),
                columns,
            };
            self.tables.insert(self.key.as_str().into(), meta);
        }
        &self.tables[self.key.as_str()]
    }
}

/// The `Arc` in `slot` when it holds `s`, else a new one kept there.
fn intern(slot: &mut Option<Arc<str>>, s: &str) -> Arc<str> {
    match slot {
        Some(a) if **a == *s => a.clone(),
        _ => {
            let a: Arc<str> = Arc::from(s);
            *slot = Some(a.clone());
            a
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(table: &str, row: u32, types: [&str; 2]) -> ChangeEvent {
        ChangeEvent {
            op: if row.is_multiple_of(3) {
                Op::Update
            } else {
                Op::Insert
            },
            db: "shop".into(),
            table: table.into(),
            ts_ms: 1_700_000_000_000 + u64::from(row),
            pos: EventPosition {
                file: "binlog.000007".into(),
                offset: 4 + u64::from(row) * 100,
                row,
                gtid: row
                    .is_multiple_of(2)
                    .then(|| Arc::from(format!("0-1-{}", row / 4).as_str())),
            },
            columns: vec![
                Column {
                    name: "id".into(),
                    sql_type: types[0].into(),
                },
                Column {
                    name: "name".into(),
                    sql_type: types[1].into(),
                },
            ]
            .into(),
            // A MINIMAL before image (key only) now and then: Value::Absent round-trips too.
            before: (row.is_multiple_of(3)).then(|| {
                let name = if row.is_multiple_of(9) {
                    Value::Absent
                } else {
                    Value::Null
                };
                vec![Value::Int(i64::from(row)), name]
            }),
            after: Some(vec![
                Value::UInt(u64::from(row)),
                Value::String(format!("n{row}")),
            ]),
            sql: (row == 5).then(|| "ALTER TABLE t ADD c INT".to_owned()),
        }
    }

    fn sample() -> Vec<ChangeEvent> {
        let mut events = Vec::new();
        for row in 0..20 {
            let table = if row % 5 == 4 { "orders" } else { "users" };
            let types = if row > 12 {
                ["bigint", "varchar(64)"]
            } else {
                ["int", "varchar(64)"]
            };
            events.push(event(table, row, types));
        }
        events
    }

    #[test]
    fn decodes_exactly_what_derived_deserialize_decodes() {
        let events = sample();
        let mut decoder = EventDecoder::new();
        for e in &events {
            let bytes = postcard::to_stdvec(e).unwrap();
            let ours = decoder.decode(&bytes).unwrap();
            let derived: ChangeEvent = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(ours, derived);
        }
        let seq = postcard::to_stdvec(&events).unwrap();
        assert_eq!(decoder.decode_seq(&seq).unwrap(), events);
    }

    #[test]
    fn events_of_one_table_share_their_columns_until_the_schema_changes() {
        let events = sample();
        let mut decoder = EventDecoder::new();
        let decoded = decoder
            .decode_seq(&postcard::to_stdvec(&events).unwrap())
            .unwrap();
        let users: Vec<&ChangeEvent> = decoded.iter().filter(|e| &*e.table == "users").collect();
        assert!(Arc::ptr_eq(&users[0].columns, &users[1].columns));
        let changed = users
            .iter()
            .position(|e| &*e.columns[0].sql_type == "bigint");
        let changed = changed.unwrap();
        assert!(!Arc::ptr_eq(&users[0].columns, &users[changed].columns));
        assert!(Arc::ptr_eq(&decoded[0].pos.file, &decoded[1].pos.file));
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let mut decoder = EventDecoder::new();
        let bytes = postcard::to_stdvec(&sample()).unwrap();
        for cut in [0, 1, 5, bytes.len() / 2, bytes.len() - 1] {
            assert!(decoder.decode_seq(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(decoder.decode_seq(&long).is_err());
        assert!(decoder.decode_seq(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        let one = postcard::to_stdvec(&sample()[0]).unwrap();
        assert!(decoder.decode(&one[..one.len() - 1]).is_err());
    }
}
