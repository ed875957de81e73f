//! Glue between the generated bindings and the SDK types (wasm32 only; hidden).
//!
//! [`crate::export_transform!`] expands to a `Guest` impl that calls [`init`] and
//! [`process`]. Conversions move strings and lists (no copies of the payload).

use std::cell::RefCell;
use std::thread::LocalKey;

use crate::bindings::wproc::transform::types as w;
use crate::output::{Added, EventEdits, Rejected, Replaced};
use crate::{
    Batch, ChangeEvent, Date, DateTime, Edit, Error, Header, Image, Op, Output, OutputParts,
    Position, TableName, Time, Timestamp, Transform, Value,
};

/// The host-owned batch resource.
pub type HostBatch = crate::bindings::wproc::transform::batch_api::Batch;

/// The per-instance state of an exported transform.
pub type State<T> = LocalKey<RefCell<Option<T>>>;

/// What the generated `Guest::init` returns.
pub type InitResult = Result<(), w::TransformError>;

/// What the generated `Guest::process` returns.
pub type ProcessResult = Result<w::Output, w::TransformError>;

/// Runs `T::init` and stores the transform (replacing any earlier one).
pub fn init<T: Transform>(state: &'static State<T>, config: String) -> InitResult {
    let t = T::init(&config).map_err(error_to_wit)?;
    state.with_borrow_mut(|s| *s = Some(t));
    Ok(())
}

/// Runs `T::process` over the host batch and converts the output.
pub fn process<T: Transform>(state: &'static State<T>, batch: &HostBatch) -> ProcessResult {
    state.with_borrow_mut(|s| {
        let Some(t) = s.as_mut() else {
            return Err(error_to_wit(Error::Other(
                "process called before init".into(),
            )));
        };
        let batch = Batch::from_host(batch);
        let mut out = Output::new(batch.len());
        t.process(&batch, &mut out).map_err(error_to_wit)?;
        out.finish().map(output_to_wit).map_err(error_to_wit)
    })
}

fn error_to_wit(e: Error) -> w::TransformError {
    match e {
        Error::InvalidInput(m) => w::TransformError::InvalidInput(m),
        Error::Unsupported(m) => w::TransformError::Unsupported(m),
        Error::Other(m) => w::TransformError::Other(m),
    }
}

fn op_from_wit(op: w::Op) -> Op {
    match op {
        w::Op::Insert => Op::Insert,
        w::Op::Update => Op::Update,
        w::Op::Delete => Op::Delete,
        w::Op::Ddl => Op::Ddl,
    }
}

fn op_to_wit(op: Op) -> w::Op {
    match op {
        Op::Insert => w::Op::Insert,
        Op::Update => w::Op::Update,
        Op::Delete => w::Op::Delete,
        Op::Ddl => w::Op::Ddl,
    }
}

pub(crate) fn image_to_wit(image: Image) -> w::Image {
    match image {
        Image::Before => w::Image::Before,
        Image::After => w::Image::After,
    }
}

pub(crate) fn header_from_wit(h: w::Header) -> Header {
    Header {
        op: op_from_wit(h.op),
        table: h.table,
    }
}

pub(crate) fn table_from_wit(t: w::TableName) -> TableName {
    TableName {
        db: t.db,
        table: t.table,
    }
}

pub(crate) fn position_from_wit(p: w::Position) -> Position {
    Position {
        file: p.file,
        offset: p.offset,
        gtid: p.gtid,
        row: p.row,
    }
}

fn position_to_wit(p: Position) -> w::Position {
    w::Position {
        file: p.file,
        offset: p.offset,
        gtid: p.gtid,
        row: p.row,
    }
}

pub(crate) fn value_from_wit(v: w::Value) -> Value {
    match v {
        w::Value::Null => Value::Null,
        w::Value::Int(x) => Value::Int(x),
        w::Value::Uint(x) => Value::UInt(x),
        w::Value::Float(x) => Value::Float(x),
        w::Value::Double(x) => Value::Double(x),
        w::Value::Decimal(s) => Value::Decimal(s),
        w::Value::String(s) => Value::String(s),
        w::Value::Bytes(b) => Value::Bytes(b),
        w::Value::Date(d) => Value::Date(Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }),
        w::Value::Datetime(d) => Value::DateTime(DateTime {
            year: d.year,
            month: d.month,
            day: d.day,
            hour: d.hour,
            minute: d.minute,
            second: d.second,
            micros: d.micros,
            fsp: d.fsp,
        }),
        w::Value::Timestamp(t) => Value::Timestamp(Timestamp {
            seconds: t.seconds,
            micros: t.micros,
            fsp: t.fsp,
        }),
        w::Value::Time(t) => Value::Time(Time {
            negative: t.negative,
            hours: t.hours,
            minutes: t.minutes,
            seconds: t.seconds,
            micros: t.micros,
            fsp: t.fsp,
        }),
        w::Value::Year(y) => Value::Year(y),
        w::Value::Json(s) => Value::Json(s),
    }
}

fn value_to_wit(v: Value) -> w::Value {
    match v {
        Value::Null => w::Value::Null,
        Value::Int(x) => w::Value::Int(x),
        Value::UInt(x) => w::Value::Uint(x),
        Value::Float(x) => w::Value::Float(x),
        Value::Double(x) => w::Value::Double(x),
        Value::Decimal(s) => w::Value::Decimal(s),
        Value::String(s) => w::Value::String(s),
        Value::Bytes(b) => w::Value::Bytes(b),
        Value::Date(d) => w::Value::Date(w::Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }),
        Value::DateTime(d) => w::Value::Datetime(w::Datetime {
            year: d.year,
            month: d.month,
            day: d.day,
            hour: d.hour,
            minute: d.minute,
            second: d.second,
            micros: d.micros,
            fsp: d.fsp,
        }),
        Value::Timestamp(t) => w::Value::Timestamp(w::Timestamp {
            seconds: t.seconds,
            micros: t.micros,
            fsp: t.fsp,
        }),
        Value::Time(t) => w::Value::Time(w::Time {
            negative: t.negative,
            hours: t.hours,
            minutes: t.minutes,
            seconds: t.seconds,
            micros: t.micros,
            fsp: t.fsp,
        }),
        Value::Year(y) => w::Value::Year(y),
        Value::Json(s) => w::Value::Json(s),
    }
}

fn row_from_wit(row: Option<Vec<w::Value>>) -> Option<Vec<Value>> {
    row.map(|r| r.into_iter().map(value_from_wit).collect())
}

fn row_to_wit(row: Option<Vec<Value>>) -> Option<Vec<w::Value>> {
    row.map(|r| r.into_iter().map(value_to_wit).collect())
}

pub(crate) fn event_from_wit(e: w::ChangeEvent) -> ChangeEvent {
    ChangeEvent {
        op: op_from_wit(e.op),
        db: e.db,
        table: e.table,
        ts_ms: e.ts_ms,
        position: position_from_wit(e.position),
        columns: e.columns,
        before: row_from_wit(e.before),
        after: row_from_wit(e.after),
        sql: e.sql,
    }
}

fn event_to_wit(e: ChangeEvent) -> w::ChangeEvent {
    w::ChangeEvent {
        op: op_to_wit(e.op),
        db: e.db,
        table: e.table,
        ts_ms: e.ts_ms,
        position: position_to_wit(e.position),
        columns: e.columns,
        before: row_to_wit(e.before),
        after: row_to_wit(e.after),
        sql: e.sql,
    }
}

fn edit_to_wit(e: Edit) -> w::Edit {
    match e {
        Edit::Set { image, name, value } => w::Edit::Set(w::ColumnValue {
            image: image_to_wit(image),
            name,
            value: value_to_wit(value),
        }),
        Edit::Remove(name) => w::Edit::Remove(name),
        Edit::Rename { old_name, new_name } => {
            w::Edit::Rename(w::ColumnRename { old_name, new_name })
        }
        Edit::Partition(p) => w::Edit::Partition(p),
    }
}

fn output_to_wit(p: OutputParts) -> w::Output {
    w::Output {
        keep: p.keep,
        edits: p
            .edits
            .into_iter()
            .map(|EventEdits { index, edits }| w::EventEdits {
                index,
                edits: edits.into_iter().map(edit_to_wit).collect(),
            })
            .collect(),
        replaced: p
            .replaced
            .into_iter()
            .map(
                |Replaced {
                     index,
                     event,
                     partition,
                 }| w::Replaced {
                    index,
                    event: event_to_wit(event),
                    partition,
                },
            )
            .collect(),
        added: p
            .added
            .into_iter()
            .map(
                |Added {
                     after,
                     event,
                     partition,
                 }| w::Added {
                    after,
                    event: event_to_wit(event),
                    partition,
                },
            )
            .collect(),
        rejected: p
            .rejected
            .into_iter()
            .map(|Rejected { index, error }| w::Rejected {
                index,
                error: error_to_wit(error),
            })
            .collect(),
    }
}
