//! Applies a guest's `output` to the batch: validation against the rules of `wit/types.wit`,
//! then the output sequence (kept and edited, replaced, added), routes and rejected events.
//!
//! Validation runs before anything moves, so a broken output leaves the input intact for the
//! error policy (dead letters hold the events the transform was given).

use std::sync::Arc;

use super::bindings::wit;
use super::convert::{event_from_wit, image_row, image_row_mut, value_from_wit};
use super::error::GuestError;
use crate::event::{ChangeEvent, Column, Value};

/// An event a guest refused, with its reason.
#[derive(Debug, Clone)]
pub struct RejectedEvent {
    /// Index in the batch the transform saw.
    pub index: u32,
    /// The event.
    pub event: ChangeEvent,
    /// The guest's reason.
    pub error: GuestError,
}

pub(crate) fn guest_error(e: wit::TransformError) -> GuestError {
    match e {
        wit::TransformError::InvalidInput(m) => GuestError::InvalidInput(m),
        wit::TransformError::Unsupported(m) => GuestError::Unsupported(m),
        wit::TransformError::Other(m) => GuestError::Other(m),
    }
}

fn ascending(what: &str, indices: impl Iterator<Item = u32>, len: usize) -> Result<(), String> {
    let mut prev: Option<u32> = None;
    for i in indices {
        if i as usize >= len {
            return Err(format!("{what}: index {i} out of range (batch of {len})"));
        }
        if prev.is_some_and(|p| p >= i) {
            return Err(format!("{what}: indices not strictly ascending at {i}"));
        }
        prev = Some(i);
    }
    Ok(())
}

fn check_shape(what: &str, e: &wit::ChangeEvent) -> Result<(), String> {
    for (image, row) in [("before", &e.before), ("after", &e.after)] {
        if let Some(row) = row
            && row.len() != e.columns.len()
        {
            return Err(format!(
                "{what} event {}.{}: {image} has {} values for {} columns",
                e.db,
                e.table,
                row.len(),
                e.columns.len()
            ));
        }
    }
    Ok(())
}

/// Checks an output against the rules of the WIT `output` record for a batch of `len` events.
pub(crate) fn validate(out: &wit::Output, len: usize) -> Result<(), String> {
    ascending("keep", out.keep.iter().copied(), len)?;
    ascending("edits", out.edits.iter().map(|e| e.index), len)?;
    ascending("replaced", out.replaced.iter().map(|r| r.index), len)?;
    ascending("rejected", out.rejected.iter().map(|r| r.index), len)?;
    let kept = |i: u32| out.keep.binary_search(&i).is_ok();
    let replaced = |i: u32| out.replaced.binary_search_by_key(&i, |r| r.index).is_ok();
    if let Some(e) = out.edits.iter().find(|e| !kept(e.index)) {
        return Err(format!("edits for event {} which is not kept", e.index));
    }
    if let Some(r) = out.replaced.iter().find(|r| kept(r.index)) {
        return Err(format!("event {} is both kept and replaced", r.index));
    }
    if let Some(r) = out
        .rejected
        .iter()
        .find(|r| kept(r.index) || replaced(r.index))
    {
        return Err(format!(
            "event {} is rejected and also kept or replaced",
            r.index
        ));
    }
    if let Some(a) = out
        .added
        .iter()
        .find(|a| a.after.is_some_and(|i| i as usize >= len))
    {
        return Err(format!(
            "added: anchor {:?} out of range (batch of {len})",
            a.after
        ));
    }
    for r in &out.replaced {
        check_shape("replacement", &r.event)?;
    }
    for a in &out.added {
        check_shape("added", &a.event)?;
    }
    Ok(())
}

fn route_of(partition: Option<String>) -> Option<Arc<str>> {
    partition.filter(|p| !p.is_empty()).map(Arc::from)
}

/// The result of applying a valid output.
pub(crate) struct Applied {
    pub(crate) events: Vec<ChangeEvent>,
    /// Aligned with `events`, or empty when no event has a route.
    pub(crate) routes: Vec<Option<Arc<str>>>,
    pub(crate) rejected: Vec<RejectedEvent>,
}

/// Builds the output sequence from a validated output. `routes` are the input events' routes
/// (aligned, or empty): a kept event keeps its route unless an edit sets a new one.
pub(crate) fn apply(
    out: wit::Output,
    events: Vec<ChangeEvent>,
    routes: Vec<Option<Arc<str>>>,
) -> Applied {
    let only_keep = out.edits.is_empty()
        && out.replaced.is_empty()
        && out.added.is_empty()
        && out.rejected.is_empty();
    let mut keep = out.keep.into_iter().peekable();
    if only_keep && routes.is_empty() {
        // The filter fast path: move the kept events, nothing else to do.
        let events = events
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| keep.next_if_eq(&(i as u32)).map(|_| e))
            .collect();
        return Applied {
            events,
            routes: Vec::new(),
            rejected: Vec::new(),
        };
    }
    let mut edits = out.edits.into_iter().peekable();
    let mut replaced = out.replaced.into_iter().peekable();
    let mut rejected_in = out.rejected.into_iter().peekable();
    let (mut anchored, mut at_end): (Vec<wit::Added>, Vec<wit::Added>) =
        out.added.into_iter().partition(|a| a.after.is_some());
    anchored.sort_by_key(|a| a.after);
    let mut anchored = anchored.into_iter().peekable();

    let mut result = Vec::with_capacity(events.len());
    let mut result_routes = Vec::with_capacity(events.len());
    let mut rejected = Vec::new();
    let input_routes = routes.into_iter().chain(std::iter::repeat(None));
    for (i, (event, route)) in events.into_iter().zip(input_routes).enumerate() {
        let i = i as u32;
        if keep.next_if_eq(&i).is_some() {
            let mut event = event;
            let mut route = route;
            if let Some(e) = edits.next_if(|e| e.index == i) {
                apply_edits(&mut event, e.edits, &mut route);
            }
            result.push(event);
            result_routes.push(route);
        } else if let Some(r) = replaced.next_if(|r| r.index == i) {
            result.push(event_from_wit(r.event, Some(&event)));
            result_routes.push(route_of(r.partition));
        } else if let Some(r) = rejected_in.next_if(|r| r.index == i) {
            rejected.push(RejectedEvent {
                index: i,
                event,
                error: guest_error(r.error),
            });
        }
        while let Some(a) = anchored.next_if(|a| a.after == Some(i)) {
            let like = result.last();
            result.push(event_from_wit(a.event, like));
            result_routes.push(route_of(a.partition));
        }
    }
    for a in at_end.drain(..) {
        result.push(event_from_wit(a.event, None));
        result_routes.push(route_of(a.partition));
    }
    if result_routes.iter().all(Option::is_none) {
        result_routes.clear();
    }
    Applied {
        events: result,
        routes: result_routes,
        rejected,
    }
}

/// Applies a kept event's edits in order (see `edit` in `wit/types.wit`).
fn apply_edits(e: &mut ChangeEvent, edits: Vec<wit::Edit>, route: &mut Option<Arc<str>>) {
    // Column lists are shared between the events of a table: copied only when an edit
    // changes the names.
    let mut columns: Option<Vec<Column>> = None;
    for edit in edits {
        let find = |cols: &Option<Vec<Column>>, e: &ChangeEvent, name: &str| {
            cols.as_deref()
                .unwrap_or(&e.columns)
                .iter()
                .position(|c| *c.name == *name)
        };
        match edit {
            wit::Edit::Set(cv) => {
                let value = value_from_wit(cv.value);
                let idx = match find(&columns, e, &cv.name) {
                    Some(i) => i,
                    None if image_row(e, cv.image).is_some() => {
                        let cols = columns.get_or_insert_with(|| e.columns.to_vec());
                        cols.push(Column {
                            name: cv.name.into(),
                            sql_type: value.type_name().into(),
                        });
                        for row in [&mut e.before, &mut e.after].into_iter().flatten() {
                            row.push(Value::Null);
                        }
                        cols.len() - 1
                    }
                    None => continue,
                };
                if let Some(slot) = image_row_mut(e, cv.image).and_then(|r| r.get_mut(idx)) {
                    *slot = value;
                }
            }
            wit::Edit::Remove(name) => remove_column(e, &mut columns, &name),
            wit::Edit::Rename(r) => {
                if r.old_name == r.new_name || find(&columns, e, &r.old_name).is_none() {
                    continue;
                }
                remove_column(e, &mut columns, &r.new_name);
                if let Some(idx) = find(&columns, e, &r.old_name) {
                    let cols = columns.get_or_insert_with(|| e.columns.to_vec());
                    cols[idx].name = r.new_name.into();
                }
            }
            wit::Edit::Partition(p) => *route = route_of(Some(p)),
        }
    }
    if let Some(cols) = columns {
        e.columns = cols.into();
    }
}

fn remove_column(e: &mut ChangeEvent, columns: &mut Option<Vec<Column>>, name: &str) {
    let cols = columns.as_deref().unwrap_or(&e.columns);
    let Some(idx) = cols.iter().position(|c| *c.name == *name) else {
        return;
    };
    columns
        .get_or_insert_with(|| e.columns.to_vec())
        .remove(idx);
    for row in [&mut e.before, &mut e.after].into_iter().flatten() {
        if idx < row.len() {
            row.remove(idx);
        }
    }
}
