//! `pixpress analyze`: bytes against score over formats and settings, as a
//! table, JSON or an SVG plot.

use crate::files::read_file;
use crate::options::{options_from, OptionArgs};
use clap::Args;
use pixpress::Error;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub(crate) struct AnalyzeArgs {
    /// The image to analyse.
    file: PathBuf,
    /// Write the curves and the Pareto front as an SVG drawing here.
    #[arg(long, value_name = "SVG")]
    plot: Option<PathBuf>,
    /// Print the analysis as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Encoding options applied to every encode (resize, effort, subsampling,
    /// tables; `formats=` picks the formats, a score `target` the metric).
    #[command(flatten)]
    options: OptionArgs,
}

pub(crate) fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode, Error> {
    let options = options_from(&args.options)?;
    let data = read_file(&args.file)?;
    let analysis = pixpress::analyze(&data, &options)?;
    if let Some(path) = &args.plot {
        pixpress::write_atomic(path, analysis.to_svg().as_bytes())?;
    }
    if args.json {
        println!("{}", analysis.to_json());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} {}x{}, {}",
        args.file.display(),
        analysis.width,
        analysis.height,
        analysis.metric
    );
    println!(
        "{:<6} {:>8} {:>10} {:>10}  pareto",
        "format", "quality", "bytes", "score"
    );
    for p in &analysis.points {
        let quality = p.quality.map_or("lossless".into(), |q| q.to_string());
        let pareto = if p.pareto { "*" } else { "" };
        println!(
            "{:<6} {quality:>8} {:>10} {:>10.3}  {pareto}",
            p.format.name(),
            p.bytes,
            p.score
        );
    }
    if let Some(path) = &args.plot {
        println!("plot written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
