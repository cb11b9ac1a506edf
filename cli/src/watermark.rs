//! `pixpress watermark read`: the coefficient watermark of JPEG files.

use crate::files::read_file;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `pixpress watermark` does.
#[derive(Subcommand)]
pub(crate) enum WatermarkCommand {
    /// Reads the mark of each file: found (its time, source and data),
    /// absent, or damaged. Exit 0 when every file has one, 1 otherwise.
    Read {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The `watermark_key` the mark was made with (none: the public key).
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `watermark` subcommand.
pub(crate) fn run(command: WatermarkCommand) -> Result<ExitCode, pixpress::Error> {
    let WatermarkCommand::Read { files, key, json } = command;
    let mut all_found = true;
    for file in &files {
        let data = read_file(file)?;
        let read = pixpress::read_watermark(&data, key.as_deref())?;
        let name = file.display().to_string();
        let (state, mark) = (read.state(), read.mark());
        all_found &= mark.is_some();
        if json {
            let value = match mark {
                Some(m) => json!({
                    "file": name,
                    "state": state,
                    "time": m.time,
                    "source": hex(&m.source),
                    "data": hex(&m.data),
                    "text": String::from_utf8(m.data.clone()).ok(),
                }),
                None => json!({ "file": name, "state": state }),
            };
            println!("{value}");
        } else {
            match mark {
                Some(m) => println!(
                    "{name}: found: time {} UTC, source {}, data {}",
                    m.time,
                    hex(&m.source),
                    match std::str::from_utf8(&m.data) {
                        Ok(text) => format!("{text:?}"),
                        Err(_) => hex(&m.data),
                    }
                ),
                None => println!("{name}: {state}"),
            }
        }
    }
    Ok(if all_found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Lower-case hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
