//! Liveness and readiness, served as `/health` and `/ready`.
//!
//! `/health` answers 200 while the process serves requests at all. `/ready` answers 200 once
//! the pipeline started and every part it runs reported ready: the source connected and
//! streaming, the sink recovered (leftovers of a crash completed or removed, resume offsets
//! known), the transport opened. The pipeline declares which parts it runs with [`require`];
//! each part calls [`set`] when it becomes ready and again if it stops being so (a source that
//! lost its connection and is reconnecting is not ready).

use std::sync::Mutex;

/// A part of the pipeline that readiness waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The source is connected and streaming.
    Source,
    /// The transport is open (log opened, SLS logstore reachable).
    Transport,
    /// The sink recovered and accepts batches.
    Sink,
}

impl Part {
    /// Its name in the `/ready` body.
    pub const fn as_str(self) -> &'static str {
        match self {
            Part::Source => "source",
            Part::Transport => "transport",
            Part::Sink => "sink",
        }
    }
}

#[derive(Default)]
struct State {
    started: bool,
    required: Vec<(Part, bool)>,
}

static STATE: Mutex<State> = Mutex::new(State {
    started: false,
    required: Vec::new(),
});

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    // A poisoned lock only means a panic elsewhere; the flags stay meaningful.
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

/// Starts a new pipeline run that needs `parts` to be ready; forgets earlier state.
pub fn start(parts: &[Part]) {
    with_state(|s| {
        s.started = true;
        s.required = parts.iter().map(|p| (*p, false)).collect();
    });
}

/// Adds a part the running pipeline needs.
pub fn require(part: Part) {
    with_state(|s| {
        if !s.required.iter().any(|(p, _)| *p == part) {
            s.required.push((part, false));
        }
    });
}

/// Marks `part` ready or not.
pub fn set(part: Part, ready: bool) {
    with_state(|s| {
        for (p, r) in &mut s.required {
            if *p == part {
                *r = ready;
            }
        }
    });
}

/// The pipeline stopped: not ready any more.
pub fn stop() {
    with_state(|s| s.started = false);
}

/// Whether the pipeline is ready, and a one-line description (`ready` or what is missing).
pub fn readiness() -> (bool, String) {
    with_state(|s| {
        if !s.started {
            return (false, "not ready: pipeline not started".to_owned());
        }
        let waiting: Vec<&str> = s
            .required
            .iter()
            .filter(|(_, r)| !r)
            .map(|(p, _)| p.as_str())
            .collect();
        if waiting.is_empty() {
            (true, "ready".to_owned())
        } else {
            (
                false,
                format!("not ready: waiting for {}", waiting.join(", ")),
            )
        }
    })
}
