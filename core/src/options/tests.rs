//! Tests of the option vocabulary: typed values, key/value parsing and defaults.

use super::*;

#[test]
fn typed_values_become_the_text_set_parses() {
    let cases = [
        (OptionValue::Default, ""),
        (OptionValue::Text("webp".into()), "webp"),
        (OptionValue::Bool(true), "true"),
        (OptionValue::Int(-3), "-3"),
        (OptionValue::Number(80.0), "80"),
        (OptionValue::Number(0.5), "0.5"),
        (OptionValue::Pair(Some(800), None), "800x"),
        (OptionValue::Pair(None, Some(600)), "x600"),
        (
            OptionValue::List(vec!["jpeg".into(), "webp".into()]),
            "jpeg,webp",
        ),
    ];
    for (value, text) in cases {
        assert_eq!(value.to_text(), text);
    }
    let mut o = Options::default();
    o.set_value("quality", &OptionValue::Number(75.0)).unwrap();
    o.set_value("resize", &OptionValue::Pair(Some(800), None))
        .unwrap();
    o.set_value("webp_method", &OptionValue::Int(4)).unwrap();
    assert_eq!(
        (o.quality, o.resize, o.effort),
        (Some(75), Some((Some(800), None)), Some(6))
    );
    o.set_value("quality", &OptionValue::Default).unwrap();
    assert_eq!(o.quality, None);
}

#[test]
fn sets_every_documented_key() {
    let mut o = Options::default();
    for (k, v) in [
        ("format", "webp"),
        ("formats", "avif, webp,avif"),
        ("quality", "75"),
        ("lossless", "true"),
        ("progressive", "false"),
        ("subsampling", "444"),
        ("webp_method", "6"),
        ("avif_speed", "0"),
        ("effort", "3"),
        ("resize", "800x600"),
        ("fit", "cover"),
        ("enlarge", "yes"),
        ("background", "#102030"),
        ("orientation", "keep"),
        ("max_pixels", "1000"),
        ("metadata", "strip"),
        ("restore_record", "true"),
        ("provenance", "true"),
        ("accept_truncated", "1"),
        ("never_larger", "false"),
        ("sharp_yuv", "on"),
        ("alpha_quality", "50"),
        ("bit_depth", "10"),
        ("target", "ssim=0.98"),
        ("tables", "vision:60"),
        ("sns", "30"),
        ("tune", "subsampling,sns"),
        ("interceptor_timeout", "0.25"),
        ("watermark", "keep"),
        ("watermark_key", "secret"),
        ("watermark_data", "hex:00ff"),
        ("crop", "10,20,300,200"),
        ("flip", "true"),
        ("flop", "1"),
        ("rotate", "-90"),
        ("flatten", "yes"),
        ("grayscale", "luma"),
        ("pages", "3"),
    ] {
        o.set(k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
    }
    assert_eq!(OPTION_KEYS.len(), 39);
    assert_eq!(o.interceptor_timeout, std::time::Duration::from_millis(250));
    assert!(Options::default().set("interceptor_timeout", "0").is_err());
    assert_eq!(o.tune, [TuneParam::Subsampling, TuneParam::Sns]);
    assert_eq!(o.watermark, WatermarkMode::Keep);
    let crop = crate::Region {
        left: 10,
        top: 20,
        width: 300,
        height: 200,
    };
    assert_eq!(o.edits.crop, Some(crop));
    assert_eq!(o.edits.rotate, 270.0);
    assert!(o.edits.flip && o.edits.flop && o.edits.flatten);
    assert_eq!(o.edits.grayscale, Some(crate::Grayscale::Luma));
    assert_eq!(o.pages, Some(3));
    assert!(Options::default().set("pages", "0").is_err());
    for (key, bad) in [
        ("crop", "1,2,3"),
        ("crop", "0,0,0,5"),
        ("crop", "-1,0,5,5"),
        ("rotate", "inf"),
        ("grayscale", "sepia"),
    ] {
        let error = Options::default().set(key, bad).unwrap_err();
        assert!(
            matches!(error, Error::InvalidOption { .. }),
            "{key}={bad}: {error}"
        );
    }
    assert_eq!(o.watermark_key.as_deref(), Some("secret"));
    assert_eq!(o.watermark_data, [0, 255]);
    assert!(Options::default()
        .set("watermark_data", "seventeen bytes!!")
        .is_err());
    assert!(Options::default().set("watermark_data", "hex:0").is_err());
    assert_eq!(o.formats, [Format::Avif, Format::WebP]);
    assert_eq!(o.tables, QuantTables::Vision { ppd: 60.0 });
    assert_eq!(o.target, Some(Target::parse("ssim=0.98").unwrap()));
    assert_eq!(o.format, OutputFormat::Exact(Format::WebP));
    assert_eq!(o.quality, Some(75));
    assert_eq!(o.resize, Some((Some(800), Some(600))));
    assert_eq!(
        o.background,
        Rgba8 {
            r: 0x10,
            g: 0x20,
            b: 0x30,
            a: 255
        }
    );
    assert_eq!(o.max_pixels, 1000);
    assert_eq!(o.bit_depth, Some(10));
}

#[test]
fn errors_name_the_key() {
    let mut o = Options::default();
    let e = o.set("qualty", "80").unwrap_err();
    assert!(
        e.to_string().contains("`qualty`") && e.to_string().contains("quality"),
        "{e}"
    );
    let e = o.set("quality", "101").unwrap_err();
    assert!(
        e.to_string().contains("`quality`") && e.to_string().contains("1 to 100"),
        "{e}"
    );
    let e = o.set("resize", "x").unwrap_err();
    assert!(e.to_string().contains("`resize`"), "{e}");
    let e = o.set("format", "gif").unwrap_err();
    assert!(e.to_string().contains("does not write"), "{e}");
}

#[test]
fn resize_box_forms() {
    let mut o = Options::default();
    o.set("resize", "720x").unwrap();
    assert_eq!(o.resize, Some((Some(720), None)));
    o.set("resize", "x588").unwrap();
    assert_eq!(o.resize, Some((None, Some(588))));
    o.set("resize", "").unwrap();
    assert_eq!(o.resize, None);
}
