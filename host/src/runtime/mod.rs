//! User logic between the transport and the sink. Today: WebAssembly components
//! ([`wasm`]); [`TransformChain`] is what the process half calls for each batch.

pub mod tool;
pub mod wasm;

pub use wasm::{TransformChain, TransformConfig, WasmError};
