//! `pixpress info`: what each file's headers say, without decoding pixels.

use crate::files::read_file;
use crate::listing::finish_listing;
use pixpress::Error;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) fn run_info(files: &[PathBuf], as_json: bool) -> Result<ExitCode, Error> {
    let mut failed = false;
    let mut out = Vec::new();
    for file in files {
        let result = read_file(file).and_then(|data| pixpress::probe(&data));
        match result {
            Ok(i) => {
                let mut v = info_json(&i);
                v["file"] = json!(file);
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

/// Header facts as JSON: what `info --json` prints per file and the server's probe answers.
pub(crate) fn info_json(i: &pixpress::Info) -> Value {
    json!({
        "format": i.format.name(), "width": i.width, "height": i.height,
        "bit_depth": i.bit_depth, "has_alpha": i.has_alpha, "orientation": i.orientation,
        "frames": i.frames, "exif": i.has_exif, "xmp": i.has_xmp, "icc": i.has_icc, "iptc": i.has_iptc,
    })
}
