//! PNG: decoding through the `png` crate (via `image`), encoding through oxipng.

use super::{raster, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, Rgba8, Samples};
use image::codecs::png::PngDecoder;
use std::io::Cursor;

/// oxipng preset when the caller gives no effort (0-6 scale; 2 is oxipng's own default).
const DEFAULT_PRESET: u8 = 2;

fn decoder(data: &[u8]) -> Result<PngDecoder<Cursor<&[u8]>>> {
    PngDecoder::new(Cursor::new(data)).map_err(|e| raster::map_error(Format::Png, e))
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    let mut info = raster::probe_with(Format::Png, decoder(data)?)?;
    let text = text_metadata(data);
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
    let mut decoded = if request.accept_truncated {
        decode_partial(data, request)?
    } else {
        raster::decode_with(Format::Png, decoder(data)?, request)?
    };
    let text = text_metadata(data);
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
        other => Error::corrupt(Format::Png, other.to_string()),
    };
    let mut decoder = png::Decoder::new(Cursor::new(data));
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
    })
}

/// Largest inflated text chunk accepted (a zlib bomb guard).
const MAX_TEXT_CHUNK: u64 = 16 << 20;

/// `eXIf` and XMP `iTXt` chunks anywhere in the file, also after `IDAT`,
/// where the header read of the png crate does not reach.
fn text_metadata(data: &[u8]) -> Metadata {
    let mut meta = Metadata::default();
    let mut at = 8;
    while at + 12 <= data.len() {
        let len = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        let Some(body) = data.get(at + 8..(at + 8).saturating_add(len)) else {
            break;
        };
        match &data[at + 4..at + 8] {
            b"eXIf" if meta.exif.is_none() => meta.exif = Metadata::normalize_exif(body),
            b"iTXt" if meta.xmp.is_none() => meta.xmp = xmp_from_itxt(body),
            b"zTXt" | b"tEXt" if meta.iptc.is_none() => meta.iptc = iptc_from_text(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    meta
}

/// The XMP packet of an `iTXt` chunk with keyword `XML:com.adobe.xmp`.
fn xmp_from_itxt(body: &[u8]) -> Option<Vec<u8>> {
    let rest = body.strip_prefix(b"XML:com.adobe.xmp\0")?;
    let (&compressed, rest) = rest.split_first()?;
    let rest = rest.get(1..)?; // compression method
    let mut fields = rest.splitn(3, |&b| b == 0); // language tag, translated keyword, text
    let (_, _, text) = (fields.next()?, fields.next()?, fields.next()?);
    if compressed == 0 {
        return Some(text.to_vec());
    }
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(text)
        .take(MAX_TEXT_CHUNK)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The keyword ImageMagick and exiftool store IPTC-IIM under, as a hex "raw profile".
const IPTC_KEYWORD: &[u8] = b"Raw profile type iptc";

/// The IPTC block of a `tEXt`/`zTXt` raw profile chunk (`Raw profile type
/// iptc` or `APP13`): hex text, after a name line and a length line.
fn iptc_from_text(body: &[u8]) -> Option<Vec<u8>> {
    let nul = body.iter().position(|&b| b == 0)?;
    let keyword = &body[..nul];
    if keyword != IPTC_KEYWORD && keyword != b"Raw profile type APP13" {
        return None;
    }
    let text = if body.get(nul + 1..nul + 2) == Some(&[0][..]) && body.len() > nul + 2 {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&body[nul + 2..])
            .take(MAX_TEXT_CHUNK)
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        body[nul + 1..].to_vec()
    };
    let text = std::str::from_utf8(&text).ok()?;
    let mut lines = text.split('\n').filter(|l| !l.trim().is_empty());
    let (_name, length) = (lines.next()?, lines.next()?.trim().parse::<usize>().ok()?);
    let hex: String = lines.flat_map(|l| l.trim().chars()).collect();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    (bytes.len() == length).then(|| Metadata::iptc_block_of(&bytes))
}

/// A `zTXt` chunk holding IPTC-IIM as a hex raw profile.
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
    if let Some(iim) = metadata.iptc_iim() {
        chunks.push((*b"zTXt", iptc_chunk(&iim)));
    }
    chunks
}

/// An `iCCP` chunk body: profile name (`icc`, as oxipng names it), compression method 0, zlib stream.
fn iccp_chunk(icc: &[u8]) -> Vec<u8> {
    [&b"icc\0\0"[..], &zlib(icc, flate2::Compression::best())].concat()
}

/// Whether a chunk holds metadata [`replace_metadata`] replaces: `eXIf`,
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

/// `file` with its metadata chunks replaced by `metadata`'s, written right
/// after `IHDR`; the image chunks are copied byte for byte.
pub(crate) fn replace_metadata(file: &[u8], metadata: &Metadata) -> Result<Vec<u8>> {
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
        if !is_metadata_chunk(kind, body) {
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
fn quantize(image: &Image, options: &Options) -> Option<Image> {
    let quality = options.quality.filter(|&q| q < 100 && !options.lossless)?;
    let colors = (usize::from(quality) * 256 / 100).clamp(2, 256);
    let sample_factor = match options.effort.unwrap_or(3) {
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

pub(crate) fn encode(image: &Image, metadata: &Metadata, options: &Options) -> Result<Vec<u8>> {
    let quantized = quantize(image, options);
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
    let preset = options
        .effort
        .map_or(DEFAULT_PRESET, |e| (e * 6).div_ceil(10));
    let mut png_options = oxipng::Options::from_preset(preset);
    png_options.strip = oxipng::StripChunks::None;
    raw.create_optimized_png(&png_options).map_err(fail)
}
