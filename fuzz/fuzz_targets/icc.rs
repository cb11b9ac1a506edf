//! The icc parser and its edits (see fuzz/targets.rs).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::metadata_block(pixpress::Block::Icc, data));
