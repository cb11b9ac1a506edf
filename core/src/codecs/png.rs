//! PNG: decoding through the `png` crate (via `image`), encoding through oxipng.

use super::{limit_exceeded, raster, DecodeRequest, Decoded};
use crate::codecs::EncodeParams;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::{Metadata, MetadataPolicy};
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, Rgba8, Samples};
use image::codecs::png::PngDecoder;
use std::borrow::Cow;
use std::io::Cursor;

/// oxipng preset when the caller gives no effort (0-6 scale; 2 is oxipng's own default).
const DEFAULT_PRESET: u8 = 2;

/// Largest ICC profile an `iCCP` chunk may inflate to (a zlib bomb guard:
/// 64 KiB of zlib inflate to gigabytes). Profiles are rarely above 1 MiB;
/// the largest CMYK printer profiles a few MiB.
const MAX_ICC_PROFILE: u64 = 16 << 20;

/// Largest XMP packet or IPTC raw profile a compressed text chunk may
/// inflate to (a zlib bomb guard).
const MAX_TEXT_CHUNK: u64 = 16 << 20;

/// The png crate's decoder (through `image`) over `data`, once
/// [`check_iccp`] has passed it, with [`png_budget`] as its limit.
fn decoder(data: &[u8]) -> Result<PngDecoder<Cursor<&[u8]>>> {
    check_iccp(data)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(png_budget(data));
    PngDecoder::with_limits(Cursor::new(data), limits)
        .map_err(|e| raster::map_error(Format::Png, e))
}

/// What the png crate may allocate besides the output image (its
/// `Limits`): every chunk body it buffers (at most the file, twice over as
/// its buffer doubles), the text chunks it keeps (at most the file again),
/// the ICC profile (at most [`MAX_ICC_PROFILE`], [`check_iccp`] has seen to
/// it), its row buffer (one row of at most 8 bytes a pixel: room for two
/// here), and 1 MiB to spare. The caps are the guard against bombs; this is
/// the second line, sized so that no valid file reaches it.
fn png_budget(data: &[u8]) -> u64 {
    // IHDR comes first: its width is at bytes 16..20.
    let width = data
        .get(16..20)
        .map_or(0, |w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    (data.len() as u64)
        .saturating_mul(3)
        .saturating_add(MAX_ICC_PROFILE)
        .saturating_add(u64::from(width) * 16)
        .saturating_add(1 << 20)
}

/// The chunks of `data` as (type, body), up to `IEND` or the first chunk
/// that runs past the end of the data (CRCs are not checked).
fn chunks(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
    let mut at: usize = 8;
    std::iter::from_fn(move || {
        let header = data.get(at..at.checked_add(8)?)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let body = data.get(at + 8..(at + 8).checked_add(len)?)?;
        let kind = &header[4..];
        at = if kind == b"IEND" {
            data.len()
        } else {
            at + 12 + len
        };
        Some((kind, body))
    })
}

/// Refuses a PNG with an `iCCP` chunk that inflates past
/// [`MAX_ICC_PROFILE`], before the png crate is given the file: it inflates
/// the profile while reading the header (also for a probe), and drops one
/// past its own limit without a word. A damaged profile is left to it.
fn check_iccp(data: &[u8]) -> Result<()> {
    for (kind, body) in chunks(data) {
        if kind != b"iCCP" {
            continue;
        }
        // Profile name (1-79 bytes), NUL, compression method, zlib stream.
        let name = body.iter().take(81).position(|&b| b == 0);
        if let Some(stream) = name.and_then(|nul| body.get(nul + 2..)) {
            inflate_capped(
                stream,
                MAX_ICC_PROFILE,
                "bytes a PNG iCCP profile inflates to",
                &mut std::io::sink(),
            )?;
        }
    }
    Ok(())
}

/// Inflates the zlib stream `zlib` into `out`, refusing more than `cap`
/// bytes with [`Error::LimitExceeded`] naming `what` (the amount then
/// counted to `cap + 1`, where inflating stopped). `Ok(false)` when the
/// stream is damaged.
fn inflate_capped(
    zlib: &[u8],
    cap: u64,
    what: &'static str,
    out: &mut impl std::io::Write,
) -> Result<bool> {
    use std::io::Read;
    let mut inflater = flate2::read::ZlibDecoder::new(zlib).take(cap.saturating_add(1));
    match std::io::copy(&mut inflater, out) {
        Ok(inflated) if inflated > cap => Err(limit_exceeded(what, inflated, cap)),
        Ok(_) => Ok(true),
        Err(_) => Ok(false),
    }
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    let mut info = raster::probe_with(Format::Png, decoder(data)?)?;
    let text = text_metadata(data)?;
    info.has_exif |= text.exif.is_some();
    info.has_xmp |= text.xmp.is_some();
    if let Some(o) = text.exif_orientation() {
        info.orientation = o;
    }
    info.frames = apng_frames(data).unwrap_or(1);
    info.dpi = physical_dpi(data);
    Ok(info)
}

/// The pHYs chunk's resolution in pixels per inch, when its unit is the meter.
fn physical_dpi(data: &[u8]) -> Option<(f64, f64)> {
    let mut at = 8;
    while let Some(header) = data.get(at..at + 8) {
        let len = u32::from_be_bytes(header[..4].try_into().ok()?) as usize;
        let body = data.get(at + 8..at.checked_add(8 + len)?)?;
        match &header[4..] {
            b"pHYs" if len == 9 && body[8] == 1 => {
                let ppm = |b: &[u8]| f64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                return Some((ppm(&body[..4]) * 0.0254, ppm(&body[4..8]) * 0.0254));
            }
            b"IDAT" | b"IEND" => return None,
            _ => at += 12 + len,
        }
    }
    None
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    // Before the pixels: a text chunk past its cap fails the decode.
    let text = text_metadata(data)?;
    let mut decoded = if request.accept_truncated {
        decode_partial(data, request)?
    } else {
        raster::decode_with(Format::Png, decoder(data)?, request)?
    };
    let meta = &mut decoded.metadata;
    if meta.exif.is_none() && text.exif.is_some() {
        meta.exif = text.exif;
        decoded.orientation = Orientation::from_exif(meta.exif_orientation().unwrap_or(1));
    }
    meta.xmp = meta.xmp.take().or(text.xmp);
    meta.iptc = meta.iptc.take().or(text.iptc);
    Ok(decoded)
}

/// Decodes as far as the data goes (`accept_truncated`): rows the data never
/// reaches stay zero, as Pillow's `LOAD_TRUNCATED_IMAGES` leaves them. Palette,
/// tRNS and low bit depths are expanded; 16-bit samples stay 16-bit.
fn decode_partial(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    let fail = |e: png::DecodingError| match e {
        png::DecodingError::IoError(io) => Error::truncated(Format::Png, io.to_string()),
        png::DecodingError::LimitsExceeded => {
            limit_exceeded(raster::codec_limit(Format::Png, false), 0, 0)
        }
        other => Error::corrupt(Format::Png, other.to_string()),
    };
    check_iccp(data)?;
    let limits = png::Limits {
        bytes: usize::try_from(png_budget(data)).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(data), limits);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(fail)?;
    let (width, height) = (reader.info().width, reader.info().height);
    super::check_limit(width.into(), height.into(), request.max_pixels)?;
    let layout = match reader.output_color_type().0 {
        png::ColorType::Grayscale => Layout::Gray,
        png::ColorType::GrayscaleAlpha => Layout::GrayAlpha,
        png::ColorType::Rgb | png::ColorType::Indexed => Layout::Rgb,
        png::ColorType::Rgba => Layout::Rgba,
    };
    let sixteen = reader.output_color_type().1 == png::BitDepth::Sixteen;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::corrupt(Format::Png, "image too large for this machine"))?;
    let mut buffer = vec![0u8; size];
    // An error here means the data ended or broke off: keep the rows decoded so far.
    let _ = reader.next_frame(&mut buffer);
    let icc = reader.info().icc_profile.as_ref().map(|p| p.to_vec());
    let image = if sixteen {
        let samples = buffer
            .chunks_exact(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .collect();
        Image::from_u16(width, height, layout, samples)?
    } else {
        Image::from_u8(width, height, layout, buffer)?
    };
    Ok(Decoded {
        image,
        metadata: Metadata {
            icc,
            ..Metadata::default()
        },
        orientation: Orientation::Normal,
        dropped_icc: None,
    })
}

/// `eXIf`, XMP `iTXt` and raw profile (IPTC, EXIF) text chunks anywhere
/// in the file, also after `IDAT`, where the header read of the png crate
/// does not reach. EXIF in a raw profile (`Raw profile type exif`, as
/// ImageMagick writes it) counts when there is no `eXIf` chunk. A
/// compressed chunk that inflates past [`MAX_TEXT_CHUNK`] is refused with
/// [`Error::LimitExceeded`]; a damaged one is left out.
fn text_metadata(data: &[u8]) -> Result<Metadata> {
    let mut meta = Metadata::default();
    let mut raw_exif = None;
    for (kind, body) in chunks(data) {
        match kind {
            b"eXIf" if meta.exif.is_none() => meta.exif = Metadata::normalize_exif(body),
            b"iTXt" | b"zTXt" | b"tEXt" => {
                if kind == b"iTXt" && meta.xmp.is_none() {
                    meta.xmp = xmp_from_itxt(body)?;
                }
                if meta.iptc.is_none() {
                    meta.iptc = iptc_from_text(kind, body)?;
                }
                if raw_exif.is_none() {
                    raw_exif = exif_from_text(kind, body)?;
                }
            }
            _ => {}
        }
    }
    meta.exif = meta.exif.or(raw_exif);
    Ok(meta)
}

/// The XMP packet of an `iTXt` chunk with keyword `XML:com.adobe.xmp`;
/// `None` when the chunk is another or damaged.
fn xmp_from_itxt(body: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some((compressed, text)) = xmp_itxt_text(body) else {
        return Ok(None);
    };
    if !compressed {
        return Ok(Some(text.to_vec()));
    }
    let mut out = Vec::new();
    let what = "bytes a PNG XMP chunk inflates to";
    Ok(inflate_capped(text, MAX_TEXT_CHUNK, what, &mut out)?.then_some(out))
}

/// Whether the text of an XMP `iTXt` chunk is compressed, and the text.
fn xmp_itxt_text(body: &[u8]) -> Option<(bool, &[u8])> {
    let rest = body.strip_prefix(b"XML:com.adobe.xmp\0")?;
    let (&compressed, rest) = rest.split_first()?;
    let rest = rest.get(1..)?; // compression method
    let mut fields = rest.splitn(3, |&b| b == 0); // language tag, translated keyword, text
    let (_, _, text) = (fields.next()?, fields.next()?, fields.next()?);
    Some((compressed != 0, text))
}

/// The keyword ImageMagick and exiftool store IPTC-IIM under, as a hex "raw profile".
const IPTC_KEYWORD: &[u8] = b"Raw profile type iptc";

/// The keywords of raw profiles holding IPTC-IIM (or a Photoshop resource block).
const IPTC_KEYWORDS: [&[u8]; 2] = [IPTC_KEYWORD, b"Raw profile type APP13"];

/// The keywords of raw profiles holding EXIF: ImageMagick's `exif`, and
/// `APP1` (a JPEG APP1 payload, which may be XMP instead).
const EXIF_KEYWORDS: [&[u8]; 2] = [b"Raw profile type exif", b"Raw profile type APP1"];

/// The text of a `tEXt`, `zTXt` or `iTXt` chunk (`kind`, `body`) whose
/// keyword is one of `keywords`, inflated when compressed; `None` for
/// another chunk or a damaged one. Inflating past [`MAX_TEXT_CHUNK`] is
/// refused with [`Error::LimitExceeded`] naming `what`.
fn keyword_text<'a>(
    kind: &[u8],
    body: &'a [u8],
    keywords: &[&[u8]],
    what: &'static str,
) -> Result<Option<Cow<'a, [u8]>>> {
    let Some(nul) = body.iter().position(|&b| b == 0) else {
        return Ok(None);
    };
    if !keywords.contains(&&body[..nul]) {
        return Ok(None);
    }
    let rest = &body[nul + 1..];
    let (compressed, text) = match (kind, rest) {
        (b"tEXt", text) => (false, text),
        // Compression method 0, zlib stream.
        (b"zTXt", [0, zlib @ ..]) => (true, zlib),
        // Compression flag and method, language tag, translated keyword, text.
        (b"iTXt", [flag, _, rest @ ..]) => {
            let mut fields = rest.splitn(3, |&b| b == 0);
            let (Some(_), Some(_), Some(text)) = (fields.next(), fields.next(), fields.next())
            else {
                return Ok(None);
            };
            (*flag != 0, text)
        }
        _ => return Ok(None),
    };
    if !compressed {
        return Ok(Some(Cow::Borrowed(text)));
    }
    let mut out = Vec::new();
    Ok(inflate_capped(text, MAX_TEXT_CHUNK, what, &mut out)?.then_some(Cow::Owned(out)))
}

/// The bytes of a raw profile text chunk whose keyword is one of
/// `keywords` (see [`keyword_text`]): hex text after a name line and a
/// length line, as ImageMagick and exiftool write it.
fn raw_profile(
    kind: &[u8],
    body: &[u8],
    keywords: &[&[u8]],
    what: &'static str,
) -> Result<Option<Vec<u8>>> {
    Ok(keyword_text(kind, body, keywords, what)?.and_then(|text| raw_profile_bytes(&text)))
}

/// The IPTC block of a raw profile chunk (`Raw profile type iptc` or `APP13`).
fn iptc_from_text(kind: &[u8], body: &[u8]) -> Result<Option<Vec<u8>>> {
    let what = "bytes a PNG IPTC raw profile inflates to";
    let bytes = raw_profile(kind, body, &IPTC_KEYWORDS, what)?;
    Ok(bytes.map(|bytes| Metadata::iptc_block_of(&bytes)))
}

/// The EXIF block of a raw profile chunk (`Raw profile type exif` or
/// `APP1`), with or without the `Exif\0\0` prefix; `None` when it holds no
/// TIFF structure (an `APP1` profile of XMP).
fn exif_from_text(kind: &[u8], body: &[u8]) -> Result<Option<Vec<u8>>> {
    let what = "bytes a PNG EXIF raw profile inflates to";
    let bytes = raw_profile(kind, body, &EXIF_KEYWORDS, what)?;
    Ok(bytes.and_then(|bytes| Metadata::normalize_exif(&bytes)))
}

/// The bytes of a raw profile's text: a name line, a length line, then
/// the bytes in hex; `None` unless the hex is whole and of that length.
fn raw_profile_bytes(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut lines = text.split('\n').filter(|l| !l.trim().is_empty());
    let (_name, length) = (lines.next()?, lines.next()?.trim().parse::<usize>().ok()?);
    let hex: String = lines.flat_map(|l| l.trim().chars()).collect();
    // Pairs of bytes, not of chars: a non-ASCII char (never a hex digit)
    // fails the pair it falls in rather than being split by a slice.
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<_>>()?;
    (bytes.len() == length).then_some(bytes)
}

/// A `zTXt` chunk holding IPTC-IIM, or a Photoshop resource block holding
/// it among other resources, as a hex raw profile.
fn iptc_chunk(iim: &[u8]) -> Vec<u8> {
    use std::fmt::Write;
    let mut text = format!("\niptc\n{:8}\n", iim.len());
    for line in iim.chunks(36) {
        for b in line {
            let _ = write!(text, "{b:02x}");
        }
        text.push('\n');
    }
    let packed = zlib(text.as_bytes(), flate2::Compression::default());
    [IPTC_KEYWORD, &[0, 0], &packed].concat()
}

/// `data` as a zlib stream.
fn zlib(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), level);
    std::io::Write::write_all(&mut z, data).expect("writing to memory");
    z.finish().expect("writing to memory")
}

/// The `eXIf`, XMP `iTXt` and IPTC `zTXt` chunks of `metadata`.
fn text_chunks(metadata: &Metadata) -> Vec<([u8; 4], Vec<u8>)> {
    let mut chunks = Vec::new();
    if let Some(exif) = metadata.exif.as_deref() {
        chunks.push((*b"eXIf", exif.to_vec()));
    }
    if let Some(xmp) = metadata.xmp.as_deref() {
        chunks.push((*b"iTXt", xmp_chunk(xmp)));
    }
    if let Some(profile) = metadata.iptc_raw_profile() {
        chunks.push((*b"zTXt", iptc_chunk(&profile)));
    }
    chunks
}

/// An `iCCP` chunk body: profile name (`icc`, as oxipng names it), compression method 0, zlib stream.
fn iccp_chunk(icc: &[u8]) -> Vec<u8> {
    [&b"icc\0\0"[..], &zlib(icc, flate2::Compression::best())].concat()
}

/// Whether a chunk holds metadata [`replace_metadata_under`] replaces: `eXIf`,
/// `iCCP`, and text chunks with the XMP or a raw-profile keyword.
fn is_metadata_chunk(kind: &[u8], body: &[u8]) -> bool {
    match kind {
        b"eXIf" | b"iCCP" => true,
        b"iTXt" | b"zTXt" | b"tEXt" => {
            body.starts_with(b"XML:com.adobe.xmp\0") || body.starts_with(b"Raw profile type ")
        }
        _ => false,
    }
}

/// Ancillary chunks that say how to show the image (colour, transparency,
/// pixel size, animation, and ImageMagick's `orNT` orientation, kept as
/// the EXIF orientation is when pixels are not turned): they stay when a
/// policy removes what pixpress does not model.
const IMAGE_CHUNKS: [&[u8]; 17] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"pHYs",
    b"hIST", b"sPLT", b"sTER", b"acTL", b"fcTL", b"fdAT", b"orNT",
];

/// Whether a chunk pixpress does not model stays when the policy removes
/// the rest: critical chunks (`IHDR`, `PLTE`, `IDAT`, `IEND`, and any other
/// a decoder must know) and [`IMAGE_CHUNKS`]. Text chunks, `tIME` and
/// unknown ancillary chunks are metadata.
fn is_image_chunk(kind: &[u8]) -> bool {
    let critical = kind.first().is_some_and(u8::is_ascii_uppercase);
    critical || IMAGE_CHUNKS.contains(&kind)
}

/// `file` with its metadata chunks replaced by `metadata`'s (already
/// filtered by `policy`), written right after `IHDR`; the image chunks are
/// copied byte for byte. A policy that keeps everything leaves every other
/// chunk, and data after `IEND`, as it is; any other removes what pixpress
/// does not model, as it is gone from re-encoded pixels: text chunks,
/// `tIME`, unknown ancillary chunks (see [`is_image_chunk`]) and what
/// follows `IEND`.
pub(crate) fn replace_metadata_under(
    file: &[u8],
    metadata: &Metadata,
    policy: &MetadataPolicy,
) -> Result<Vec<u8>> {
    let keep_unmodelled = policy.keeps_everything();
    let damaged = || Error::corrupt(Format::Png, "chunk structure is damaged");
    let mut out = Vec::with_capacity(file.len());
    out.extend_from_slice(file.get(..8).ok_or_else(damaged)?);
    let mut at = 8;
    while at < file.len() {
        let len = u32::from_be_bytes(
            file.get(at..at + 4)
                .ok_or_else(damaged)?
                .try_into()
                .unwrap(),
        );
        let end = (at + 12)
            .checked_add(len as usize)
            .filter(|&e| e <= file.len());
        let end = end.ok_or_else(damaged)?;
        let (kind, body) = (&file[at + 4..at + 8], &file[at + 8..end - 4]);
        if !is_metadata_chunk(kind, body) && (keep_unmodelled || is_image_chunk(kind)) {
            out.extend_from_slice(&file[at..end]);
        }
        if kind == b"IHDR" {
            let icc = metadata
                .icc
                .as_deref()
                .map(|icc| (*b"iCCP", iccp_chunk(icc)));
            for (kind, body) in icc.into_iter().chain(text_chunks(metadata)) {
                write_chunk(&mut out, &kind, &body);
            }
        }
        if kind == b"IEND" {
            if keep_unmodelled {
                out.extend_from_slice(&file[end..]);
            }
            break;
        }
        at = end;
    }
    Ok(out)
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(body);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// The frame count from an `acTL` chunk before the first `IDAT`, for animated PNG.
fn apng_frames(data: &[u8]) -> Option<u32> {
    let mut at = 8;
    while at + 12 <= data.len() {
        let len = u32::from_be_bytes(data[at..at + 4].try_into().ok()?) as usize;
        let kind = &data[at + 4..at + 8];
        match kind {
            b"acTL" => {
                return Some(u32::from_be_bytes(
                    data.get(at + 8..at + 12)?.try_into().ok()?,
                ))
            }
            b"IDAT" => return None,
            _ => at = at.checked_add(12 + len)?,
        }
    }
    None
}

/// A PNG `iTXt` chunk holding an XMP packet.
fn xmp_chunk(xmp: &[u8]) -> Vec<u8> {
    // keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translated keyword, NUL
    [&b"XML:com.adobe.xmp\0\0\0\0\0"[..], xmp].concat()
}

/// Lossy PNG: `quality` below 100 (and not `lossless`) reduces the image to a
/// palette of `quality`% of 256 colors (at least 2) with NeuQuant (the
/// `color_quant` crate, MIT), which oxipng then stores as an indexed PNG.
/// Higher efforts sample more pixels while learning the palette.
fn quantize(image: &Image, params: &EncodeParams) -> Option<Image> {
    let quality = params.quality.filter(|&q| q < 100 && !params.lossless)?;
    let colors = (usize::from(quality) * 256 / 100).clamp(2, 256);
    let sample_factor = match params.effort.unwrap_or(3) {
        0..=2 => 10,
        3..=6 => 3,
        _ => 1,
    };
    let layout = image.layout;
    let mut rgba = image.clone().into_u8().convert(Layout::Rgba, Rgba8::WHITE);
    let Samples::U8(pixels) = &mut rgba.samples else {
        return None;
    };
    let mut pixels = std::mem::take(pixels);
    let quantizer = color_quant::NeuQuant::new(sample_factor, colors, &pixels);
    for px in pixels.chunks_exact_mut(4) {
        quantizer.map_pixel(px);
    }
    let mapped = Image::from_u8(image.width, image.height, Layout::Rgba, pixels).ok()?;
    // Back to the source's channels (alpha only if it had it), still 8-bit.
    Some(mapped.convert(layout.with_alpha(layout.has_alpha()), Rgba8::WHITE))
}

pub(crate) fn encode(image: &Image, metadata: &Metadata, params: &EncodeParams) -> Result<Vec<u8>> {
    let quantized = quantize(image, params);
    let image = quantized.as_ref().unwrap_or(image);
    let fail = |e: oxipng::PngError| Error::encode(Format::Png, e.to_string());
    let color = match image.layout {
        Layout::Gray => oxipng::ColorType::Grayscale {
            transparent_shade: None,
        },
        Layout::GrayAlpha => oxipng::ColorType::GrayscaleAlpha,
        Layout::Rgb => oxipng::ColorType::RGB {
            transparent_color: None,
        },
        Layout::Rgba => oxipng::ColorType::RGBA,
    };
    let (depth, bytes) = match &image.samples {
        Samples::U8(d) => (oxipng::BitDepth::Eight, d.clone()),
        Samples::U16(d) => (
            oxipng::BitDepth::Sixteen,
            d.iter().flat_map(|v| v.to_be_bytes()).collect(),
        ),
    };
    let mut raw =
        oxipng::RawImage::new(image.width, image.height, color, depth, bytes).map_err(fail)?;
    if let Some(icc) = metadata.icc.as_deref() {
        raw.add_icc_profile(icc);
    }
    for (kind, body) in text_chunks(metadata) {
        raw.add_png_chunk(kind, body);
    }
    // Effort 0-10 maps onto oxipng's presets 0-6.
    let preset = params
        .effort
        .map_or(DEFAULT_PRESET, |e| (e * 6).div_ceil(10));
    let mut png_options = oxipng::Options::from_preset(preset);
    png_options.strip = oxipng::StripChunks::None;
    crate::parallel::run_on_a_worker(|| raw.create_optimized_png(&png_options)).map_err(fail)
}

#[cfg(test)]
mod tests;
