//! The encoding flags `compress`, `batch` and `analyze` share, and their
//! reading into the core's option vocabulary.

use clap::Args;
use pixpress::{Error, Options};

/// The encoding flags `compress` and `batch` share.
#[derive(Args)]
pub(crate) struct OptionArgs {
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
    /// How the resize box is filled: inside, contain (letterboxed onto
    /// `-s background=`), cover or exact. Operations: `-s crop=L,T,W,H`,
    /// `-s rotate=DEG` (clockwise), `-s flip=true`, `-s flop=true`,
    /// `-s flatten=true`, `-s grayscale=true`.
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
    /// Coefficient watermark of JPEG outputs: on (a new mark: time, source
    /// BLAKE3, `-s watermark_data=TEXT`), keep (the input's mark carried
    /// forward) or off. `--watermark-key` places it (`pixpress watermark read`).
    #[arg(long)]
    watermark: Option<String>,
    /// The secret that places and finds the watermark.
    #[arg(long)]
    watermark_key: Option<String>,
    /// Any option of the shared vocabulary, as KEY=VALUE (repeatable).
    #[arg(short = 's', long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Memory budget for the files compressed at once (such as 512MB, 2GB):
    /// each is admitted by its estimated memory and waits rather than go over.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub(crate) memory_budget: Option<u64>,
}

/// `--memory-budget`'s value, parsed by the core's byte-size rule.
fn parse_bytes(text: &str) -> Result<u64, String> {
    pixpress::parse_byte_size(text).map_err(|e| e.to_string())
}

/// The flags as `(key, value)` pairs of the shared vocabulary, each checked.
pub(crate) fn option_pairs(args: &OptionArgs) -> Result<Vec<(String, String)>, Error> {
    let mut pairs = Vec::new();
    let flags = [
        ("format", &args.format),
        ("quality", &args.quality),
        ("resize", &args.resize),
        ("fit", &args.fit),
        ("metadata", &args.metadata),
        ("effort", &args.effort),
        ("target", &args.target),
        ("watermark", &args.watermark),
        ("watermark_key", &args.watermark_key),
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

pub(crate) fn options_from(args: &OptionArgs) -> Result<Options, Error> {
    let pairs = option_pairs(args)?;
    Options::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}
