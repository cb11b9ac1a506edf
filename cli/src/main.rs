//! The `pixpress` command: `compress` and `batch` (resumable) over files and
//! directories, `score` and `analyze` for quality, `meta show`, `diff`, `write`
//! and `restore` for metadata, `info` for a file's header, `watermark read`
//! for the coefficient watermark, `serve` for the service (gRPC and HTTP).
//!
//! This file holds the command line's shape and the dispatch; each
//! subcommand lives in its own module (its arguments, its run function,
//! its printing).

use analyze::AnalyzeArgs;
use batch::BatchArgs;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use compress::CompressArgs;
use meta::MetaCommand;
use std::path::PathBuf;
use std::process::ExitCode;
use watermark::WatermarkCommand;

mod analyze;
mod batch;
mod capabilities;
mod compress;
mod files;
mod info;
mod json_out;
mod listing;
mod meta;
mod options;
mod score;
mod serve;
mod watermark;

#[derive(Parser)]
#[command(
    name = "pixpress",
    version,
    about = "Compress and inspect images: JPEG, PNG, WebP, AVIF, HEIC, GIF, TIFF, BMP in; JPEG, PNG, WebP, AVIF out."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compress files and directories (recursively) into OUTDIR, keeping relative paths.
    Compress(Box<CompressArgs>),
    /// Run a resumable batch job: SRC... into OUTDIR, with its state in
    /// OUTDIR/.pixpress-session. Run it again (same arguments) after a crash or
    /// kill to resume; `--status OUTDIR` reports on it.
    Batch(Box<BatchArgs>),
    /// Score DISTORTED against REFERENCE with full-reference quality metrics.
    Score {
        /// The original image.
        reference: PathBuf,
        /// The compressed or altered image (same displayed dimensions).
        distorted: PathBuf,
        /// Metrics, comma-separated: ssimulacra2, ssim, psnr, or all.
        #[arg(short, long, default_value = "ssimulacra2")]
        metric: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Bytes against score for JPEG, WebP and AVIF at several settings (and
    /// lossless PNG), with the Pareto front; `--plot` draws the curves as SVG.
    Analyze(Box<AnalyzeArgs>),
    /// Read, compare and rewrite metadata: `meta show FILE...`, `meta diff
    /// BEFORE AFTER`, `meta write FILE...`, `meta restore FILE [RECORD]`.
    #[command(subcommand)]
    Meta(MetaCommand),
    /// Print what the headers say about each file, without decoding pixels.
    Info {
        /// Files to probe.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What this build decodes and encodes, and the codec libraries (versions, licenses).
    Capabilities {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The coefficient watermark of JPEG files (`--watermark on` writes one).
    #[command(subcommand)]
    Watermark(WatermarkCommand),
    /// Run as a stateless service: gRPC (proto/pixpress/v1/pixpress.proto)
    /// and HTTP (`POST /v1/compress?format=webp`), until SIGTERM.
    Serve(Box<serve::ServeArgs>),
}

fn main() -> ExitCode {
    // Once per process: clap keeps the text for the life of the command.
    let long_version: &'static str = Box::leak(capabilities::long_version().into_boxed_str());
    let matches = Cli::command().long_version(long_version).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let budget = match &cli.command {
        Command::Compress(args) => args.options.memory_budget,
        Command::Batch(args) => args.options.memory_budget,
        _ => None,
    };
    if budget.is_some() {
        pixpress::set_memory_budget(budget);
    }
    let result = match cli.command {
        Command::Compress(args) => compress::run_compress(*args),
        Command::Batch(args) => batch::run(*args),
        Command::Score {
            reference,
            distorted,
            metric,
            json,
        } => score::run_score(&reference, &distorted, &metric, json),
        Command::Info { files, json } => info::run_info(&files, json),
        Command::Analyze(args) => analyze::run_analyze(*args),
        Command::Meta(command) => meta::run_meta(command),
        Command::Capabilities { json } => Ok(capabilities::run(json)),
        Command::Watermark(command) => watermark::run(command),
        Command::Serve(args) => serve::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pixpress: {e}");
            ExitCode::from(2)
        }
    }
}
