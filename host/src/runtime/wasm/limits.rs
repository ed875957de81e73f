//! Sandbox limits: the CPU deadline per call (epoch ticks) and the memory cap (a
//! [`wasmtime::ResourceLimiter`]).

use std::time::Duration;

/// How often the engine's ticker thread increments the epoch: the deadline's granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Default CPU deadline of one `process` (or `init`) call.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);
/// Default cap of a transform instance's linear memories, in bytes.
pub const DEFAULT_MEMORY_BYTES: u64 = 64 << 20;
/// Cap of table elements (function tables) per instance.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Bytes of guest stdout/stderr forwarded to the host log per stream and call; the rest is
/// counted and dropped.
pub const GUEST_OUTPUT_PER_CALL: usize = 16 << 10;
/// Bytes of the latest guest stderr kept to explain a trap (a panic message lands there).
pub const STDERR_TAIL: usize = 2 << 10;

/// The limits of one transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU deadline per call (wall clock while the guest runs).
    pub deadline: Duration,
    /// Cap of the instance's linear memory, in bytes.
    pub memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: DEFAULT_DEADLINE,
            memory_bytes: DEFAULT_MEMORY_BYTES,
        }
    }
}

impl Limits {
    /// The epoch deadline, in ticks, for [`wasmtime::Store::set_epoch_deadline`]: at least the
    /// deadline, plus one tick because the current tick is already under way.
    pub fn deadline_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_micros().max(1);
        let ticks = self.deadline.as_micros().div_ceil(tick);
        u64::try_from(ticks)
            .unwrap_or(u64::MAX / 2)
            .saturating_add(1)
    }
}

/// Refuses memory growth past the cap with an error (which traps the guest at once, with a
/// clear cause) and remembers that it did, so the host reports [`super::WasmError::MemoryCap`].
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: usize,
    /// The size a refused growth asked for, since the last [`MemoryLimiter::take_hit`].
    hit: Option<usize>,
    /// Largest memory size granted.
    pub(crate) peak: usize,
}

impl MemoryLimiter {
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            hit: None,
            peak: 0,
        }
    }

    /// The refused size, if the cap was hit; clears it.
    pub(crate) fn take_hit(&mut self) -> Option<usize> {
        self.hit.take()
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = Some(desired);
            wasmtime::bail!(
                "memory cap of {} bytes reached (the guest asked for {desired})",
                self.cap
            );
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Parses a human size: `65536`, `512KiB`, `64MiB`, `1GiB` (also `KB`/`MB`/`GB` as powers of
/// ten, and a space before the unit). Written here rather than with a crate: one field uses it.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected e.g. 64MiB"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        u => return Err(format!("invalid size {text:?}: unknown unit {u:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("invalid size {text:?}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn deadline_in_ticks() {
        let l = Limits {
            deadline: Duration::from_millis(500),
            memory_bytes: 0,
        };
        assert_eq!(l.deadline_ticks(), 51);
    }
}
