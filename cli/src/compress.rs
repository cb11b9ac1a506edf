//! `pixpress compress`: files and directories into OUTDIR on a pool of
//! `--jobs` threads, with a text or JSON report.

use crate::files::read_file;
use crate::json_out::{finite, report_json};
use crate::options::{options_from, OptionArgs};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pixpress::{Compressed, Error, Options};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub(crate) struct CompressArgs {
    /// Input files and directories.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output directory.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    pub(crate) options: OptionArgs,
    /// Files compressed at once (default: one per core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run_compress(args: CompressArgs) -> Result<ExitCode, Error> {
    let options = options_from(&args.options)?;
    let plan = pixpress::Plan::new(pixpress::PlanSpec {
        inputs: &args.inputs,
        output_dir: &args.output,
        skip: None,
        include: &[],
        exclude: &[],
        naming: pixpress::DEFAULT_NAMING,
        extension: options.format.extension(),
    })?;
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(plan.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {wide_msg}")
            .expect("valid template"),
    );
    let results: Vec<_> = pool.install(|| {
        (0..plan.len())
            .into_par_iter()
            .map(|index| {
                let result = compress_one(&plan, index, &options);
                bar.inc(1);
                result
            })
            .collect()
    });
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let (mut bytes_in, mut bytes_out, mut failed) = (0u64, 0u64, 0usize);
    let mut frames_dropped = 0u64;
    let mut files = Vec::new();
    for (index, result) in results.iter().enumerate() {
        let input = plan.input(index);
        match result {
            Ok((len, out, path)) => {
                bytes_in += len;
                bytes_out += out.data.len() as u64;
                let mut file = json!({
                    "input": input, "output": path, "format": out.format.name(),
                    "width": out.width, "height": out.height, "bytes_in": len,
                    "bytes_out": out.data.len(), "unchanged": out.unchanged,
                    "frames": out.frames, "frames_dropped": out.frames_dropped,
                });
                if out.frames_dropped > 0 {
                    frames_dropped += u64::from(out.frames_dropped);
                    if !args.json {
                        eprintln!(
                            "{}: {} of {} frames not written (only a WebP output of a GIF or WebP keeps an animation; `pages` or a `target` keeps fewer)",
                            input.display(),
                            out.frames_dropped,
                            out.frames + out.frames_dropped,
                        );
                    }
                }
                if !out.candidates.is_empty() {
                    file["candidates"] = out
                        .candidates
                        .iter()
                        .map(|c| match &c.result {
                            Ok(search) => {
                                json!({ "format": c.format.name(), "search": search_json(search) })
                            }
                            Err(e) => json!({ "format": c.format.name(), "error": e }),
                        })
                        .collect();
                }
                if let Some(search) = &out.search {
                    file["search"] = search_json(search);
                    if !args.json {
                        println!(
                            "{}: {} {:.3} at quality {}, {} bytes, {} trials ({} full), {:.2} s",
                            input.display(),
                            search.metric,
                            search.score,
                            search.quality.map_or("lossless".into(), |q| q.to_string()),
                            search.bytes,
                            search.trials,
                            search.full_encodes,
                            search.time.as_secs_f64()
                        );
                    }
                }
                let report = &out.metadata;
                if report != &pixpress::MetadataReport::default() {
                    file["metadata"] = report_json(path, report);
                }
                files.push(file);
            }
            Err(e) => {
                failed += 1;
                files.push(
                    json!({ "input": input, "error": e.to_string(), "code": e.kind().code() }),
                );
                if !args.json {
                    eprintln!("failed: {}: {e}", input.display());
                }
            }
        }
    }
    let ratio = if bytes_in > 0 {
        bytes_out as f64 / bytes_in as f64
    } else {
        0.0
    };
    let summary = json!({
        "files": plan.len(), "succeeded": plan.len() - failed, "failed": failed,
        "bytes_in": bytes_in, "bytes_out": bytes_out, "ratio": ratio, "seconds": seconds,
        "frames_dropped": frames_dropped,
    });
    if args.json {
        println!("{}", json!({ "summary": summary, "files": files }));
    } else {
        print_summary(&summary);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Compresses task `index` of `plan` and writes its output where the plan
/// says: `(input bytes, the result, the output path)`.
fn compress_one(
    plan: &pixpress::Plan,
    index: usize,
    options: &Options,
) -> Result<(u64, Compressed, PathBuf), Error> {
    if let Some(problem) = plan.problem(index) {
        return Err(problem);
    }
    let input = read_file(&plan.input(index))?;
    let out = pixpress::compress(&input, options)?;
    let path = plan.write_output(index, &out)?;
    Ok((input.len() as u64, out, path))
}

/// A target search's report as JSON.
fn search_json(search: &pixpress::SearchReport) -> Value {
    json!({
        "target": search.target.to_string(), "metric": search.metric.name(),
        "score": finite(search.score), "aim": finite(search.aim), "bytes": search.bytes, "quality": search.quality,
        "trials": search.trials, "full_encodes": search.full_encodes,
        "sampled": search.sampled, "seconds": search.time.as_secs_f64(),
        "tuned": search.tuned.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
    })
}

fn print_summary(s: &Value) {
    println!(
        "files      {} ({} ok, {} failed)",
        s["files"], s["succeeded"], s["failed"]
    );
    println!("bytes in   {}", s["bytes_in"]);
    println!("bytes out  {}", s["bytes_out"]);
    println!("ratio      {:.3}", s["ratio"].as_f64().unwrap_or(0.0));
    println!("time       {:.2} s", s["seconds"].as_f64().unwrap_or(0.0));
    if s["frames_dropped"].as_u64().unwrap_or(0) > 0 {
        println!(
            "frames dropped {} (frames of animations not written)",
            s["frames_dropped"]
        );
    }
}
