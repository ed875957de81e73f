//! The host bindings of `wit/` (the project's only `bindgen!`), behind curated re-exports.
//!
//! Imports are `trappable`: every host function returns `wasmtime::Result`, so a guest bug
//! (an event index out of range) traps the guest instead of panicking the host. The batch
//! resource maps to [`BatchRes`](super::host::BatchRes): the events stay in the store's
//! state, the guest only holds a borrowed handle for one `process` call.

#[allow(missing_docs, clippy::all)]
mod gen_ {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "transform",
        imports: { default: trappable },
        with: {
            "wproc:transform/batch-api.batch": crate::runtime::wasm::host::BatchRes,
        },
    });
}

pub(crate) use gen_::wproc::transform::batch_api::{Host as BatchApiHost, HostBatch};
pub(crate) use gen_::wproc::transform::types as wit;
pub(crate) use gen_::{Transform as TransformWorld, TransformImports, TransformPre};

/// Adds the transform world's imports (`log`, the batch resource) to a linker.
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<super::host::HostState>,
) -> wasmtime::Result<()> {
    TransformWorld::add_to_linker::<_, wasmtime::component::HasSelf<_>>(linker, |s| s)
}
