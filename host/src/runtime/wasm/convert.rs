//! Conversions between the host's event model and the WIT types. Lossless both ways: a value
//! a guest passes back unchanged is the very same host value.

use std::sync::Arc;

use super::bindings::wit;
use crate::event::{ChangeEvent, Column, EventPosition, Op, Value};

pub(crate) fn op_to_wit(op: Op) -> wit::Op {
    match op {
        Op::Insert => wit::Op::Insert,
        Op::Update => wit::Op::Update,
        Op::Delete => wit::Op::Delete,
        Op::Ddl => wit::Op::Ddl,
    }
}

fn op_from_wit(op: wit::Op) -> Op {
    match op {
        wit::Op::Insert => Op::Insert,
        wit::Op::Update => Op::Update,
        wit::Op::Delete => Op::Delete,
        wit::Op::Ddl => Op::Ddl,
    }
}

pub(crate) fn position_to_wit(p: &EventPosition) -> wit::Position {
    wit::Position {
        file: p.file.to_string(),
        offset: p.offset,
        gtid: p.gtid.as_ref().map(|g| g.to_string()),
        row: p.row,
    }
}

/// The row image `image` of an event, if it has it.
pub(crate) fn image_row(e: &ChangeEvent, image: wit::Image) -> Option<&Vec<Value>> {
    match image {
        wit::Image::Before => e.before.as_ref(),
        wit::Image::After => e.after.as_ref(),
    }
}

pub(crate) fn image_row_mut(e: &mut ChangeEvent, image: wit::Image) -> Option<&mut Vec<Value>> {
    match image {
        wit::Image::Before => e.before.as_mut(),
        wit::Image::After => e.after.as_mut(),
    }
}

/// A value for the guest. [`Value::Absent`] has no WIT case: `value`/`value-at` return `none`
/// for it (see `host.rs`); in whole rows (`row`, `get`) it becomes `null`.
pub(crate) fn value_to_wit(v: &Value) -> wit::Value {
    match v {
        Value::Absent => wit::Value::Null,
        Value::Null => wit::Value::Null,
        Value::Int(x) => wit::Value::Int(*x),
        Value::UInt(x) => wit::Value::Uint(*x),
        Value::Float(x) => wit::Value::Float(*x),
        Value::Double(x) => wit::Value::Double(*x),
        Value::Decimal(s) => wit::Value::Decimal(s.clone()),
        Value::String(s) => wit::Value::String(s.clone()),
        Value::Bytes(b) => wit::Value::Bytes(b.clone()),
        Value::Date { year, month, day } => wit::Value::Date(wit::Date {
            year: *year,
            month: *month,
            day: *day,
        }),
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
            fsp,
        } => wit::Value::Datetime(wit::Datetime {
            year: *year,
            month: *month,
            day: *day,
            hour: *hour,
            minute: *minute,
            second: *second,
            micros: *micros,
            fsp: *fsp,
        }),
        Value::Timestamp {
            seconds,
            micros,
            fsp,
        } => wit::Value::Timestamp(wit::Timestamp {
            seconds: *seconds,
            micros: *micros,
            fsp: *fsp,
        }),
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micros,
            fsp,
        } => wit::Value::Time(wit::Time {
            negative: *negative,
            hours: *hours,
            minutes: *minutes,
            seconds: *seconds,
            micros: *micros,
            fsp: *fsp,
        }),
        Value::Year(y) => wit::Value::Year(*y),
        Value::Json(s) => wit::Value::Json(s.clone()),
    }
}

pub(crate) fn value_from_wit(v: wit::Value) -> Value {
    match v {
        wit::Value::Null => Value::Null,
        wit::Value::Int(x) => Value::Int(x),
        wit::Value::Uint(x) => Value::UInt(x),
        wit::Value::Float(x) => Value::Float(x),
        wit::Value::Double(x) => Value::Double(x),
        wit::Value::Decimal(s) => Value::Decimal(s),
        wit::Value::String(s) => Value::String(s),
        wit::Value::Bytes(b) => Value::Bytes(b),
        wit::Value::Date(d) => Value::Date {
            year: d.year,
            month: d.month,
            day: d.day,
        },
        wit::Value::Datetime(d) => Value::DateTime {
            year: d.year,
            month: d.month,
            day: d.day,
            hour: d.hour,
            minute: d.minute,
            second: d.second,
            micros: d.micros,
            fsp: d.fsp,
        },
        wit::Value::Timestamp(t) => Value::Timestamp {
            seconds: t.seconds,
            micros: t.micros,
            fsp: t.fsp,
        },
        wit::Value::Time(t) => Value::Time {
            negative: t.negative,
            hours: t.hours,
            minutes: t.minutes,
            seconds: t.seconds,
            micros: t.micros,
            fsp: t.fsp,
        },
        wit::Value::Year(y) => Value::Year(y),
        wit::Value::Json(s) => Value::Json(s),
    }
}

pub(crate) fn event_to_wit(e: &ChangeEvent) -> wit::ChangeEvent {
    let row = |r: &Option<Vec<Value>>| r.as_ref().map(|r| r.iter().map(value_to_wit).collect());
    wit::ChangeEvent {
        op: op_to_wit(e.op),
        db: e.db.to_string(),
        table: e.table.to_string(),
        ts_ms: e.ts_ms,
        position: position_to_wit(&e.pos),
        columns: e.columns.iter().map(|c| c.name.to_string()).collect(),
        before: row(&e.before),
        after: row(&e.after),
        sql: e.sql.clone(),
    }
}

/// A guest-made event. Column types come from `like` (the input event it replaces or
/// follows) where the names match, else from the values.
pub(crate) fn event_from_wit(e: wit::ChangeEvent, like: Option<&ChangeEvent>) -> ChangeEvent {
    let before: Option<Vec<Value>> = e
        .before
        .map(|r| r.into_iter().map(value_from_wit).collect());
    let after: Option<Vec<Value>> = e.after.map(|r| r.into_iter().map(value_from_wit).collect());
    let same_columns = like.filter(|l| {
        l.columns.len() == e.columns.len()
            && l.columns
                .iter()
                .zip(&e.columns)
                .all(|(c, n)| *c.name == **n)
    });
    let columns: Arc<[Column]> = match same_columns {
        Some(l) => l.columns.clone(),
        None => e
            .columns
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let known = like.and_then(|l| l.columns.iter().find(|c| *c.name == *name));
                let sql_type: Arc<str> = match known {
                    Some(c) => c.sql_type.clone(),
                    None => {
                        let v = after.as_ref().or(before.as_ref()).and_then(|r| r.get(i));
                        v.map_or("null", Value::type_name).into()
                    }
                };
                Column {
                    name: name.into(),
                    sql_type,
                }
            })
            .collect(),
    };
    let reuse = |s: String, old: Option<&Arc<str>>| match old {
        Some(o) if **o == *s => o.clone(),
        _ => Arc::from(s),
    };
    ChangeEvent {
        op: op_from_wit(e.op),
        db: reuse(e.db, like.map(|l| &l.db)),
        table: reuse(e.table, like.map(|l| &l.table)),
        ts_ms: e.ts_ms,
        pos: EventPosition {
            file: reuse(e.position.file, like.map(|l| &l.pos.file)),
            offset: e.position.offset,
            row: e.position.row,
            gtid: e.position.gtid.map(Arc::from),
        },
        columns,
        before,
        after,
        sql: e.sql,
    }
}
