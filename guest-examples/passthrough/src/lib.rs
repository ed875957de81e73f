//! Passes every event on unchanged. The baseline for measuring the cost of the wasm call
//! itself: no host accessor is called, the output is the list of all indices.
//!
//! Config: none.

use wproc_sdk::{Batch, Output, Result, Transform};

/// The passthrough transform.
pub struct Passthrough;

impl Transform for Passthrough {
    fn init(_config: &str) -> Result<Self> {
        Ok(Passthrough)
    }

    fn process(&mut self, _batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        out.keep_all();
        Ok(())
    }
}

wproc_sdk::export_transform!(Passthrough);

#[cfg(test)]
mod tests {
    use wproc_sdk::testing::Harness;

    use super::Passthrough;

    #[test]
    fn keeps_everything_in_order() {
        let input = r#"{"op":"insert","db":"d","table":"a","after":{"id":1}}
{"op":"delete","db":"d","table":"b","before":{"id":2}}
{"op":"ddl","db":"d","table":"b","sql":"TRUNCATE b"}"#;
        let out = Harness::<Passthrough>::new("")
            .unwrap()
            .process_jsonl(input)
            .unwrap();
        assert_eq!(out.tables(), ["d.a", "d.b", "d.b"]);
        assert_eq!(out.to_jsonl().lines().count(), 3);
    }
}
