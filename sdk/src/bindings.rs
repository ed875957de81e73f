//! Raw bindings generated from `wit/` (hidden; use the crate's own types).
#![allow(missing_docs, unsafe_code, clippy::all)]

wit_bindgen::generate!({
    path: "wit",
    world: "transform",
    pub_export_macro: true,
    export_macro_name: "__export_world",
    default_bindings_module: "wproc_sdk::bindings",
});
