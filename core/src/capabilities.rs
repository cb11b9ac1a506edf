//! What this build decodes and encodes, and the libraries that do it, probed
//! from what is linked: libheif's plugins say whether an HEVC or AV1 decoder
//! and encoder are there, the C libraries give their own versions, and the
//! Rust codec crates' versions are those the build locked.

use crate::codecs;
use crate::format::Format;
use libheif_rs::{CompressionFormat, LibHeif};

/// What this build can read and write, and with which libraries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Formats this build decodes.
    pub decode: Vec<Format>,
    /// Formats this build encodes.
    pub encode: Vec<Format>,
    /// The codec libraries linked, with their versions and licenses.
    pub libraries: Vec<Library>,
}

/// One linked codec library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// The library's name (`libheif`, `libwebp`, `mozjpeg`, ...).
    pub name: String,
    /// Its version as the library reports it (or, for a Rust crate, as locked).
    pub version: String,
    /// Its license, as an SPDX expression.
    pub license: &'static str,
    /// What pixpress uses it for.
    pub role: &'static str,
}

/// Probes this build: see the [module documentation](self).
pub fn capabilities() -> Capabilities {
    let heif = LibHeif::new();
    let decoder = |format| {
        heif.decoder_descriptors(4, Some(format))
            .first()
            .map(|d| d.name())
    };
    let encoder = |format| {
        heif.encoder_descriptors(4, Some(format), None)
            .first()
            .map(|d| d.name())
    };
    let (hevc_decoder, av1_decoder) = (
        decoder(CompressionFormat::Hevc),
        decoder(CompressionFormat::Av1),
    );
    let (hevc_encoder, av1_encoder) = (
        encoder(CompressionFormat::Hevc),
        encoder(CompressionFormat::Av1),
    );
    let decode = Format::ALL
        .into_iter()
        .filter(|f| match f {
            Format::Heic => hevc_decoder.is_some(),
            Format::Avif => av1_decoder.is_some(),
            _ => true,
        })
        .collect();
    let encode = Format::ALL
        .into_iter()
        .filter(|f| match f {
            Format::Heic => codecs::can_encode(*f) && hevc_encoder.is_some(),
            Format::Avif => codecs::can_encode(*f) && av1_encoder.is_some(),
            _ => codecs::can_encode(*f),
        })
        .collect();

    let [major, minor, patch] = heif.version();
    let mut libraries = vec![
        library(
            "libheif",
            format!("{major}.{minor}.{patch}"),
            "LGPL-3.0-or-later",
            "HEIF/AVIF container",
        ),
        library(
            "mozjpeg-sys",
            crate_version("mozjpeg-sys"),
            "IJG AND BSD-3-Clause AND Zlib",
            "JPEG (mozjpeg, vendored and built by the crate)",
        ),
        library("libwebp", dotted(webp_version()), "BSD-3-Clause", "WebP"),
        library("lcms2", lcms_version(), "MIT", "colour management"),
    ];
    // libheif's plugins, present when it found them; each version from the
    // library itself (a plugin's name may carry another number: dav1d's is
    // its API version).
    let plugins = [
        (
            hevc_decoder.is_some(),
            "libde265",
            LinkedLibrary::De265,
            "LGPL-3.0-or-later",
            "HEVC decode (HEIC)",
        ),
        (
            av1_decoder.is_some(),
            "dav1d",
            LinkedLibrary::Dav1d,
            "BSD-2-Clause",
            "AV1 decode (AVIF)",
        ),
        (
            av1_encoder.is_some(),
            "aom",
            LinkedLibrary::Aom,
            "BSD-2-Clause",
            "AV1 encode (AVIF)",
        ),
    ];
    for (present, name, linked, license, role) in plugins {
        if present {
            libraries.push(library(name, linked_version(linked), license, role));
        }
    }
    if let Some(name) = hevc_encoder {
        libraries.push(library(
            &name,
            String::new(),
            "GPL-2.0-or-later",
            "HEVC encode (HEIC, opt-in)",
        ));
    }
    for (name, license, role) in [
        ("png", "MIT OR Apache-2.0", "PNG decode and encode"),
        ("oxipng", "MIT", "PNG optimization"),
        ("gif", "MIT OR Apache-2.0", "GIF decode"),
        ("tiff", "MIT", "TIFF decode"),
        ("fast_image_resize", "MIT OR Apache-2.0", "resizing"),
    ] {
        libraries.push(library(name, crate_version(name), license, role));
    }
    Capabilities {
        decode,
        encode,
        libraries,
    }
}

fn library(name: &str, version: String, license: &'static str, role: &'static str) -> Library {
    Library {
        name: name.to_string(),
        version,
        license,
        role,
    }
}

/// The locked version of the crate `name` (see build.rs), or `unknown`.
fn crate_version(name: &str) -> String {
    env!("PIXPRESS_CRATE_VERSIONS")
        .split(';')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("unknown")
        .to_string()
}

/// libwebp's encoder version, `0xMMmmpp`.
fn webp_version() -> u32 {
    // SAFETY: WebPGetEncoderVersion takes no arguments and reads no state.
    let version = unsafe { libwebp_sys::WebPGetEncoderVersion() };
    u32::try_from(version).unwrap_or(0)
}

/// `0xMMmmpp` as `MM.mm.pp`.
fn dotted(version: u32) -> String {
    format!(
        "{}.{}.{}",
        version >> 16,
        (version >> 8) & 0xff,
        version & 0xff
    )
}

/// Little CMS's version (`2160` is 2.16).
fn lcms_version() -> String {
    let version = lcms2::version();
    format!("{}.{}", version / 1000, version % 1000 / 10)
}

/// The C codec libraries libheif is linked with (see libheif-sys's build).
#[derive(Clone, Copy)]
enum LinkedLibrary {
    De265,
    Dav1d,
    Aom,
}

extern "C" {
    fn de265_get_version() -> *const std::ffi::c_char;
    fn dav1d_version() -> *const std::ffi::c_char;
    fn aom_codec_version_str() -> *const std::ffi::c_char;
}

/// The version string the library reports.
fn linked_version(which: LinkedLibrary) -> String {
    // SAFETY: each function takes no arguments and returns a pointer to a
    // static NUL-terminated string owned by the library (or null, checked).
    let text = unsafe {
        match which {
            LinkedLibrary::De265 => de265_get_version(),
            LinkedLibrary::Dav1d => dav1d_version(),
            LinkedLibrary::Aom => aom_codec_version_str(),
        }
    };
    if text.is_null() {
        return String::new();
    }
    // SAFETY: non-null, NUL-terminated and static (see above).
    let text = unsafe { std::ffi::CStr::from_ptr(text) };
    text.to_string_lossy().trim_start_matches('v').to_string()
}
