//! The end of a per-file listing (`info`, `meta show`): the JSON array and
//! the exit code.

use serde_json::Value;
use std::process::ExitCode;

/// Prints the per-file JSON documents of a listing command (when asked for
/// JSON); exit code 1 when a file failed.
pub(crate) fn finish_listing(out: Vec<Value>, as_json: bool, failed: bool) -> ExitCode {
    if as_json {
        println!("{}", Value::Array(out));
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
