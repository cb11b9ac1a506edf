//! Unit tests of the JPEG codec: the libjpeg guards, the marker and scan
//! limits, the metadata rewrite and the DCT shrink factor.

use super::segments::{push_segment, APP0, COM};
use super::*;
use crate::codecs::DecodeRequest;
use crate::codecs::EncodeParams;
use crate::metadata::{Metadata, MetadataPolicy};
use crate::options::Options;
use crate::pixels::{Layout, PixelsRef};
use mozjpeg_sys::jpeg_start_compress;
use std::ffi::c_int;

#[test]
fn a_compressor_abandoned_after_its_buffer_grew_frees_it_once() {
    run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, 16, 16, true, &EncodeParams::default());
        // SAFETY: a created, configured compressor.
        unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
        // Far more than the destination's first 4096 bytes.
        c.write_marker(COM, &[b'x'; 60000]);
        drop(c);
        Ok(())
    })
    .unwrap();
}

/// A 64x64 gray progressive JPEG.
fn progressive() -> Vec<u8> {
    let gray: Vec<u8> = (0..64 * 64).map(|i| (i % 251) as u8).collect();
    let pixels = PixelsRef::new(&gray, 64, 64, 64, Layout::Gray).unwrap();
    let options = Options::from_pairs([("progressive", "true")])
        .unwrap()
        .encode_params();
    encode_whole(&pixels, &Metadata::default(), &options).unwrap()
}

#[test]
fn a_jpeg_of_too_many_scans_is_refused_before_libjpeg_decodes_it() {
    let jpeg = progressive();
    assert!(jpeg.ends_with(&[0xFF, 0xD9]));
    let request = DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    assert!(decode(&jpeg, &request).is_ok());
    // Scans of one coefficient band with one byte of data each, before EOI.
    let tiny_scan: [u8; 11] = [0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 1, 0x00, 0x00];
    let extra = tiny_scan.repeat(markers::MAX_SCANS as usize);
    let bomb = [&jpeg[..jpeg.len() - 2], &extra, &[0xFF, 0xD9]].concat();
    for accept_truncated in [false, true] {
        let request = DecodeRequest {
            accept_truncated,
            ..request
        };
        let err = decode(&bomb, &request).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    }
    let err = optimize_lossless(&bomb, true, true, u64::MAX).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    // A header read stops at the first scan.
    assert!(probe(&bomb).is_ok());
}

#[test]
fn a_jpeg_of_too_many_saved_markers_is_refused_before_libjpeg_reads_it() {
    let jpeg = progressive();
    let empty_comment: [u8; 4] = [0xFF, 0xFE, 0, 2];
    let flood = empty_comment.repeat(markers::MAX_SAVED_MARKERS as usize + 1);
    let bomb = [&jpeg[..2], &flood, &jpeg[2..]].concat();
    let err = probe(&bomb).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    let err = header_metadata(&bomb, false).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    // As many as the cap allows still read.
    let flood = empty_comment.repeat(markers::MAX_SAVED_MARKERS as usize);
    let many = [&jpeg[..2], &flood, &jpeg[2..]].concat();
    assert_eq!(probe(&many).unwrap().width, 64);
}

/// A marker segment: 0xFF, `marker`, the length and `payload`.
fn segment(marker: c_int, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_segment(&mut out, marker, payload);
    out
}

/// Whether `needle` occurs in `haystack`.
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_policy_that_strips_removes_unmodelled_segments_and_trailers_on_rewrite() {
    let jpeg = progressive();
    let request = DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    let jfif_header = b"JFIF\0\x01\x02\x01\0\x48\0\x48";
    let adobe = b"Adobe\0\x64\0\0\0\0\0";
    let mut header = segment(APP0, &[&jfif_header[..], &[1, 2], &[0xAB; 6]].concat());
    let unmodelled: [(c_int, &[u8]); 6] = [
        (COM, &b"a comment"[..]),
        (APP0 + 2, b"MPF\0II*\0mpf"),
        (APP0 + 4, b"DJI drone data"),
        (APP0 + 11, b"JPjumbc2pa"),
        (APP0 + 14, adobe),
        (APP0 + 15, b"private"),
    ];
    for (marker, payload) in unmodelled {
        header.extend(segment(marker, payload));
    }
    // A comment between the first scans, and a second frame after EOI.
    let second_scan = jpeg
        .windows(2)
        .enumerate()
        .filter(|(_, w)| *w == [0xFF, 0xDA])
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    let file = [
        &jpeg[..2],
        &header,
        &jpeg[2..second_scan],
        &segment(COM, b"between scans"),
        &jpeg[second_scan..],
        &jpeg,
        b"gain map",
    ]
    .concat();
    let original = decode(&file, &request).unwrap().image;

    // `keep` changes nothing but the blocks (there are none here).
    let none = Metadata::default();
    let kept = replace_metadata_under(&file, &none, &MetadataPolicy::KEEP).unwrap();
    assert_eq!(kept, file);

    let exif = b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    let blocks = Metadata {
        exif: Some(exif.clone()),
        ..Metadata::default()
    };
    for policy in ["strip", "web", "keep,-gps"] {
        let policy = MetadataPolicy::parse(policy).unwrap();
        let out = replace_metadata_under(&file, &blocks, &policy).unwrap();
        for gone in [
            &b"a comment"[..],
            b"between scans",
            b"MPF\0",
            b"DJI",
            b"JPjumb",
            b"private",
            b"gain map",
            &[0xAB; 6],
        ] {
            assert!(!holds(&out, gone), "{policy}: {gone:?} is left");
        }
        // The JFIF APP0 stays without its thumbnail; the Adobe APP14 stays.
        let jfif = segment(APP0, &[&jfif_header[..], &[0, 0]].concat());
        assert!(out.starts_with(&[&[0xFF, 0xD8][..], &jfif].concat()));
        assert!(holds(&out, &segment(APP0 + 14, adobe)));
        // One image, ending at its EOI: the second frame is gone.
        assert!(out.ends_with(&[0xFF, 0xD9]), "{policy}");
        let eois = out.windows(2).filter(|w| *w == [0xFF, 0xD9]).count();
        assert_eq!(eois, 1, "{policy}");
        let decoded = decode(&out, &request).unwrap();
        assert_eq!(decoded.image, original, "{policy}");
        assert_eq!(decoded.metadata.exif, Some(exif.clone()));
    }
}

#[test]
fn shrink_keeps_at_least_the_requested_size() {
    assert_eq!(shrink_numerator(2725, 2225, Some((720, 588))), 4);
    assert_eq!(shrink_numerator(2725, 2225, Some((340, 278))), 1);
    assert_eq!(shrink_numerator(2725, 2225, Some((2000, 100))), 8);
    assert_eq!(shrink_numerator(2725, 2225, None), 8);
}

#[test]
fn effort_1_plans_huffman_tables_from_samples_for_the_same_pixels() {
    // 1280x960 RGB (over SAMPLED_MIN_PIXELS): gradients, stripes and noise
    // that differ from top to bottom, so that the bands must be spread.
    let (width, height) = (1280u32, 960u32);
    let mut state = 0x2545_f491u32;
    let rgb: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let (x, y) = (i % width, i / width);
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = if y > height / 2 {
                (state % 48) as u8
            } else {
                0
            };
            [(x / 5) as u8, ((x ^ y) & 0x3f) as u8 + noise, (y / 4) as u8]
        })
        .collect();
    let pixels = PixelsRef::new(&rgb, width, height, width as usize * 3, Layout::Rgb).unwrap();
    let encode_at = |effort: &str| {
        let options = Options::from_pairs([("effort", effort)])
            .unwrap()
            .encode_params();
        encode_whole(&pixels, &Metadata::default(), &options).unwrap()
    };
    let (standard, sampled, optimized) = (encode_at("0"), encode_at("1"), encode_at("2"));
    let request = DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    let pixels_of = |jpeg: &[u8]| decode(jpeg, &request).unwrap().image.samples;
    // Only the Huffman tables differ: the same coefficients, the same pixels.
    assert!(pixels_of(&sampled) == pixels_of(&optimized));
    assert!(pixels_of(&standard) == pixels_of(&optimized));
    let (sampled, optimized, standard) = (sampled.len(), optimized.len(), standard.len());
    assert!(
        optimized <= sampled && sampled < standard,
        "{optimized} {sampled} {standard}"
    );
    assert!(
        sampled * 100 <= optimized * 101,
        "{sampled} over {optimized} by 1% or more"
    );
}

#[test]
fn the_effort_ladder_is_the_documented_one() {
    let at = |pairs: &[(&str, &str)]| {
        Effort::of(
            &Options::from_pairs(pairs.iter().copied())
                .unwrap()
                .encode_params(),
        )
    };
    let rung = |huffman, progressive, trellis, scan_search| Effort {
        huffman,
        progressive,
        trellis,
        scan_search,
    };
    use compress::Huffman::*;
    assert_eq!(at(&[]), rung(Sampled, false, false, false));
    assert_eq!(at(&[("effort", "0")]), rung(Standard, false, false, false));
    assert_eq!(at(&[("effort", "2")]), rung(Optimized, false, false, false));
    assert_eq!(at(&[("effort", "3")]), rung(Optimized, true, false, false));
    assert_eq!(at(&[("effort", "4")]), rung(Optimized, true, true, false));
    assert_eq!(at(&[("effort", "8")]), rung(Optimized, true, true, true));
    assert_eq!(
        at(&[("progressive", "true")]),
        rung(Optimized, true, false, false)
    );
    assert_eq!(
        at(&[("effort", "9"), ("progressive", "false")]),
        rung(Optimized, false, true, false)
    );
}
