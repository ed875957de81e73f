//! What a transform returns: kept, edited, replaced, added and rejected events.
//!
//! A transform fills an [`Output`] while it reads the batch. Nothing is emitted unless the
//! transform says so: an event that is neither kept, replaced nor rejected is dropped.
//!
//! | call | cost inside a component | use |
//! |---|---|---|
//! | [`Output::keep`] | an index | filters, routers |
//! | [`Kept::set`], [`Kept::remove`], [`Kept::rename`], [`Kept::partition`] | the edit only | masking, projection, enrichment, routing |
//! | [`Output::replace`], [`Output::add`] | a whole record | restructuring, fan-out |
//! | [`Output::reject`] | an index and a message | refuse one event without failing the batch |
//!
//! [`OutputParts::apply`] is the reference implementation of the output order that the WIT
//! `output` record documents; the host follows the same rules.

use crate::{ChangeEvent, Edit, Error, EventRef, Image, Value};

/// The transform's answer for one batch; see the module docs.
#[derive(Debug)]
pub struct Output {
    len: u32,
    keep: Vec<u32>,
    edits: Vec<EventEdits>,
    replaced: Vec<Replaced>,
    added: Vec<Added>,
    rejected: Vec<Rejected>,
    misuse: Option<String>,
}

/// Column edits and a partition for one kept event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEdits {
    /// Input index.
    pub index: u32,
    /// Edits, applied in order.
    pub edits: Vec<Edit>,
}

/// An input event replaced by a whole record.
#[derive(Debug, Clone, PartialEq)]
pub struct Replaced {
    /// Input index.
    pub index: u32,
    /// The replacement.
    pub event: ChangeEvent,
    /// Output partition (`None` = default).
    pub partition: Option<String>,
}

/// A new event.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// The input index it follows; `None` = end of the batch.
    pub after: Option<u32>,
    /// The new event.
    pub event: ChangeEvent,
    /// Output partition (`None` = default).
    pub partition: Option<String>,
}

/// An input event refused on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Input index.
    pub index: u32,
    /// Why.
    pub error: Error,
}

impl Output {
    /// An empty output for a batch of `len` events (everything dropped).
    pub fn new(len: usize) -> Self {
        Output {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            keep: Vec::new(),
            edits: Vec::new(),
            replaced: Vec::new(),
            added: Vec::new(),
            rejected: Vec::new(),
            misuse: None,
        }
    }

    fn check(&mut self, index: u32) -> bool {
        if index < self.len {
            return true;
        }
        if self.misuse.is_none() {
            self.misuse = Some(format!(
                "event index {index} out of range (batch of {})",
                self.len
            ));
        }
        false
    }

    /// Passes an event on unchanged; chain [`Kept`] methods to edit it.
    pub fn keep(&mut self, event: &EventRef<'_>) -> Kept<'_> {
        self.keep_index(event.index())
    }

    /// Passes the event at `index` on; see [`Output::keep`].
    pub fn keep_index(&mut self, index: u32) -> Kept<'_> {
        if self.check(index) {
            self.keep.push(index);
        }
        Kept { out: self, index }
    }

    /// Passes every event of the batch on.
    pub fn keep_all(&mut self) {
        self.keep = (0..self.len).collect();
    }

    /// Replaces an input event with a whole new record.
    pub fn replace(&mut self, event: &EventRef<'_>, new: ChangeEvent) -> Emitted<'_> {
        let index = event.index();
        self.check(index);
        self.replaced.push(Replaced {
            index,
            event: new,
            partition: None,
        });
        let slot = self.replaced.last_mut().map(|r| &mut r.partition);
        Emitted { slot }
    }

    /// Adds a new event at the end of the batch.
    pub fn add(&mut self, new: ChangeEvent) -> Emitted<'_> {
        self.added.push(Added {
            after: None,
            event: new,
            partition: None,
        });
        Emitted {
            slot: self.added.last_mut().map(|a| &mut a.partition),
        }
    }

    /// Adds a new event right after `event`'s own output (and earlier additions there).
    pub fn add_after(&mut self, event: &EventRef<'_>, new: ChangeEvent) -> Emitted<'_> {
        let after = event.index();
        self.check(after);
        self.added.push(Added {
            after: Some(after),
            event: new,
            partition: None,
        });
        Emitted {
            slot: self.added.last_mut().map(|a| &mut a.partition),
        }
    }

    /// Refuses one event without failing the batch; the host's error policy decides what
    /// happens to it (fail the batch, skip it, or dead-letter it).
    pub fn reject(&mut self, event: &EventRef<'_>, error: impl Into<Error>) {
        let index = event.index();
        if self.check(index) {
            self.rejected.push(Rejected {
                index,
                error: error.into(),
            });
        }
    }

    fn push_edit(&mut self, index: u32, edit: Edit) {
        match self.edits.last_mut() {
            Some(last) if last.index == index => last.edits.push(edit),
            _ => self.edits.push(EventEdits {
                index,
                edits: vec![edit],
            }),
        }
    }

    /// Sorts and checks the output against the WIT rules.
    ///
    /// # Errors
    /// An index out of range, edits of an event that is not kept, or an event both kept,
    /// replaced or rejected (or replaced or rejected twice). Also a returned event whose
    /// row images do not match its columns.
    pub fn finish(mut self) -> Result<OutputParts, Error> {
        if let Some(m) = self.misuse.take() {
            return Err(Error::Other(m));
        }
        self.keep.sort_unstable();
        self.keep.dedup();
        self.edits.sort_by_key(|e| e.index);
        let mut edits: Vec<EventEdits> = Vec::with_capacity(self.edits.len());
        for e in self.edits {
            if self.keep.binary_search(&e.index).is_err() {
                return Err(Error::Other(format!(
                    "edits for event {} which is not kept",
                    e.index
                )));
            }
            match edits.last_mut() {
                Some(last) if last.index == e.index => last.edits.extend(e.edits),
                _ => edits.push(e),
            }
        }
        self.replaced.sort_by_key(|r| r.index);
        self.rejected.sort_by_key(|r| r.index);
        for (i, r) in self.replaced.iter().enumerate() {
            let twice = i > 0 && self.replaced[i - 1].index == r.index;
            if twice || self.keep.binary_search(&r.index).is_ok() {
                return Err(Error::Other(format!(
                    "event {} is replaced twice or also kept",
                    r.index
                )));
            }
        }
        for (i, r) in self.rejected.iter().enumerate() {
            let twice = i > 0 && self.rejected[i - 1].index == r.index;
            let replaced = self
                .replaced
                .binary_search_by_key(&r.index, |x| x.index)
                .is_ok();
            if twice || replaced || self.keep.binary_search(&r.index).is_ok() {
                return Err(Error::Other(format!(
                    "event {} is rejected twice or also kept or replaced",
                    r.index
                )));
            }
        }
        let new_events = self.replaced.iter().map(|r| &r.event);
        for e in new_events.chain(self.added.iter().map(|a| &a.event)) {
            e.check_shape().map_err(Error::Other)?;
        }
        Ok(OutputParts {
            keep: self.keep,
            edits,
            replaced: self.replaced,
            added: self.added,
            rejected: self.rejected,
        })
    }
}

/// A kept event; chain edits on it. Edits are applied by the host in call order.
#[derive(Debug)]
pub struct Kept<'o> {
    out: &'o mut Output,
    index: u32,
}

impl Kept<'_> {
    /// Sets the event's output partition (for the sink's path template).
    pub fn partition(self, partition: impl Into<String>) -> Self {
        self.edit(Edit::Partition(partition.into()))
    }

    /// Sets a column value in one image (appending the column if missing; see
    /// [`ChangeEvent::set_value`]).
    pub fn set(self, image: Image, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.edit(Edit::Set {
            image,
            name: name.into(),
            value: value.into(),
        })
    }

    /// Removes a column from the event.
    pub fn remove(self, name: impl Into<String>) -> Self {
        self.edit(Edit::Remove(name.into()))
    }

    /// Renames a column.
    pub fn rename(self, old_name: impl Into<String>, new_name: impl Into<String>) -> Self {
        self.edit(Edit::Rename {
            old_name: old_name.into(),
            new_name: new_name.into(),
        })
    }

    /// Adds any [`Edit`].
    pub fn edit(self, edit: Edit) -> Self {
        if self.index < self.out.len {
            self.out.push_edit(self.index, edit);
        }
        self
    }
}

/// A replaced or added event; set its partition if needed.
#[derive(Debug)]
pub struct Emitted<'o> {
    slot: Option<&'o mut Option<String>>,
}

impl Emitted<'_> {
    /// Sets the event's output partition.
    pub fn partition(self, partition: impl Into<String>) {
        if let Some(slot) = self.slot {
            *slot = Some(partition.into());
        }
    }
}

/// A checked, sorted [`Output`], shaped like the WIT `output` record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputParts {
    /// Kept input indices, strictly ascending.
    pub keep: Vec<u32>,
    /// Edits of kept events, strictly ascending by index.
    pub edits: Vec<EventEdits>,
    /// Replaced events, strictly ascending by index.
    pub replaced: Vec<Replaced>,
    /// Added events.
    pub added: Vec<Added>,
    /// Rejected events, strictly ascending by index.
    pub rejected: Vec<Rejected>,
}

/// Where an output event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The input event at this index, kept (possibly edited).
    Kept(u32),
    /// The replacement of the input event at this index.
    Replaced(u32),
    /// An added event, after this input index (`None` = at the end).
    Added(Option<u32>),
}

/// One event of the output sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputEvent {
    /// The event.
    pub event: ChangeEvent,
    /// Its output partition (`None` = default).
    pub partition: Option<String>,
    /// Where it comes from.
    pub origin: Origin,
}

fn non_empty(p: Option<String>) -> Option<String> {
    p.filter(|p| !p.is_empty())
}

impl OutputParts {
    /// Builds the output sequence from the input events, as the host does (see the WIT
    /// `output` record): for each input index in order, the kept (edited) or replacing
    /// event, then the events added after it; finally the events added at the end.
    ///
    /// # Errors
    /// An index out of range of `input`.
    pub fn apply(self, input: &[ChangeEvent]) -> Result<Vec<OutputEvent>, Error> {
        let len = input.len();
        let bad = |i: u32| (i as usize) >= len;
        let all = self
            .keep
            .iter()
            .copied()
            .chain(self.replaced.iter().map(|r| r.index));
        if let Some(i) = all
            .chain(self.added.iter().filter_map(|a| a.after))
            .find(|&i| bad(i))
        {
            return Err(Error::Other(format!(
                "event index {i} out of range (batch of {len})"
            )));
        }
        let mut slots: Vec<Option<OutputEvent>> = vec![None; len];
        let mut edits = self.edits.into_iter().peekable();
        for index in self.keep {
            let mut event = input[index as usize].clone();
            let mut partition = None;
            while let Some(e) = edits.next_if(|e| e.index <= index) {
                if e.index == index {
                    for edit in &e.edits {
                        if let Some(p) = event.apply(edit) {
                            partition = Some(p);
                        }
                    }
                }
            }
            let partition = non_empty(partition);
            slots[index as usize] = Some(OutputEvent {
                event,
                partition,
                origin: Origin::Kept(index),
            });
        }
        for r in self.replaced {
            let (event, partition) = (r.event, non_empty(r.partition));
            let origin = Origin::Replaced(r.index);
            slots[r.index as usize] = Some(OutputEvent {
                event,
                partition,
                origin,
            });
        }
        let mut after: Vec<Vec<OutputEvent>> = vec![Vec::new(); len];
        let mut at_end = Vec::new();
        for a in self.added {
            let out = OutputEvent {
                event: a.event,
                partition: non_empty(a.partition),
                origin: Origin::Added(a.after),
            };
            match a.after {
                Some(i) => after[i as usize].push(out),
                None => at_end.push(out),
            }
        }
        let mut result = Vec::with_capacity(len + at_end.len());
        for (slot, added) in slots.into_iter().zip(after) {
            result.extend(slot);
            result.extend(added);
        }
        result.extend(at_end);
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, Op};

    fn input() -> Vec<ChangeEvent> {
        (0..4)
            .map(|i| ChangeEvent::new(Op::Insert, "d", format!("t{i}")).with(Image::After, "id", i))
            .collect()
    }

    #[test]
    fn order_follows_the_wit_rules() {
        let ev = input();
        let b = Batch::from_events(&ev);
        let mut out = Output::new(b.len());
        let e: Vec<_> = b.events().collect();
        out.add(ChangeEvent::new(Op::Ddl, "d", "end"));
        out.keep(&e[2]).set(Image::After, "x", 1).partition("p2");
        out.keep(&e[0]);
        out.replace(&e[1], ChangeEvent::new(Op::Insert, "d", "r1"))
            .partition("pr");
        out.add_after(&e[0], ChangeEvent::new(Op::Insert, "d", "a0"));
        out.reject(&e[3], Error::InvalidInput("bad".into()));
        let parts = out.finish().unwrap();
        assert_eq!(parts.keep, [0, 2]);
        assert_eq!(parts.rejected.len(), 1);
        let seq = parts.apply(&ev).unwrap();
        let tables: Vec<&str> = seq.iter().map(|o| o.event.table.as_str()).collect();
        assert_eq!(tables, ["t0", "a0", "r1", "t2", "end"]);
        assert_eq!(seq[3].partition.as_deref(), Some("p2"));
        assert_eq!(seq[3].event.get("x"), Some(&Value::Int(1)));
        assert_eq!(seq[2].origin, Origin::Replaced(1));
        assert_eq!(seq[1].origin, Origin::Added(Some(0)));
    }

    #[test]
    fn misuse_is_reported() {
        let ev = input();
        let b = Batch::from_events(&ev);
        let e0 = b.get(0).unwrap();
        let mut out = Output::new(b.len());
        out.keep(&e0);
        out.replace(&e0, e0.to_event());
        assert!(out.finish().is_err());
        let mut out = Output::new(b.len());
        out.keep_index(9);
        assert!(out.finish().is_err());
        let mut out = Output::new(b.len());
        let mut bad = e0.to_event();
        bad.columns.push("extra".into());
        out.add(bad);
        assert!(out.finish().is_err());
        let mut out = Output::new(b.len());
        out.keep_all();
        out.keep(&e0).remove("id");
        out.keep(&e0).rename("a", "b");
        let parts = out.finish().unwrap();
        assert_eq!(parts.keep, [0, 1, 2, 3]);
        assert_eq!(parts.edits.len(), 1);
        assert_eq!(parts.edits[0].edits.len(), 2);
    }
}
