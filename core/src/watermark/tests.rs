//! Tests of the coefficient watermark: a mark reads back under its key and
//! only under it, survives a lossless rewrite and a re-encode, and damage is
//! told from absence.

use super::*;
use crate::codecs::jpeg::{self, rewrite_luma_dc};
use crate::codecs::EncodeParams;
use crate::metadata::Metadata;
use crate::pixels::{Layout, PixelsRef};
use std::collections::HashSet;

/// A 2048x1536 gradient under strong texture (every block textured at
/// quality 80), as a JPEG of `quality`.
fn photo(quality: u8) -> Vec<u8> {
    let (width, height) = (2048u32, 1536u32);
    let rgb: Vec<u8> = (0..height)
        .flat_map(|y| {
            (0..width).flat_map(move |x| {
                let texture = ((x * 7919 + y * 104_729) % 61) as u8;
                [
                    (x / 12) as u8 + texture,
                    (y / 8) as u8 + texture,
                    ((x + y) / 20) as u8 + texture,
                ]
            })
        })
        .collect();
    let pixels = PixelsRef::new(&rgb, width, height, width as usize * 3, Layout::Rgb).unwrap();
    let params = EncodeParams {
        quality: Some(quality),
        ..EncodeParams::default()
    };
    jpeg::encode(&pixels, &Metadata::default(), &params).unwrap()
}

fn mark() -> Watermark {
    Watermark {
        time: 1_796_428_800,
        source: *b"\x01\x23\x45\x67\x89\xab\xcd\xef",
        data: b"pixpress".to_vec(),
    }
}

#[test]
fn a_mark_reads_back_under_its_key_only() {
    let jpeg = photo(80);
    assert_eq!(
        read(&jpeg, Some("k"), u64::MAX).unwrap(),
        WatermarkRead::Absent
    );
    let marked = embed(&jpeg, &mark(), Some("k"), u64::MAX).unwrap();
    assert_eq!(
        read(&marked, Some("k"), u64::MAX).unwrap(),
        WatermarkRead::Found(mark())
    );
    assert_eq!(
        read(&marked, Some("other"), u64::MAX).unwrap(),
        WatermarkRead::Absent
    );
    assert_eq!(
        read(&marked, None, u64::MAX).unwrap(),
        WatermarkRead::Absent
    );
    // Marked again with another payload: the new mark replaces the old.
    let again = Watermark {
        data: Vec::new(),
        ..mark()
    };
    let remarked = embed(&marked, &again, Some("k"), u64::MAX).unwrap();
    assert_eq!(
        read(&remarked, Some("k"), u64::MAX).unwrap(),
        WatermarkRead::Found(again.clone())
    );
    // And back to a frame with data, a second later: both frames decode,
    // the later one is read.
    let last = Watermark {
        time: again.time + 1,
        ..mark()
    };
    let twice = embed(&remarked, &last, Some("k"), u64::MAX).unwrap();
    assert_eq!(
        read(&twice, Some("k"), u64::MAX).unwrap(),
        WatermarkRead::Found(last)
    );
}

/// A mark made at quality 80 re-encoded at 85 as plain libjpeg does (no
/// trellis quantization, which trades a DC's accuracy for bytes); Pillow's
/// re-encodes are judged in tests/python/test_watermark.py.
#[test]
fn a_mark_survives_a_re_encode_at_quality_85() {
    let marked = embed(&photo(80), &mark(), None, u64::MAX).unwrap();
    let request = crate::codecs::DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    let decoded = jpeg::decode(&marked, &request).unwrap().image;
    let params = EncodeParams {
        quality: Some(85),
        effort: Some(0),
        ..EncodeParams::default()
    };
    let reencoded = jpeg::encode(
        &decoded.pixels_ref().unwrap(),
        &Metadata::default(),
        &params,
    )
    .unwrap();
    assert_eq!(
        read(&reencoded, None, u64::MAX).unwrap(),
        WatermarkRead::Found(mark())
    );
}

#[test]
fn damage_is_told_from_absence() {
    let marked = embed(&photo(80), &mark(), Some("k"), u64::MAX).unwrap();
    let dc = read_luma_dc(&marked, u64::MAX).unwrap();
    let coded = code::coded_len(LONG_FRAME * 8);
    let placement = Placement::new(Some("k"), dc.values.len(), COPIES * coded, |block| {
        dc.texture[block] >= MIN_TEXTURE
    });
    // Every copy of the first quarter of the coded bits inverted: those
    // bits read wrong with full agreement, past what the code corrects.
    let inverted: HashSet<u32> = placement
        .blocks
        .iter()
        .enumerate()
        .filter(|(p, _)| p % coded < coded / 4)
        .map(|(_, &block)| block)
        .collect();
    let damaged = rewrite_luma_dc(&marked, u64::MAX, |dc| {
        Ok((0..dc.values.len())
            .map(|block| {
                inverted
                    .contains(&(block as u32))
                    .then(|| dc.values[block] / dc.step + 1)
            })
            .collect())
    })
    .unwrap();
    assert_eq!(
        read(&damaged, Some("k"), u64::MAX).unwrap(),
        WatermarkRead::Damaged
    );
}

#[test]
fn frames_round_trip_and_refuse_too_much_data() {
    let frame = mark().frame().unwrap();
    assert_eq!(Watermark::from_frame(&frame), Some(mark()));
    let mut bad = frame;
    bad[3] ^= 1;
    assert_eq!(Watermark::from_frame(&bad), None);
    let long = Watermark {
        data: vec![0; MAX_WATERMARK_DATA + 1],
        ..mark()
    };
    assert!(long.frame().is_err());
    assert_eq!(parse_data("hex:00ff10").unwrap(), [0, 255, 16]);
    assert!(parse_data("hex:0g").is_err());
    assert!(parse_data(&"x".repeat(17)).is_err());
}

#[test]
fn a_small_image_cannot_be_marked() {
    let rgb = vec![128u8; 64 * 64 * 3];
    let pixels = PixelsRef::new(&rgb, 64, 64, 64 * 3, Layout::Rgb).unwrap();
    let small = jpeg::encode(&pixels, &Metadata::default(), &EncodeParams::default()).unwrap();
    let err = embed(&small, &mark(), None, u64::MAX).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
    assert_eq!(read(&small, None, u64::MAX).unwrap(), WatermarkRead::Absent);
}
