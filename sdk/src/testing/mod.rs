//! Native test harness: run a [`Transform`] with `cargo test`, no WebAssembly involved.
//!
//! The harness builds an in-memory [`Batch`] from events — usually JSON Lines in the host's
//! canonical format (see [`parse_jsonl`]) — runs the transform on it exactly as the
//! component glue does ([`Output::finish`], then [`OutputParts::apply`] for the output
//! order the host uses), and returns the output events, their partitions and the rejected
//! events. Log messages are captured per thread ([`take_logs`]).
//!
//! Available on non-wasm targets only.
//!
//! ```no_run
//! use wproc_sdk::testing::Harness;
//! # use wproc_sdk::{Batch, Output, Result, Transform};
//! # struct MyFilter;
//! # impl Transform for MyFilter {
//! #     fn init(_: &str) -> Result<Self> { Ok(MyFilter) }
//! #     fn process(&mut self, _: &Batch<'_>, _: &mut Output) -> Result<()> { Ok(()) }
//! # }
//!
//! let mut h = Harness::<MyFilter>::new(r#"{"tables": ["orders"]}"#).unwrap();
//! let out = h
//!     .process_jsonl(
//!         r#"{"op":"insert","db":"shop","table":"orders","ts_ms":1,"after":{"id":1}}
//!            {"op":"insert","db":"shop","table":"audit","ts_ms":2,"after":{"id":2}}"#,
//!     )
//!     .unwrap();
//! assert_eq!(out.tables(), ["shop.orders"]);
//! ```

mod jsonl;

pub use jsonl::{Kind, ParseError, TypeHints, parse_event, parse_jsonl, to_json};

use crate::log::Level;
use crate::{Batch, ChangeEvent, Error, Output, OutputEvent, OutputParts, Rejected, Transform};

/// Takes (and clears) the log messages this thread's transforms wrote with [`crate::log`].
pub fn take_logs() -> Vec<(Level, String)> {
    crate::log::imp::take()
}

/// Runs one transform instance natively.
pub struct Harness<T> {
    transform: T,
    hints: TypeHints,
}

/// What one `process` call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The output sequence, in the order the host would write it.
    pub events: Vec<OutputEvent>,
    /// Events the transform refused with [`Output::reject`].
    pub rejected: Vec<Rejected>,
    /// The raw output, as the component would return it.
    pub parts: OutputParts,
}

impl Outcome {
    /// `db.table` of every output event, in order.
    pub fn tables(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|o| format!("{}.{}", o.event.db, o.event.table))
            .collect()
    }

    /// Partition of every output event (`None` = default), in order.
    pub fn partitions(&self) -> Vec<Option<&str>> {
        self.events.iter().map(|o| o.partition.as_deref()).collect()
    }

    /// The output events only.
    pub fn into_events(self) -> Vec<ChangeEvent> {
        self.events.into_iter().map(|o| o.event).collect()
    }

    /// The output as JSON Lines in the canonical format, with a `partition` key when set.
    pub fn to_jsonl(&self) -> String {
        self.events
            .iter()
            .map(|o| jsonl::to_json_with_partition(&o.event, o.partition.as_deref()) + "\n")
            .collect()
    }
}

impl<T: Transform> Harness<T> {
    /// Creates the transform with `T::init(config)`.
    ///
    /// # Errors
    /// The error of `T::init`.
    pub fn new(config: &str) -> Result<Self, Error> {
        Ok(Harness {
            transform: T::init(config)?,
            hints: TypeHints::default(),
        })
    }

    /// Sets the column types used by [`Harness::process_jsonl`] (see [`TypeHints`]).
    pub fn with_hints(mut self, hints: TypeHints) -> Self {
        self.hints = hints;
        self
    }

    /// The transform, to inspect its state.
    pub fn transform(&mut self) -> &mut T {
        &mut self.transform
    }

    /// Runs `process` over events.
    ///
    /// # Errors
    /// The transform's error, or an invalid output (see [`Output::finish`]).
    pub fn process(&mut self, events: &[ChangeEvent]) -> Result<Outcome, Error> {
        let batch = Batch::from_events(events);
        let mut out = Output::new(batch.len());
        self.transform.process(&batch, &mut out)?;
        let parts = out.finish()?;
        let rejected = parts.rejected.clone();
        let events = parts.clone().apply(events)?;
        Ok(Outcome {
            events,
            rejected,
            parts,
        })
    }

    /// Parses JSON Lines (see [`parse_jsonl`]) and runs `process` over them.
    ///
    /// # Errors
    /// A parse error (as [`Error::InvalidInput`]), else as [`Harness::process`].
    pub fn process_jsonl(&mut self, jsonl: &str) -> Result<Outcome, Error> {
        let events =
            parse_jsonl(jsonl, &self.hints).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.process(&events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Image, Op, Value};

    /// Keeps orders (routed by country), masks emails, rejects users without an id,
    /// replaces deletes by a tombstone and adds a marker after DDL.
    struct Demo;

    impl Transform for Demo {
        fn init(config: &str) -> Result<Self, Error> {
            crate::log::info(format!("demo init {config}"));
            Ok(Demo)
        }

        fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<(), Error> {
            for e in batch.events() {
                match (e.op(), e.table()) {
                    (Op::Ddl, _) => {
                        out.keep(&e);
                        out.add_after(&e, ChangeEvent::new(Op::Ddl, e.db(), "marker"));
                    }
                    (Op::Delete, _) => {
                        let mut t = e.to_event();
                        t.op = Op::Insert;
                        t.after = t.before.take();
                        t.set_value(Image::After, "_deleted", Value::Int(1));
                        out.replace(&e, t).partition("tombstones");
                    }
                    (_, "orders") => {
                        let country = e.get("country").map(|v| v.to_string()).unwrap_or_default();
                        out.keep(&e).partition(format!("orders/{country}"));
                    }
                    (_, "users") if e.get("id").is_none_or(|v| v.is_null()) => {
                        out.reject(&e, Error::InvalidInput("user without id".into()));
                    }
                    (_, "users") => {
                        out.keep(&e).set(Image::After, "email", "***");
                    }
                    _ => {}
                }
            }
            Ok(())
        }
    }

    const INPUT: &str = r#"
{"op":"insert","db":"shop","table":"orders","ts_ms":1,"pos":{"file":"b.1","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1,"country":"NL","amount":"12.50"}}
{"op":"insert","db":"shop","table":"users","ts_ms":2,"after":{"id":7,"email":"a@b.c"}}
{"op":"insert","db":"shop","table":"users","ts_ms":3,"after":{"id":null,"email":"x@y.z"}}
{"op":"delete","db":"shop","table":"users","ts_ms":4,"before":{"id":8,"email":"q@r.s"}}
{"op":"ddl","db":"shop","table":"users","ts_ms":5,"sql":"ALTER TABLE users ADD c INT"}
{"op":"insert","db":"shop","table":"audit","ts_ms":6,"after":{"id":9}}
"#;

    #[test]
    fn harness_runs_a_transform_over_jsonl() {
        let mut h = Harness::<Demo>::new("cfg").unwrap();
        assert_eq!(take_logs(), [(Level::Info, "demo init cfg".to_string())]);
        let out = h.process_jsonl(INPUT).unwrap();
        assert_eq!(
            out.tables(),
            [
                "shop.orders",
                "shop.users",
                "shop.users",
                "shop.users",
                "shop.marker"
            ]
        );
        assert_eq!(
            out.partitions(),
            [Some("orders/NL"), None, Some("tombstones"), None, None]
        );
        assert_eq!(out.events[1].event.get("email"), Some(&Value::from("***")));
        assert_eq!(out.events[2].event.get("_deleted"), Some(&Value::Int(1)));
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].index, 2);
        assert_eq!(out.parts.keep, [0, 1, 4]);
        let jsonl = out.to_jsonl();
        assert!(jsonl.starts_with(r#"{"op":"insert","db":"shop","table":"orders","ts_ms":1,"pos":{"file":"b.1","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1,"country":"NL","amount":"12.50"},"partition":"orders/NL"}"#), "{jsonl}");
    }

    #[test]
    fn process_errors_and_parse_errors_surface() {
        struct Fails;
        impl Transform for Fails {
            fn init(_: &str) -> Result<Self, Error> {
                Ok(Fails)
            }
            fn process(&mut self, _: &Batch<'_>, _: &mut Output) -> Result<(), Error> {
                Err(Error::Unsupported("nope".into()))
            }
        }
        let mut h = Harness::<Fails>::new("").unwrap();
        assert_eq!(
            h.process(&[]).unwrap_err(),
            Error::Unsupported("nope".into())
        );
        let err = h.process_jsonl("{not json").unwrap_err();
        assert!(matches!(err, Error::InvalidInput(m) if m.contains("line 1")));
    }
}
