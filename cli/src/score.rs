//! `pixpress score`: full-reference quality metrics of one image against
//! another.

use crate::files::read_file;
use crate::json_out::finite;
use pixpress::{Error, Metric};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

pub(crate) fn run_score(
    reference: &Path,
    distorted: &Path,
    metrics: &str,
    as_json: bool,
) -> Result<ExitCode, Error> {
    let metrics: Vec<Metric> = if metrics.trim() == "all" {
        Metric::ALL.to_vec()
    } else {
        metrics
            .split(',')
            .map(Metric::from_name)
            .collect::<Result<_, _>>()?
    };
    let (a, b) = (read_file(reference)?, read_file(distorted)?);
    let mut scores = serde_json::Map::new();
    for metric in metrics {
        let score = pixpress::score(&a, &b, metric)?;
        if !as_json {
            println!("{metric:<12} {score:.6}");
        }
        scores.insert(metric.name().into(), finite(score));
    }
    if as_json {
        println!("{}", Value::Object(scores));
    }
    Ok(ExitCode::SUCCESS)
}
