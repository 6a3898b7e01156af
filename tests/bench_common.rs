//! Runs the unit tests of the benchmarks' shared plumbing (`bench/common.rs`): the bench
//! targets are `harness = false`, so they are never built with `cfg(test)` themselves.

#[path = "../bench/common.rs"]
mod common;
