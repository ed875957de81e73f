//! End-to-end test support for wproc.
