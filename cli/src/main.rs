//! The `pixpress` command: `compress` and `batch` (resumable) over files and
//! directories, `score` and `analyze` for quality, `meta show`, `diff`, `write`
//! and `restore` for metadata, `info` for a file's header.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pixpress::{Compressed, Error, Metric, Options};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod batch;

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
}

#[derive(Args)]
struct CompressArgs {
    /// Input files and directories.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output directory.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    options: OptionArgs,
    /// Files compressed at once (default: one per core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AnalyzeArgs {
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

#[derive(Args)]
struct BatchArgs {
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
    options: OptionArgs,
    /// Worker threads (default: one per core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// The encoding flags `compress` and `batch` share.
#[derive(Args)]
struct OptionArgs {
    /// Output format: jpeg, png, webp, avif, heic, same, or auto (the smallest
    /// of `-s formats=jpeg,webp,avif` meeting the target).
    #[arg(short, long)]
    format: Option<String>,
    /// Quality 1-100.
    #[arg(short, long)]
    quality: Option<String>,
    /// Resize box WxH (either side may be left out: 800x, x600).
    #[arg(short, long)]
    resize: Option<String>,
    /// How the resize box is filled: inside, cover or exact.
    #[arg(long)]
    fit: Option<String>,
    /// Metadata policy: keep, web (no GPS, serial numbers, owner names,
    /// MakerNote or thumbnail) or strip (ICC only), then +NAME/-NAME rules:
    /// groups (gps, location, makernote, thumbnail, serials, owner, exif, xmp,
    /// iptc, icc), EXIF tag names, XMP prefix:Name, IPTC iptc:Name.
    /// Example: web,+gps,-iptc:City. `gps=1km` keeps the position rounded
    /// to that distance instead.
    #[arg(short, long)]
    metadata: Option<String>,
    /// Also write FILE.pxpr next to each output: a restore record of what the
    /// metadata policy removed or changed (`pixpress meta restore` puts it back).
    #[arg(long)]
    restore_record: bool,
    /// Add an XMP provenance record: BLAKE3 of the input, capture time, these
    /// options, the pixpress version.
    #[arg(long)]
    provenance: bool,
    /// Encoder effort 0 (fastest) to 10 (smallest).
    #[arg(short, long)]
    effort: Option<String>,
    /// Lossless output (for JPEG input to JPEG: re-encode coefficients only).
    #[arg(long)]
    lossless: bool,
    /// Quality target instead of a fixed quality: ssimulacra2=80, ssim=0.98,
    /// psnr=40, or a byte budget size=100KB. The smallest passing file is kept.
    #[arg(short, long)]
    target: Option<String>,
    /// Any option of the shared vocabulary, as KEY=VALUE (repeatable).
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Memory budget for the files compressed at once (such as 512MB, 2GB):
    /// each is admitted by its estimated memory and waits rather than go over.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    memory_budget: Option<u64>,
}

/// `--memory-budget`'s value, parsed by the core's byte-size rule.
fn parse_bytes(text: &str) -> Result<u64, String> {
    pixpress::parse_byte_size(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let budget = match &cli.command {
        Command::Compress(args) => args.options.memory_budget,
        Command::Batch(args) => args.options.memory_budget,
        _ => None,
    };
    if budget.is_some() {
        pixpress::set_memory_budget(budget);
    }
    let result = match cli.command {
        Command::Compress(args) => run_compress(*args),
        Command::Batch(args) => batch::run(*args),
        Command::Score {
            reference,
            distorted,
            metric,
            json,
        } => run_score(&reference, &distorted, &metric, json),
        Command::Info { files, json } => run_info(&files, json),
        Command::Analyze(args) => run_analyze(*args),
        Command::Meta(command) => run_meta(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pixpress: {e}");
            ExitCode::from(2)
        }
    }
}

/// The flags as `(key, value)` pairs of the shared vocabulary, each checked.
fn option_pairs(args: &OptionArgs) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = Vec::new();
    let flags = [
        ("format", &args.format),
        ("quality", &args.quality),
        ("resize", &args.resize),
        ("fit", &args.fit),
        ("metadata", &args.metadata),
        ("effort", &args.effort),
        ("target", &args.target),
    ];
    for (key, value) in flags {
        if let Some(value) = value {
            pairs.push((key.to_string(), value.clone()));
        }
    }
    let switches = [
        ("lossless", args.lossless),
        ("restore_record", args.restore_record),
        ("provenance", args.provenance),
    ];
    for (key, on) in switches {
        if on {
            pairs.push((key.into(), "true".into()));
        }
    }
    for pair in &args.set {
        let (key, value) = pair.split_once('=').ok_or_else(|| Error::InvalidOption {
            key: pair.clone(),
            reason: "expected KEY=VALUE".into(),
        })?;
        pairs.push((key.to_string(), value.to_string()));
    }
    Options::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(pairs)
}

fn options_from(args: &OptionArgs) -> Result<Options, Error> {
    let pairs = option_pairs(args)?;
    Options::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
    let path = plan.output(index, out.format);
    plan.check_output(index, &path)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::Io {
            path: parent.display().to_string(),
            source: e,
        })?;
    }
    pixpress::write_atomic(&path, &out.data)?;
    write_record(&path, &out.metadata)?;
    Ok((input.len() as u64, out, path))
}

/// The restore record's sidecar: `OUTPUT.pxpr`.
fn record_path(output: &Path) -> PathBuf {
    let mut path = output.as_os_str().to_owned();
    path.push(".pxpr");
    PathBuf::from(path)
}

/// Writes the report's restore record (if any) next to `output`.
fn write_record(output: &Path, report: &pixpress::MetadataReport) -> Result<(), Error> {
    match &report.restore_record {
        Some(record) => pixpress::write_atomic(&record_path(output), record),
        None => Ok(()),
    }
}

/// The report as JSON: removed, moved and changed fields, and the record's sidecar.
fn report_json(output: &Path, report: &pixpress::MetadataReport) -> Value {
    let mut value =
        json!({ "removed": report.removed, "moved": report.moved, "changed": report.changed });
    if report.restore_record.is_some() {
        value["restore_record"] = json!(record_path(output));
    }
    value
}

fn run_compress(args: CompressArgs) -> Result<ExitCode, Error> {
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
                });
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

/// A target search's report as JSON.
fn search_json(search: &pixpress::SearchReport) -> Value {
    json!({
        "target": search.target.to_string(), "metric": search.metric.name(),
        "score": finite(search.score), "bytes": search.bytes, "quality": search.quality,
        "trials": search.trials, "full_encodes": search.full_encodes,
        "sampled": search.sampled, "seconds": search.time.as_secs_f64(),
        "tuned": search.tuned.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
    })
}

fn run_analyze(args: AnalyzeArgs) -> Result<ExitCode, Error> {
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

/// A score as JSON: `null` for an infinite PSNR (identical images).
fn finite(score: f64) -> Value {
    if score.is_finite() {
        json!(score)
    } else {
        Value::Null
    }
}

fn run_score(
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

fn print_summary(s: &Value) {
    println!(
        "files      {} ({} ok, {} failed)",
        s["files"], s["succeeded"], s["failed"]
    );
    println!("bytes in   {}", s["bytes_in"]);
    println!("bytes out  {}", s["bytes_out"]);
    println!("ratio      {:.3}", s["ratio"].as_f64().unwrap_or(0.0));
    println!("time       {:.2} s", s["seconds"].as_f64().unwrap_or(0.0));
}

fn run_info(files: &[PathBuf], as_json: bool) -> Result<ExitCode, Error> {
    let mut failed = false;
    let mut out = Vec::new();
    for file in files {
        let result = read_file(file).and_then(|data| pixpress::probe(&data));
        match result {
            Ok(i) => {
                let v = json!({
                    "file": file, "format": i.format.name(), "width": i.width, "height": i.height,
                    "bit_depth": i.bit_depth, "has_alpha": i.has_alpha, "orientation": i.orientation,
                    "frames": i.frames, "exif": i.has_exif, "xmp": i.has_xmp, "icc": i.has_icc, "iptc": i.has_iptc,
                });
                if !as_json {
                    println!(
                        "{}: {} {}x{} {}-bit{} orientation={} frames={}{}{}{}{}",
                        file.display(),
                        i.format,
                        i.width,
                        i.height,
                        i.bit_depth,
                        if i.has_alpha { " alpha" } else { "" },
                        i.orientation,
                        i.frames,
                        if i.has_exif { " exif" } else { "" },
                        if i.has_xmp { " xmp" } else { "" },
                        if i.has_icc { " icc" } else { "" },
                        if i.has_iptc { " iptc" } else { "" },
                    );
                }
                out.push(v);
            }
            Err(e) => {
                failed = true;
                if !as_json {
                    eprintln!("{}: {e}", file.display());
                }
                out.push(json!({ "file": file, "error": e.to_string(), "code": e.kind().code() }));
            }
        }
    }
    Ok(finish_listing(out, as_json, failed))
}

/// Prints the per-file JSON documents of a listing command (when asked for
/// JSON); exit code 1 when a file failed.
fn finish_listing(out: Vec<Value>, as_json: bool, failed: bool) -> ExitCode {
    if as_json {
        println!("{}", Value::Array(out));
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// What `pixpress meta` does.
#[derive(Subcommand)]
enum MetaCommand {
    /// List every EXIF, XMP, IPTC and ICC field of each file, as stored.
    Show {
        /// Files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite the metadata of JPEG, PNG and WebP files without re-encoding
    /// pixels: a policy (`--metadata web`), field edits, provenance. Files
    /// are replaced atomically unless `-o` names another.
    Write(Box<MetaWriteArgs>),
    /// Put back what a restore record (`FILE.pxpr`) holds, without
    /// re-encoding pixels. FILE is replaced atomically unless `-o` names another.
    Restore {
        /// The file whose metadata was filtered.
        file: PathBuf,
        /// Its restore record (default: FILE.pxpr).
        record: Option<PathBuf>,
        /// Write here instead of replacing FILE.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// The field-level difference from BEFORE to AFTER: fields added,
    /// removed, changed, and moved to another block (IPTC to XMP). Exits 1
    /// when they differ, as diff(1) does.
    Diff {
        /// The first file (say, the original).
        before: PathBuf,
        /// The second file (say, the compressed one).
        after: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `pixpress meta write`.
#[derive(Args)]
struct MetaWriteArgs {
    /// Files to rewrite.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Policy, as for compress (keep, web, strip, +NAME/-NAME, gps=1km).
    #[arg(short, long)]
    metadata: Option<String>,
    /// Set a field: KEY=VALUE with KEY as `meta show` prints it
    /// (EXIF:IFD0:Artist, XMP:dc:rights, IPTC:City). Repeatable.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
    /// Remove a field (or `ICC`). Repeatable.
    #[arg(long = "remove", value_name = "KEY")]
    remove: Vec<String>,
    /// Also write OUTPUT.pxpr, a restore record of what was removed or changed.
    #[arg(long)]
    restore_record: bool,
    /// Add the XMP provenance record.
    #[arg(long)]
    provenance: bool,
    /// Write here instead of replacing the file (one input only).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// The field edits of `meta write` as an interceptor.
fn field_edits(sets: &[String], removes: &[String]) -> Result<pixpress::Interceptor, Error> {
    let sets: Vec<(String, String)> = sets
        .iter()
        .map(|pair| {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                Error::InvalidArgument(format!("--field {pair}: expected KEY=VALUE"))
            })?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<Result<_, Error>>()?;
    Ok(pixpress::Interceptor::edits(sets, removes.to_vec()))
}

/// The bytes of `path`, or an I/O error naming it.
fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}

fn run_meta_write(args: MetaWriteArgs) -> Result<ExitCode, Error> {
    if args.output.is_some() && args.files.len() > 1 {
        return Err(Error::InvalidArgument(
            "-o takes one input file".to_string(),
        ));
    }
    let mut options = Options::default();
    if let Some(policy) = &args.metadata {
        options.set("metadata", policy)?;
    }
    options.restore_record = args.restore_record;
    options.provenance = args.provenance;
    if !args.fields.is_empty() || !args.remove.is_empty() {
        options.interceptor = Some(field_edits(&args.fields, &args.remove)?);
    }
    let mut failed = false;
    for file in &args.files {
        let result = read_file(file).and_then(|data| {
            let rewritten = pixpress::rewrite_metadata(&data, &options)?;
            let output = args.output.as_deref().unwrap_or(file);
            pixpress::write_atomic(output, &rewritten.data)?;
            write_record(output, &rewritten.metadata)?;
            let report = report_json(output, &rewritten.metadata);
            println!("{}", json!({ "file": output, "metadata": report }));
            Ok(())
        });
        if let Err(e) = result {
            failed = true;
            eprintln!("{}: {e}", file.display());
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_metadata(file: &Path) -> Result<pixpress::Metadata, Error> {
    pixpress::read_metadata(&read_file(file)?)
}

fn run_meta(command: MetaCommand) -> Result<ExitCode, Error> {
    match command {
        MetaCommand::Show {
            files,
            json: as_json,
        } => {
            let mut failed = false;
            let mut out = Vec::new();
            for file in &files {
                match read_metadata(file) {
                    Ok(metadata) => {
                        if as_json {
                            out.push(json!({ "file": file, "fields": metadata.fields_json() }));
                        } else {
                            println!("{}:", file.display());
                            for f in &metadata.fields() {
                                println!("  {f}");
                            }
                        }
                    }
                    Err(e) => {
                        failed = true;
                        if as_json {
                            out.push(json!({ "file": file, "error": e.to_string(), "code": e.kind().code() }));
                        } else {
                            eprintln!("{}: {e}", file.display());
                        }
                    }
                }
            }
            Ok(finish_listing(out, as_json, failed))
        }
        MetaCommand::Write(args) => run_meta_write(*args),
        MetaCommand::Restore {
            file,
            record,
            output,
        } => {
            let record = read_file(&record.unwrap_or_else(|| record_path(&file)))?;
            let restored = pixpress::restore_metadata(&read_file(&file)?, &record)?;
            pixpress::write_atomic(output.as_deref().unwrap_or(&file), &restored.data)?;
            Ok(ExitCode::SUCCESS)
        }
        MetaCommand::Diff {
            before,
            after,
            json: as_json,
        } => {
            let diff = read_metadata(&before)?.diff(&read_metadata(&after)?);
            if as_json {
                println!("{}", diff.to_json());
            } else {
                for f in &diff.added {
                    println!("+ {f}");
                }
                for f in &diff.removed {
                    println!("- {f}");
                }
                for (a, b) in &diff.changed {
                    println!("~ {}: {} -> {}", a.key(), a.value, b.value);
                }
                for (a, b) in &diff.moved {
                    println!("> {} -> {} = {}", a.key(), b.key(), b.value);
                }
            }
            Ok(if diff.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
