//! Write wproc transforms in Rust, compiled to WebAssembly components.
//!
//! A transform receives batches of MySQL change events and decides, per event, to keep it
//! (optionally editing columns or setting its output partition), replace it, add events,
//! drop it or reject it. It runs inside the wproc host as a WebAssembly component built
//! for `wasm32-wasip2`, sandboxed (CPU deadline, memory cap, no files or network).
//!
//! # Quickstart
//!
//! `Cargo.toml`:
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! wproc-sdk = { path = "../sdk" }
//!
//! [profile.release]   # 50 KB instead of 2.5 MB
//! lto = true
//! strip = true
//! opt-level = "s"
//! codegen-units = 1
//! ```
//!
//! `src/lib.rs`, a filter that drops one table:
//! ```no_run
//! wproc_sdk::export_filter!(|e| e.table() != "audit_log");
//! ```
//!
//! A transform with config, state and edits:
//! ```no_run
//! use wproc_sdk::{Batch, Image, Output, Result, Transform};
//!
//! #[derive(serde::Deserialize)]
//! struct Mask {
//!     column: String,
//! }
//!
//! impl Transform for Mask {
//!     fn init(config: &str) -> Result<Self> {
//!         wproc_sdk::config::json(config)
//!     }
//!
//!     fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
//!         for e in batch.events() {
//!             let kept = out.keep(&e);
//!             if e.has_column(&self.column) {
//!                 kept.set(Image::After, self.column.as_str(), "***");
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! wproc_sdk::export_transform!(Mask);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` file in
//! `target/wasm32-wasip2/release/` is the component to give to `wproc run --transform`.
//!
//! # Testing without wasm
//!
//! On native targets [`export_transform!`] compiles to nothing and `testing::Harness`
//! runs the same [`Transform`] over events written as JSON Lines, so `cargo test` needs no
//! WebAssembly runtime (in a workspace whose default target is wasm, pass
//! `--target x86_64-unknown-linux-gnu`).
//!
//! # Cost model
//!
//! The batch stays in host memory ([`Batch`] is a lazy view). Op and table of all events
//! come in two host calls per batch; each value read is a host call (about 0.3 µs); a whole
//! record about 3 µs. Keep and edit events instead of rebuilding them when you can.
//!
//! The contract itself is the WIT package in `wit/` (shipped in this crate).
#![deny(missing_docs)]

mod batch;
pub mod config;
mod event;
pub mod log;
mod output;
mod value;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod rt;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

use std::fmt;

pub use batch::{Batch, EventRef, RowRef};
pub use event::{ChangeEvent, Edit, Header, Image, Op, Position, TableName};
pub use output::{
    Added, Emitted, EventEdits, Kept, Origin, Output, OutputEvent, OutputParts, Rejected, Replaced,
};
pub use value::{Date, DateTime, Time, Timestamp, Value};

/// Errors a transform returns (the WIT `transform-error`).
///
/// Returned from [`Transform::init`] it stops the pipeline; from [`Transform::process`] it
/// fails the batch, and the host applies the pipeline's error policy. Passed to
/// [`Output::reject`] it refuses a single event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input (config, event or value) is not what the transform accepts.
    InvalidInput(String),
    /// The input is valid but not supported by the transform.
    Unsupported(String),
    /// Anything else.
    Other(String),
}

impl Error {
    /// The message, without the kind.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidInput(m) | Error::Unsupported(m) | Error::Other(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    /// An [`Error::Other`].
    fn from(m: String) -> Self {
        Error::Other(m)
    }
}

impl From<&str> for Error {
    /// An [`Error::Other`].
    fn from(m: &str) -> Self {
        Error::Other(m.to_owned())
    }
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A transform: created once per instance from its config, then called once per batch.
///
/// Export it with [`export_transform!`]. The host calls `process` with batches in commit
/// order, one at a time; state kept in `self` lives as long as the instance. After a trap
/// (a panic, the CPU deadline, the memory cap) the host starts a fresh instance and calls
/// `init` again, so state must not be needed for correctness across batches.
///
/// ```no_run
/// use wproc_sdk::{Batch, Op, Output, Result, Transform};
///
/// struct NoDeletes;
///
/// impl Transform for NoDeletes {
///     fn init(_config: &str) -> Result<Self> {
///         Ok(NoDeletes)
///     }
///
///     fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
///         for e in batch.events().filter(|e| e.op() != Op::Delete) {
///             out.keep(&e);
///         }
///         Ok(())
///     }
/// }
///
/// wproc_sdk::export_transform!(NoDeletes);
/// ```
pub trait Transform: Sized + 'static {
    /// Builds the transform from the config string of the pipeline file (empty when none).
    /// See [`config`] for parsing helpers.
    ///
    /// # Errors
    /// Any [`Error`]: the pipeline does not start.
    fn init(config: &str) -> Result<Self>;

    /// Transforms one batch: record in `out` what to emit. Events not kept, replaced or
    /// rejected are dropped.
    ///
    /// # Errors
    /// Any [`Error`] fails the whole batch (use [`Output::reject`] to refuse single events).
    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()>;
}

/// Exports a [`Transform`] type as the component's `init` and `process`.
///
/// Use it once per crate, with a type path. On native targets it only checks that the
/// type implements [`Transform`], so the crate still builds and tests natively.
///
/// ```no_run
/// # use wproc_sdk::{Batch, Output, Result, Transform};
/// struct Passthrough;
/// impl Transform for Passthrough {
///     fn init(_: &str) -> Result<Self> { Ok(Passthrough) }
///     fn process(&mut self, _: &Batch<'_>, out: &mut Output) -> Result<()> {
///         out.keep_all();
///         Ok(())
///     }
/// }
/// wproc_sdk::export_transform!(Passthrough);
/// ```
#[macro_export]
#[rustfmt::skip] // rustfmt mangles the `with_types_in` invocation
macro_rules! export_transform {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            ::std::thread_local! {
                static __WPROC_STATE: ::core::cell::RefCell<::core::option::Option<$t>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __WprocGuest;

            impl $crate::bindings::Guest for __WprocGuest {
                fn init(config: ::std::string::String) -> $crate::rt::InitResult {
                    $crate::rt::init::<$t>(&__WPROC_STATE, config)
                }

                fn process(batch: &$crate::bindings::Batch) -> $crate::rt::ProcessResult {
                    $crate::rt::process::<$t>(&__WPROC_STATE, batch)
                }
            }

            $crate::bindings::__export_world!(__WprocGuest with_types_in $crate::bindings);
        };

        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = || {
            fn assert_transform<T: $crate::Transform>() {}
            assert_transform::<$t>();
        };
    };
}

/// Exports a filter: a function or closure `fn(&EventRef) -> bool` that says which events
/// to keep; the others are dropped. It needs no config.
///
/// ```no_run
/// use wproc_sdk::Op;
/// wproc_sdk::export_filter!(|e| e.op() != Op::Ddl && e.db() == "shop");
/// ```
#[macro_export]
macro_rules! export_filter {
    ($keep:expr) => {
        #[doc(hidden)]
        pub struct __WprocFilter;

        impl $crate::Transform for __WprocFilter {
            fn init(_config: &str) -> $crate::Result<Self> {
                ::core::result::Result::Ok(__WprocFilter)
            }

            fn process(
                &mut self,
                batch: &$crate::Batch<'_>,
                out: &mut $crate::Output,
            ) -> $crate::Result<()> {
                let keep: fn(&$crate::EventRef<'_>) -> bool = $keep;
                for e in batch.events() {
                    if keep(&e) {
                        out.keep(&e);
                    }
                }
                ::core::result::Result::Ok(())
            }
        }

        $crate::export_transform!(__WprocFilter);
    };
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The WIT shipped in the crate must be the repository's contract, byte for byte.
    #[test]
    fn shipped_wit_matches_repository_wit() {
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let list = |dir: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".wit"))
                .collect();
            names.sort();
            names
        };
        let names = list(&repo);
        assert!(!names.is_empty(), "no .wit files in {}", repo.display());
        assert_eq!(list(&sdk), names, "sdk/wit and wit/ hold different files");
        for name in names {
            let a = std::fs::read(repo.join(&name)).unwrap();
            let b = std::fs::read(sdk.join(&name)).unwrap();
            assert!(
                a == b,
                "sdk/wit/{name} differs from wit/{name}: run `cp wit/*.wit sdk/wit/`"
            );
        }
    }

    #[test]
    fn error_display() {
        let e = crate::Error::InvalidInput("x".into());
        assert_eq!(e.to_string(), "invalid input: x");
        assert_eq!(e.message(), "x");
        assert_eq!(crate::Error::from("y"), crate::Error::Other("y".into()));
    }
}
