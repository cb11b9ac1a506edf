//! Tests of the container-neutral metadata blocks and their editing on the way to an output.

use super::iptc::resource;
use super::*;

#[test]
fn an_orientation_only_block_is_well_formed_exif() {
    let block = orientation_only_exif(6);
    assert!(exif::is_well_formed(&block));
    let metadata = Metadata {
        exif: Some(block),
        ..Metadata::default()
    };
    assert_eq!(metadata.exif_orientation(), Some(6));
}

const PACKET: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:ex="http://ns.adobe.com/exif/1.0/" tiff:Orientation="6" ex:GPSLatitude="47,30N"><tiff:Make>Nikon</tiff:Make><ex:PixelXDimension>4000</ex:PixelXDimension><ex:GPSLongitude>19,2E</ex:GPSLongitude></rdf:Description><rdf:Description rdf:about=""><tiff:Orientation>8</tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>"#;

#[test]
fn reads_and_resets_orientation() {
    let mut m = Metadata {
        exif: Some(orientation_only_exif(6)),
        xmp: Some(PACKET.as_bytes().to_vec()),
        ..Metadata::default()
    };
    assert_eq!(m.exif_orientation(), Some(6));
    m.reset_orientation();
    assert_eq!(m.exif_orientation(), Some(1));
    let xmp = String::from_utf8(m.xmp.unwrap()).unwrap();
    assert!(xmp.contains(r#"tiff:Orientation="1""#), "{xmp}");
    assert!(
        xmp.contains("<tiff:Orientation>1</tiff:Orientation>"),
        "{xmp}"
    );
}

#[test]
fn web_policy_removes_gps_from_every_block_and_sets_dimensions() {
    let m = Metadata {
        xmp: Some(PACKET.as_bytes().to_vec()),
        ..Metadata::default()
    };
    let web = MetadataPolicy::parse("web").unwrap();
    let (out, report) = m.for_output(&web, Format::WebP, 640, 480);
    let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
    assert!(!xmp.contains("GPS"), "{xmp}");
    assert!(
        xmp.contains("<ex:PixelXDimension>640</ex:PixelXDimension>"),
        "{xmp}"
    );
    assert!(xmp.contains("<tiff:Make>Nikon</tiff:Make>"), "{xmp}");
    assert_eq!(
        report.removed,
        vec!["XMP:exif:GPSLatitude", "XMP:exif:GPSLongitude"]
    );
    let strip = MetadataPolicy::parse("strip").unwrap();
    let (out, _) = m.for_output(&strip, Format::WebP, 640, 480);
    assert_eq!(out, Metadata::default());
}

/// A packet with positions in other namespaces, in structures and in
/// `exif:` fields of every kind.
const HOSTILE: &str = concat!(
    r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">"#,
    r#"<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" "#,
    r#"xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" "#,
    r#"xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
    r#"drone-dji:GpsLongtitude="+19.0402" drone-dji:AbsoluteAltitude="+120.5" "#,
    r#"exif:GPSLatitude="47,29.8807N" exif:GPSLongitude="19,2.4141E" exif:GPSAltitude="1205/10" "#,
    r#"exif:GPSDestLatitude="47.4981" exif:GPSDestLongitude="19,2.4100E" dc:format="image/jpeg">"#,
    r#"<Iptc4xmpExt:LocationCreated rdf:parseType="Resource">"#,
    r#"<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"#,
    r#"<exif:GPSLatitude>47,29.8807N</exif:GPSLatitude>"#,
    r#"</Iptc4xmpExt:LocationCreated>"#,
    r#"</rdf:Description></rdf:RDF></x:xmpmeta>"#,
);

#[test]
fn web_removes_positions_of_every_namespace_and_structure() {
    let m = Metadata {
        xmp: Some(HOSTILE.as_bytes().to_vec()),
        ..Metadata::default()
    };
    let web = MetadataPolicy::parse("web").unwrap();
    let (out, report) = m.for_output(&web, Format::WebP, 640, 480);
    let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
    for gone in ["GPS", "Gps", "Altitude", "29.88", "2.41", "19.04", "47.49"] {
        assert!(!xmp.contains(gone), "{gone} in {xmp}");
    }
    assert!(
        xmp.contains("<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"),
        "{xmp}"
    );
    assert!(xmp.contains(r#"dc:format="image/jpeg""#), "{xmp}");
    for removed in [
        "XMP:drone-dji:GpsLongtitude",
        "XMP:drone-dji:AbsoluteAltitude",
        "XMP:Iptc4xmpExt:LocationCreated/exif:GPSLatitude",
    ] {
        assert!(report.removed.iter().any(|r| r == removed), "{report:?}");
    }
    // keep keeps them all.
    let (out, report) = m.for_output(&MetadataPolicy::KEEP, Format::WebP, 640, 480);
    let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
    assert!(report.removed.is_empty(), "{report:?}");
    assert!(xmp.contains("drone-dji:GpsLongtitude") && xmp.contains("29.8807"));
}

#[test]
fn gps_distance_rounds_the_exif_coordinates_and_removes_other_positions() {
    let m = Metadata {
        xmp: Some(HOSTILE.as_bytes().to_vec()),
        ..Metadata::default()
    };
    let policy = MetadataPolicy::parse("keep,gps=1km").unwrap();
    let (out, report) = m.for_output(&policy, Format::WebP, 640, 480);
    let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
    let values = xmp::values(xmp.as_bytes());
    let value = |name: &str| {
        values
            .iter()
            .find(|(p, n, _)| p == "exif" && n == name)
            .map(|(_, _, v)| v.clone())
    };
    let lat = gps::parse_xmp_coordinate(&value("GPSLatitude").unwrap()).unwrap();
    let lon = gps::parse_xmp_coordinate(&value("GPSLongitude").unwrap()).unwrap();
    let exact = 47.0 + 29.8807 / 60.0;
    assert!(
        (lat - exact).abs() > 1e-6 && (lat - exact).abs() < 0.005,
        "{lat}"
    );
    assert!((lon - (19.0 + 2.4141 / 60.0)).abs() < 0.007, "{lon}");
    assert_eq!(value("GPSAltitude").as_deref(), Some("1205/10"));
    // The destination latitude does not parse: the pair goes.
    assert_eq!(value("GPSDestLatitude"), None);
    assert_eq!(value("GPSDestLongitude"), None);
    for gone in [
        "drone-dji:Gps",
        "drone-dji:Abs",
        "29.8807",
        "2.4141",
        "Altitude=\"+120",
    ] {
        assert!(!xmp.contains(gone), "{gone} in {xmp}");
    }
    assert!(
        xmp.contains("<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"),
        "{xmp}"
    );
    assert_eq!(
        report.changed,
        vec!["XMP:exif:GPSLatitude", "XMP:exif:GPSLongitude"]
    );
    for removed in [
        "XMP:exif:GPSDestLatitude",
        "XMP:exif:GPSDestLongitude",
        "XMP:drone-dji:GpsLongtitude",
        "XMP:Iptc4xmpExt:LocationCreated/exif:GPSLatitude",
    ] {
        assert!(report.removed.iter().any(|r| r == removed), "{report:?}");
    }
}

#[test]
fn gps_distance_removes_what_it_cannot_round_in_exif() {
    // The latitude is text, and the Exif IFD links a second GPS IFD.
    let lon: Vec<u8> = [19u32, 1, 2, 1, 2484, 100]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let gps_ifd = [(0x0002, 2, 8, &b"47.4980\0"[..]), (0x0004, 5, 3, &lon[..])];
    let build = |stray: u32| {
        let make = [(0x010F, 2, 6, &b"Nikon\0"[..])];
        exif::test_block(&make, &[(0x8825, 4, 1, &stray.to_le_bytes()[..])], &gps_ifd)
    };
    let stray = build(0).len() as u32;
    let mut block = build(stray);
    block.extend_from_slice(&1u16.to_le_bytes());
    block.extend_from_slice(&[2, 0, 2, 0, 4, 0, 0, 0]);
    block.extend_from_slice(b"47.5");
    block.extend_from_slice(&0u32.to_le_bytes());
    let m = Metadata {
        exif: Some(block),
        ..Metadata::default()
    };
    let policy = MetadataPolicy::parse("keep,gps=1km").unwrap();
    let (out, report) = m.for_output(&policy, Format::Jpeg, 640, 480);
    for removed in [
        "EXIF:ExifIFD:Tag0x8825",
        "EXIF:GPS:GPSLatitude",
        "EXIF:GPS:GPSLongitude",
    ] {
        assert!(report.removed.iter().any(|r| r == removed), "{report:?}");
    }
    let exif = out.exif.unwrap();
    assert_eq!(exif::fields(&exif), vec![(Ifd::Ifd0, 0x010F)]);
    assert!(!exif.windows(4).any(|w| w == b"47.4" || w == b"47.5"));
    assert!(!exif.windows(4).any(|w| w == 2484u32.to_le_bytes()));
    let (_, report) = m.for_output(&MetadataPolicy::KEEP, Format::Jpeg, 640, 480);
    assert!(report.removed.is_empty(), "{report:?}");
}

#[test]
fn photoshop_copies_of_exif_and_xmp_go_with_positions() {
    let block = [
        resource(0x03ED, &[0, 72, 0, 0, 0, 1, 0, 1, 0, 72, 0, 0, 0, 1, 0, 1]),
        resource(0x0424, HOSTILE.as_bytes()),
    ]
    .concat();
    let m = Metadata {
        iptc: Some(block.clone()),
        ..Metadata::default()
    };
    let web = MetadataPolicy::parse("web").unwrap();
    let (out, report) = m.for_output(&web, Format::Jpeg, 640, 480);
    assert!(
        report
            .removed
            .iter()
            .any(|r| r == "Photoshop:Resource0x0424"),
        "{report:?}"
    );
    let kept = out.iptc.unwrap();
    assert!(kept.starts_with(b"8BIM\x03\xED") && !kept.windows(3).any(|w| w == b"GPS"));
    let with_gps = MetadataPolicy::parse("web,+gps").unwrap();
    let (out, _) = m.for_output(&with_gps, Format::Jpeg, 640, 480);
    assert_eq!(out.iptc, Some(block));
}

#[test]
fn iptc_without_a_slot_is_reported_moved_or_removed_dataset_by_dataset() {
    let datasets = [
        (1, 90, "\x1b%G"),
        (2, 0, "\0\x04"),
        (2, 90, "Budapest"), // photoshop:City, already in the packet
        (2, 101, "Hungary"), // photoshop:Country, added
        (2, 95, "Pest"),     // photoshop:State, in the packet with another value
        (2, 55, "20060712"), // photoshop:DateCreated, added with the time
        (2, 60, "101010+0200"),
        (2, 230, "notes"), // DocumentNotes: no XMP property
    ]
    .map(|(record, number, data)| iptc::Dataset {
        record,
        number,
        data: data.as_bytes().to_vec(),
    });
    let block = [
        resource(0x03ED, &[0; 16]),
        iptc::block_of(&iptc::write_iim(&datasets)),
    ]
    .concat();
    let packet = concat!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">"#,
        r#"<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">"#,
        r#"<photoshop:City>Budapest</photoshop:City><photoshop:State>Buda</photoshop:State>"#,
        r#"</rdf:Description></rdf:RDF></x:xmpmeta>"#,
    );
    let m = Metadata {
        xmp: Some(packet.as_bytes().to_vec()),
        iptc: Some(block.clone()),
        ..Metadata::default()
    };
    let (out, report) = m.for_output(&MetadataPolicy::KEEP, Format::WebP, 640, 480);
    assert_eq!(out.iptc, None);
    assert_eq!(
        report.moved,
        vec![
            "IPTC:City -> XMP:photoshop:City",
            "IPTC:Country-PrimaryLocationName -> XMP:photoshop:Country",
            "IPTC:DateCreated -> XMP:photoshop:DateCreated",
            "IPTC:TimeCreated -> XMP:photoshop:DateCreated",
        ]
    );
    assert_eq!(
        report.removed,
        vec![
            "Photoshop:Resource0x03ED",
            "IPTC:CodedCharacterSet",
            "IPTC:ApplicationRecordVersion",
            "IPTC:Province-State",
            "IPTC:2:230",
        ]
    );
    let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
    assert_eq!(xmp.matches("photoshop:City>").count(), 2, "{xmp}");
    assert!(
        xmp.contains("<photoshop:State>Buda</photoshop:State>"),
        "{xmp}"
    );
    assert!(xmp.contains("2006-07-12T10:10:10+02:00"), "{xmp}");
    // A container with an IPTC slot keeps the block as it is.
    let (out, report) = m.for_output(&MetadataPolicy::KEEP, Format::Jpeg, 640, 480);
    assert_eq!(out.iptc, Some(block));
    assert!(
        report.moved.is_empty() && report.removed.is_empty(),
        "{report:?}"
    );
}

#[test]
fn a_tiff_s_photoshop_resources_are_read_with_or_without_iptc() {
    let iim = |city: &[u8]| {
        iptc::write_iim(&[iptc::Dataset {
            record: 2,
            number: 90,
            data: city.to_vec(),
        }])
    };
    let (zug, bern) = (iim(&b"Zug"[..]), iim(&b"Bern"[..]));
    let resources = [resource(0x03ED, &[0; 16]), resource(0x0425, &[7; 16])].concat();
    let own = [resources.clone(), iptc::block_of(&bern)].concat();
    let tiff = |iptc_tag: Option<&[u8]>, photoshop_tag: Option<&[u8]>| {
        let mut entries: Vec<exif::TestEntry> = vec![(0x010F, 2, 6, &b"Nikon\0"[..])];
        if let Some(bytes) = iptc_tag {
            entries.push((33723, 7, bytes.len() as u32, bytes));
        }
        if let Some(bytes) = photoshop_tag {
            entries.push((34377, 7, bytes.len() as u32, bytes));
        }
        let file = exif::test_block(&entries, &[], &[]);
        Metadata::from_tiff_file(&file, Metadata::default()).iptc
    };
    // The resources alone, the IIM alone, the two combined (the digest kept).
    assert_eq!(tiff(None, Some(&resources[..])), Some(resources.clone()));
    assert_eq!(tiff(Some(&zug[..]), None), Some(iptc::block_of(&zug)));
    let both = [resources.clone(), iptc::block_of(&zug)].concat();
    assert_eq!(tiff(Some(&zug[..]), Some(&resources[..])), Some(both));
    // IIM among the resources wins over tag 33723.
    assert_eq!(tiff(Some(&zug[..]), Some(&own[..])), Some(own.clone()));
}

#[test]
fn normalizes_exif_prefix() {
    let raw = [EXIF_PREFIX, &orientation_only_exif(3)[..]].concat();
    assert_eq!(
        Metadata::normalize_exif(&raw),
        Some(orientation_only_exif(3))
    );
    assert_eq!(Metadata::normalize_exif(b"garbage"), None);
}
