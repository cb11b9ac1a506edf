//! JSON values more than one subcommand prints: a score (`score`, a target
//! search in `compress`) and a metadata report (`compress`, `meta write`).

use serde_json::{json, Value};
use std::path::Path;

/// A score as JSON: `null` for an infinite PSNR (identical images).
pub(crate) fn finite(score: f64) -> Value {
    if score.is_finite() {
        json!(score)
    } else {
        Value::Null
    }
}

/// The report as JSON: removed, moved and changed fields, and the record's sidecar.
pub(crate) fn report_json(output: &Path, report: &pixpress::MetadataReport) -> Value {
    let mut value =
        json!({ "removed": report.removed, "moved": report.moved, "changed": report.changed });
    if report.restore_record.is_some() {
        value["restore_record"] = json!(pixpress::restore_record_path(output));
    }
    value
}
