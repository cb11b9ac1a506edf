//! `pixpress capabilities` and the codec list of `pixpress --version`: what
//! this build decodes and encodes, and the libraries that do it.

use serde_json::{json, Value};
use std::process::ExitCode;

/// Prints the capabilities, as text or one JSON document.
pub(crate) fn run(as_json: bool) -> ExitCode {
    let c = pixpress::capabilities();
    if as_json {
        println!("{}", capabilities_json(&c));
    } else {
        println!("decode: {}", format_names(&c.decode).join(", "));
        println!("encode: {}", format_names(&c.encode).join(", "));
        print!("{}", libraries_text(&c));
    }
    ExitCode::SUCCESS
}

/// The capabilities as JSON: `capabilities --json` and the server's answer.
pub(crate) fn capabilities_json(c: &pixpress::Capabilities) -> Value {
    let libraries: Vec<_> = c
        .libraries
        .iter()
        .map(|l| json!({ "name": l.name, "version": l.version, "license": l.license, "role": l.role }))
        .collect();
    json!({
        "version": pixpress::VERSION,
        "decode": format_names(&c.decode),
        "encode": format_names(&c.encode),
        "libraries": libraries,
    })
}

/// The formats' names.
pub(crate) fn format_names(formats: &[pixpress::Format]) -> Vec<&'static str> {
    formats.iter().map(|f| f.name()).collect()
}

/// One line per library: name, version, license, role.
fn libraries_text(c: &pixpress::Capabilities) -> String {
    c.libraries
        .iter()
        .map(|l| {
            let version = if l.version.is_empty() {
                String::new()
            } else {
                format!(" {}", l.version)
            };
            format!("  {}{version} ({}): {}\n", l.name, l.license, l.role)
        })
        .collect()
}

/// What `pixpress --version` prints: the version, then the codec libraries.
pub(crate) fn long_version() -> String {
    format!(
        "{}\ncodecs:\n{}",
        pixpress::VERSION,
        libraries_text(&pixpress::capabilities()).trim_end()
    )
}
