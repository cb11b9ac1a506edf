//! What each fuzz target does with its input, shared by the cargo-fuzz
//! targets (fuzz/fuzz_targets) and the stable replay test
//! (core/tests/fuzz_replay.rs). Every path must return, never panic.

use pixpress::{Block, ErrorKind, Format, Metadata, MetadataPolicy, Options, RestoreRecord};

/// The value, or `None` for a typed error; an internal error (a caught
/// panic or a bug) fails the target.
fn typed<T>(result: pixpress::Result<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            assert_ne!(e.kind(), ErrorKind::Internal, "{e}");
            None
        }
    }
}

/// The policies every block goes through.
fn policies() -> [MetadataPolicy; 3] {
    [
        MetadataPolicy::KEEP,
        MetadataPolicy::parse("web,gps=1km").expect("valid policy"),
        MetadataPolicy::parse("keep,-location,-Make,-dc:rights,-iptc:City").expect("valid policy"),
    ]
}

/// One metadata block (EXIF as a TIFF structure, an XMP packet, a Photoshop
/// resource block with IPTC, an ICC profile) through every parser and edit:
/// listing, policies for each output container, field edits, validation,
/// the diff and a restore record.
pub fn metadata_block(block: Block, data: &[u8]) {
    let mut metadata = Metadata::default();
    *match block {
        Block::Exif => &mut metadata.exif,
        Block::Xmp => &mut metadata.xmp,
        Block::Iptc => &mut metadata.iptc,
        Block::Icc => &mut metadata.icc,
    } = Some(data.to_vec());
    let _ = metadata.fields();
    let _ = metadata.exif_orientation();
    let _ = metadata.exif_dpi();
    for policy in policies() {
        for format in [Format::Jpeg, Format::Png, Format::WebP, Format::Avif] {
            let (out, _) = metadata.for_output(&policy, format, 640, 480);
            let _ = metadata.diff(&out);
        }
    }
    let mut edited = metadata.clone();
    edited.reset_orientation();
    let _ = edited.set_field("EXIF:IFD0:Artist", "a longer artist name than most");
    let _ = edited.set_field("EXIF:GPS:GPSMapDatum", "WGS-84");
    let _ = edited.set_field("XMP:dc:rights", "CC0");
    let _ = edited.set_field("IPTC:City", "Zürich");
    let _ = edited.remove_field("EXIF:IFD0:Make");
    let _ = edited.remove_field("XMP:exif:GPSLatitude");
    let _ = edited.remove_field("IPTC:Keywords");
    let _ = edited.fields();
    if let Some(file) = typed(pixpress::replace_metadata(TINY_JPEG, &edited)) {
        typed(pixpress::read_metadata(&file));
    }
}

/// An encoded file through every container walker: probe, metadata read,
/// in-place rewrite under a policy (with a restore record) and restore.
pub fn container(data: &[u8]) {
    typed(pixpress::probe(data));
    typed(pixpress::read_metadata(data));
    let options = Options::from_pairs([("metadata", "web,gps=1km"), ("restore_record", "true")])
        .expect("valid options");
    if let Some(out) = typed(pixpress::rewrite_metadata(data, &options)) {
        if let Some(record) = &out.metadata.restore_record {
            typed(pixpress::restore_metadata(&out.data, record));
        }
    }
    typed(pixpress::replace_metadata(data, &Metadata::default()));
}

/// An encoded file of any kind through the whole engine: probe, then
/// compress to every output format (fastest effort, a pixel limit that keeps
/// each run small, the `web` policy so every metadata path runs).
pub fn compress(data: &[u8]) {
    typed(pixpress::probe(data));
    for format in ["jpeg", "png", "webp", "avif"] {
        let options = Options::from_pairs([
            ("format", format),
            ("effort", "0"),
            ("max_pixels", "1000000"),
            ("metadata", "web,gps=1km"),
            ("resize", "64x64"),
        ])
        .expect("valid options");
        typed(pixpress::compress(data, &options));
    }
}

/// Bytes appended to the log of a real session's state, which is then opened
/// read-only: the log parser must stop at the first bad record, never panic.
pub fn session_log(data: &[u8]) {
    use std::sync::OnceLock;
    static STATE: OnceLock<std::path::PathBuf> = OnceLock::new();
    let state = STATE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("pxp-fuzz-session-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("in")).expect("temp dir");
        std::fs::write(root.join("in/a.jpg"), TINY_JPEG).expect("temp file");
        let spec = pixpress::SessionSpec {
            inputs: vec![root.join("in")],
            output_dir: root.join("out"),
            ..Default::default()
        };
        drop(pixpress::Session::create(spec).expect("session"));
        root.join("out").join(pixpress::STATE_DIR_NAME)
    });
    let log = std::fs::read_dir(state)
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("log."))
        })
        .expect("a log");
    let original = std::fs::read(&log).expect("log");
    let mut fuzzed = original.clone();
    fuzzed.extend_from_slice(data);
    std::fs::write(&log, &fuzzed).expect("write log");
    if let Some(session) = typed(pixpress::Session::open_read_only(state)) {
        let _ = session.status();
        let _ = session.failures();
    }
    std::fs::write(&log, &original).expect("restore log");
}

/// A restore record from untrusted bytes, applied.
pub fn restore_record(data: &[u8]) {
    if let Some(record) = typed(RestoreRecord::from_bytes(data)) {
        let _ = record.to_bytes();
        typed(pixpress::restore_metadata(TINY_JPEG, data));
    }
}

/// A 1x1 baseline JPEG (no metadata) for the edits to be written into.
const TINY_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07, 0x07,
    0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12, 0x13, 0x0F,
    0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27, 0x20, 0x22, 0x2C,
    0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1F, 0x27, 0x39, 0x3D,
    0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01,
    0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xFF, 0xC4, 0x00, 0x14,
    0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x2A, 0x9F,
    0xFF, 0xD9,
];
