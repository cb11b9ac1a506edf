//! `pixpress batch`: a resumable session over many files.

use crate::options::{option_pairs, OptionArgs};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pixpress::{Error, Session, SessionSpec, SessionStatus, TaskOutcome};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Args)]
pub(crate) struct BatchArgs {
    /// Input files and directories.
    #[arg(required_unless_present = "status")]
    inputs: Vec<PathBuf>,
    /// Output directory.
    #[arg(short, long, required_unless_present = "status")]
    output: Option<PathBuf>,
    /// Report on the session of OUTDIR instead of running it.
    #[arg(long, value_name = "OUTDIR", conflicts_with = "inputs")]
    status: Option<PathBuf>,
    /// State directory (default OUTDIR/.pixpress-session).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Only files matching this glob, relative to their input directory (repeatable; default: image extensions).
    #[arg(long)]
    include: Vec<String>,
    /// Skip files matching this glob (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Output naming rule below OUTDIR: {path}, {dir}, {name}, {ext}, {srcext}.
    #[arg(long, default_value = pixpress::DEFAULT_NAMING)]
    name: String,
    /// JPEG outputs of at least this many pixels are encoded in checkpointed
    /// strips (baseline, standard Huffman tables), so a crash mid-image resumes
    /// at the next strip; 0 turns this off.
    #[arg(long, value_name = "PIXELS", default_value_t = pixpress::DEFAULT_STRIP_PIXELS)]
    strip_pixels: u64,
    /// Retry the files that failed in earlier runs.
    #[arg(long)]
    retry_failed: bool,
    #[command(flatten)]
    pub(crate) options: OptionArgs,
    /// Worker threads (default: one per core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs (or resumes) the batch, or reports on it with `--status`.
pub(crate) fn run(args: BatchArgs) -> Result<ExitCode, Error> {
    if let Some(outdir) = &args.status {
        let state = args
            .state
            .clone()
            .unwrap_or_else(|| outdir.join(pixpress::STATE_DIR_NAME));
        // Read-only: the session may be running in another process.
        let session = Session::open_read_only(&state)?;
        return Ok(report(&session, None, args.json));
    }
    let spec = SessionSpec {
        inputs: args.inputs.clone(),
        output_dir: args
            .output
            .clone()
            .expect("clap requires -o without --status"),
        state_dir: args.state.clone(),
        options: option_pairs(&args.options)?,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        naming: args.name.clone(),
        strip_pixels: args.strip_pixels,
        jobs: args.jobs.unwrap_or(0),
    };
    let resuming = spec.has_state();
    let mut session = Session::open_or_create(spec)?;
    if args.retry_failed {
        session.retry_failed()?;
    }
    let before = session.status();
    if resuming && !args.json {
        eprintln!(
            "resuming: {} of {} done, {} failed",
            before.done, before.total, before.failed
        );
    }
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(before.total as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {wide_msg}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let mut compressed = 0usize;
    let result = session.run(
        &mut |p| {
            bar.set_position((p.status.done + p.status.failed) as u64);
            let eta = p
                .eta
                .map_or(String::new(), |d| format!(" eta {}s", d.as_secs()));
            bar.set_message(format!("{:.1} files/s{eta}", p.rate));
            match &p.task.outcome {
                TaskOutcome::Compressed => compressed += 1,
                TaskOutcome::Failed { message, .. } if !args.json => {
                    bar.suspend(|| eprintln!("failed: {}: {message}", p.task.input.display()))
                }
                _ => {}
            }
            true
        },
        &AtomicBool::new(false),
    );
    bar.finish_and_clear();
    result?;
    let run = json!({ "compressed": compressed, "seconds": started.elapsed().as_secs_f64() });
    Ok(report(&session, Some(run), args.json))
}

/// Prints the session's status (and this run's numbers); exit 1 when any task failed.
fn report(session: &Session, run: Option<Value>, as_json: bool) -> ExitCode {
    let s: SessionStatus = session.status();
    let failures: Vec<Value> = session
        .failures()
        .iter()
        .map(|(input, kind, message)| json!({ "input": input, "code": kind.code(), "error": message }))
        .collect();
    let summary = json!({
        "files": s.total, "done": s.done, "failed": s.failed, "pending": s.pending,
        "bytes_in": s.bytes_in, "bytes_out": s.bytes_out,
        "state_dir": session.spec().state_dir(),
    });
    if as_json {
        println!(
            "{}",
            json!({ "summary": summary, "run": run, "failures": failures })
        );
    } else {
        println!(
            "files      {} ({} done, {} failed, {} pending)",
            s.total, s.done, s.failed, s.pending
        );
        println!("bytes in   {}", s.bytes_in);
        println!("bytes out  {}", s.bytes_out);
        if let Some(run) = &run {
            println!(
                "this run   {} compressed in {:.2} s",
                run["compressed"],
                run["seconds"].as_f64().unwrap_or(0.0)
            );
        }
        for f in &failures {
            let input = f["input"].as_str().map(Path::new).unwrap_or(Path::new(""));
            println!("failed     {}: {}", input.display(), f["error"]);
        }
    }
    if s.failed == 0 && s.pending == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
