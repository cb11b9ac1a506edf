//! Tests of the PNG codec: metadata chunks (EXIF, XMP, IPTC raw profiles) read and written, stripping on rewrite, and inflation caps.

use super::*;
use crate::metadata::EXIF_PREFIX;

/// A `tEXt` body holding `text` as an IPTC raw profile.
fn iptc_text(text: &str) -> Vec<u8> {
    [IPTC_KEYWORD, &[0], text.as_bytes()].concat()
}

#[test]
fn raw_profile_hex_with_non_ascii_text_is_refused_without_panic() {
    let iim = [0x1C, 2, 90, 0, 3, b'Z', b'u', b'g'];
    let read = |kind: &[u8], body: &[u8]| iptc_from_text(kind, body).unwrap();
    assert_eq!(
        read(b"zTXt", &iptc_chunk(&iim)),
        Some(Metadata::iptc_block_of(&iim))
    );
    assert_eq!(
        read(b"tEXt", &iptc_text("\niptc\n       2\n1c02\n")),
        Some(Metadata::iptc_block_of(&[0x1C, 0x02]))
    );
    // A two-byte char straddling a hex pair, and full-width digits.
    assert_eq!(
        read(b"tEXt", &iptc_text("\niptc\n       2\n1\u{e9}20\n")),
        None
    );
    assert_eq!(
        read(b"tEXt", &iptc_text("\niptc\n       2\n\u{ff11}c02\n")),
        None
    );
}

#[test]
fn photoshop_resources_beside_the_iim_are_written_and_read_back() {
    let iim = [0x1C, 2, 90, 0, 3, b'Z', b'u', b'g'];
    // ResolutionInfo (0x03ED), then the IIM resource.
    let mut block = b"8BIM\x03\xED\0\0".to_vec();
    block.extend_from_slice(&16u32.to_be_bytes());
    block.extend_from_slice(&[0, 72, 0, 0, 0, 1, 0, 1, 0, 72, 0, 0, 0, 1, 0, 1]);
    block.extend_from_slice(&Metadata::iptc_block_of(&iim));
    let written = |iptc: Vec<u8>| {
        let metadata = Metadata {
            iptc: Some(iptc),
            ..Metadata::default()
        };
        let (kind, body) = text_chunks(&metadata).pop().unwrap();
        assert_eq!(&kind, b"zTXt");
        body
    };
    let body = written(block.clone());
    assert_eq!(iptc_from_text(b"zTXt", &body).unwrap(), Some(block));
    // The IIM alone is written bare, as ImageMagick writes it.
    let body = written(Metadata::iptc_block_of(&iim));
    let what = "bytes a PNG IPTC raw profile inflates to";
    let profile = raw_profile(b"zTXt", &body, &IPTC_KEYWORDS, what).unwrap();
    assert_eq!(profile, Some(iim.to_vec()));
}

/// A little-endian TIFF structure with one IFD0 entry: Orientation = `value`.
fn exif_with_orientation(value: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
    tiff.extend_from_slice(&value.to_le_bytes());
    tiff.extend_from_slice(&[0; 6]); // value padding, no next IFD
    tiff
}

/// `bytes` as the text of a raw profile named `name`, hex in lines of
/// 72 digits, as ImageMagick writes it.
fn raw_profile_text(name: &str, bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = format!("\n{name}\n{:8}\n", bytes.len());
    for line in bytes.chunks(36) {
        for b in line {
            let _ = write!(text, "{b:02x}");
        }
        text.push('\n');
    }
    text
}

#[test]
fn exif_in_a_raw_profile_text_chunk_is_read_where_there_is_no_exif_chunk() {
    let exif = exif_with_orientation(3);
    let payload = [EXIF_PREFIX, &exif].concat();
    let text = raw_profile_text("exif", &payload);
    let keyword = b"Raw profile type exif\0";
    let packed = zlib(text.as_bytes(), flate2::Compression::default());
    let ztxt = [&keyword[..], &[0], &packed].concat();
    let texts = [
        (b"zTXt", ztxt),
        (b"tEXt", [&keyword[..], text.as_bytes()].concat()),
        (b"iTXt", [&keyword[..], b"\x01\0\0\0", &packed].concat()),
        (
            b"iTXt",
            [&keyword[..], b"\0\0en\0\0", text.as_bytes()].concat(),
        ),
    ];
    for (kind, body) in &texts {
        let file = png_with(&[(*kind, body.clone())]);
        let meta = text_metadata(&file).unwrap();
        assert_eq!(meta.exif.as_deref(), Some(&exif[..]), "{kind:?}");
        assert_eq!(probe(&file).unwrap().orientation, 3, "{kind:?}");
        let decoded = decode(&file, &request(false)).unwrap();
        assert_eq!(decoded.orientation, Orientation::from_exif(3), "{kind:?}");
        assert_eq!(decoded.metadata.exif.as_deref(), Some(&exif[..]));
    }
    // Without the `Exif\0\0` prefix, and as `APP1`.
    let bare = raw_profile_text("APP1", &exif);
    let body = [&b"Raw profile type APP1\0"[..], bare.as_bytes()].concat();
    assert_eq!(exif_from_text(b"tEXt", &body).unwrap(), Some(exif.clone()));
    // An `APP1` profile of XMP is no EXIF; a length that does not match is refused.
    let xmp = raw_profile_text("APP1", b"http://ns.adobe.com/xap/1.0/\0<x/>");
    let body = [&b"Raw profile type APP1\0"[..], xmp.as_bytes()].concat();
    assert_eq!(exif_from_text(b"tEXt", &body).unwrap(), None);
    let short = text.replacen(&format!("{:8}", payload.len()), "       9", 1);
    let body = [&keyword[..], short.as_bytes()].concat();
    assert_eq!(exif_from_text(b"tEXt", &body).unwrap(), None);
    // An eXIf chunk wins, wherever it is.
    let other = exif_with_orientation(6);
    let file = png_with(&[(b"zTXt", texts[0].1.clone()), (b"eXIf", other.clone())]);
    assert_eq!(text_metadata(&file).unwrap().exif, Some(other));
    // A compressed one past the cap is refused.
    let bombed = [&keyword[..], &[0], bomb()].concat();
    let err = text_metadata(&png_with(&[(b"zTXt", bombed)])).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("EXIF"), "{err}");
}

/// The chunk types of a PNG file up to `IEND`, in order.
fn kinds(file: &[u8]) -> Vec<String> {
    chunks(file)
        .map(|(kind, _)| String::from_utf8_lossy(kind).into_owned())
        .collect()
}

#[test]
fn a_policy_that_strips_removes_text_and_unknown_chunks_on_rewrite() {
    let exif = exif_with_orientation(3);
    let raw_exif = zlib(
        raw_profile_text("exif", &exif).as_bytes(),
        flate2::Compression::default(),
    );
    let extra: [(&[u8; 4], Vec<u8>); 7] = [
        (b"gAMA", 45455u32.to_be_bytes().to_vec()),
        (b"tEXt", b"Comment\0a secret".to_vec()),
        (
            b"zTXt",
            [&b"Raw profile type exif\0\0"[..], &raw_exif].concat(),
        ),
        (b"tIME", vec![7, 234, 1, 2, 3, 4, 5]),
        (b"pHYs", vec![0, 0, 11, 19, 0, 0, 11, 19, 1]),
        (b"prVt", b"private".to_vec()),
        (b"iTXt", b"Description\0\0\0\0\0words".to_vec()),
    ];
    let mut file = png_with(&extra);
    file.extend_from_slice(b"trailing bytes");
    let none = Metadata::default();
    let kept = replace_metadata_under(&file, &none, &MetadataPolicy::KEEP).unwrap();
    let all = [
        "IHDR", "gAMA", "tEXt", "tIME", "pHYs", "prVt", "iTXt", "IDAT", "IEND",
    ];
    assert_eq!(kinds(&kept), all);
    assert!(kept.ends_with(b"trailing bytes"));

    let stripped = replace_metadata_under(&file, &none, &MetadataPolicy::STRIP).unwrap();
    assert_eq!(kinds(&stripped), ["IHDR", "gAMA", "pHYs", "IDAT", "IEND"]);
    assert!(stripped.ends_with(&chunk(b"IEND", &[])));
    // Blocks the policy kept are written; the image is the same.
    let web = MetadataPolicy::parse("web").unwrap();
    let blocks = Metadata {
        exif: Some(exif.clone()),
        ..Metadata::default()
    };
    let out = replace_metadata_under(&file, &blocks, &web).unwrap();
    assert_eq!(
        kinds(&out),
        ["IHDR", "eXIf", "gAMA", "pHYs", "IDAT", "IEND"]
    );
    assert_eq!(text_metadata(&out).unwrap().exif, Some(exif));
    let pixels = |file: &[u8]| decode(file, &request(false)).unwrap().image;
    assert_eq!(pixels(&out), pixels(&file));
}

/// A chunk as a file holds it: length, type, body, CRC.
fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_chunk(&mut out, kind, body);
    out
}

/// `len` zero bytes as a zlib stream, written a block at a time.
fn zlib_zeros(len: u64) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = [0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        std::io::Write::write_all(&mut z, &block[..n]).unwrap();
        left -= n as u64;
    }
    z.finish().unwrap()
}

/// A zlib stream of a few KiB that inflates one byte past the caps.
fn bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| zlib_zeros(MAX_ICC_PROFILE.max(MAX_TEXT_CHUNK) + 1))
}

/// A 1x1 8-bit gray PNG with `extra` chunks (type, body) before its `IDAT`.
fn png_with(extra: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let ihdr: [u8; 13] = [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0];
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    file.extend(chunk(b"IHDR", &ihdr));
    for (kind, body) in extra {
        file.extend(chunk(kind, body));
    }
    let pixels = zlib(&[0, 0x80], flate2::Compression::default());
    file.extend(chunk(b"IDAT", &pixels));
    file.extend(chunk(b"IEND", &[]));
    file
}

fn request(accept_truncated: bool) -> DecodeRequest {
    DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated,
        min_size: None,
    }
}

#[test]
fn an_iccp_chunk_inflating_past_the_cap_is_refused_by_probe_and_decode() {
    assert!(bomb().len() < 1 << 20, "{} bytes", bomb().len());
    let iccp = |stream: &[u8]| [&b"icc\0\0"[..], stream].concat();
    let fine = png_with(&[(b"iCCP", iccp(&zlib_zeros(1000)))]);
    assert!(probe(&fine).unwrap().has_icc);
    for accept_truncated in [false, true] {
        let decoded = decode(&fine, &request(accept_truncated)).unwrap();
        assert_eq!(decoded.metadata.icc, Some(vec![0; 1000]));
    }
    let bombed = png_with(&[(b"iCCP", iccp(bomb()))]);
    let err = probe(&bombed).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("iCCP"), "{err}");
    for accept_truncated in [false, true] {
        let err = decode(&bombed, &request(accept_truncated)).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    }
}

#[test]
fn a_metadata_text_chunk_inflating_past_the_cap_is_refused() {
    let xmp = |stream: &[u8]| [&b"XML:com.adobe.xmp\0\x01\x00\0\0"[..], stream].concat();
    let packet = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
    let fine = xmp(&zlib(packet, flate2::Compression::default()));
    assert_eq!(xmp_from_itxt(&fine).unwrap(), Some(packet.to_vec()));
    let fine = png_with(&[(b"iTXt", fine)]);
    assert!(probe(&fine).unwrap().has_xmp);

    let bombed = png_with(&[(b"iTXt", xmp(bomb()))]);
    let err = probe(&bombed).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("XMP"), "{err}");
    for accept_truncated in [false, true] {
        let err = decode(&bombed, &request(accept_truncated)).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    }

    let iptc = [IPTC_KEYWORD, &[0, 0], bomb()].concat();
    let err = text_metadata(&png_with(&[(b"zTXt", iptc)])).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    assert!(err.to_string().contains("IPTC"), "{err}");

    // A chunk nobody reads is never inflated.
    let comment = [&b"Comment\0\0"[..], bomb()].concat();
    assert!(text_metadata(&png_with(&[(b"zTXt", comment)])).is_ok());
}
