//! `pixpress meta`: `show`, `diff`, `write` and `restore` a file's metadata
//! without re-encoding pixels.

use crate::files::read_file;
use crate::json_out::report_json;
use crate::listing::finish_listing;
use clap::{Args, Subcommand};
use pixpress::{Error, Options};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `pixpress meta` does.
#[derive(Subcommand)]
pub(crate) enum MetaCommand {
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
pub(crate) struct MetaWriteArgs {
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

pub(crate) fn run_meta(command: MetaCommand) -> Result<ExitCode, Error> {
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
            let record =
                read_file(&record.unwrap_or_else(|| pixpress::restore_record_path(&file)))?;
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
            pixpress::write_output(
                output,
                &rewritten.data,
                rewritten.metadata.restore_record.as_deref(),
            )?;
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
