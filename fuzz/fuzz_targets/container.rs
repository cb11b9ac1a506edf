//! The container walkers: probe, metadata read, rewrite and restore (see fuzz/targets.rs).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::container(data));
