//! Tests of XMP packet listing, removal, rewriting and addition of properties.

use super::*;
use crate::metadata::gps::is_position_name;

fn packet(body: &str) -> Vec<u8> {
    format!(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"{RDF}\">{body}</rdf:RDF></x:xmpmeta>"
    )
    .into_bytes()
}

fn no_position(_: &str, name: &str) -> bool {
    !is_position_name(name)
}

const HOSTILE: &str = concat!(
    r#"<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" "#,
    r#"xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" "#,
    r#"xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" "#,
    r#"drone-dji:GpsLatitude="47.4980" drone-dji:FlightYawDegree="+12.3">"#,
    r#"<Iptc4xmpExt:LocationCreated rdf:parseType="Resource">"#,
    r#"<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"#,
    r#"<exif:GPSLatitude>47,29.88N</exif:GPSLatitude>"#,
    r#"</Iptc4xmpExt:LocationCreated>"#,
    r#"<Iptc4xmpExt:LocationShown><rdf:Bag>"#,
    r#"<rdf:li Iptc4xmpExt:City="Pest" exif:GPSLongitude="19,2.41E"/>"#,
    r#"</rdf:Bag></Iptc4xmpExt:LocationShown>"#,
    r#"</rdf:Description>"#,
    r#"<exif:Thing rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/">"#,
    r#"<exif:GPSAltitude>120</exif:GPSAltitude></exif:Thing>"#,
);

#[test]
fn positions_go_from_inside_structures_and_typed_nodes() {
    let edit_all = Edit {
        keep: &no_position,
        keep_nested: &no_position,
        set: &[],
        add: &[],
    };
    let edited = edit(&packet(HOSTILE), &edit_all).unwrap();
    let text = String::from_utf8(edited.packet.unwrap()).unwrap();
    for gone in ["GPS", "Gps", "47,29", "19,2.41", "47.4980", ">120<"] {
        assert!(!text.contains(gone), "{gone} in {text}");
    }
    for stays in [
        "<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>",
        r#"Iptc4xmpExt:City="Pest""#,
        r#"drone-dji:FlightYawDegree="+12.3""#,
    ] {
        assert!(text.contains(stays), "{stays} not in {text}");
    }
    assert!(is_well_formed(text.as_bytes()), "{text}");
    assert_eq!(
        edited.removed,
        vec![
            "drone-dji:GpsLatitude",
            "Iptc4xmpExt:LocationCreated/exif:GPSLatitude",
            "Iptc4xmpExt:LocationShown/exif:GPSLongitude",
            "exif:GPSAltitude",
        ]
    );
    // Keeping everything changes nothing.
    let keep_all = |_: &str, _: &str| true;
    let unchanged = Edit {
        keep: &keep_all,
        keep_nested: &keep_all,
        set: &[],
        add: &[],
    };
    let edited = edit(&packet(HOSTILE), &unchanged).unwrap();
    let text = String::from_utf8(edited.packet.unwrap()).unwrap();
    assert!(text.contains("<exif:GPSLatitude>47,29.88N</exif:GPSLatitude>"));
    assert!(edited.removed.is_empty());
}

#[test]
fn a_value_set_replaces_all_the_property_held() {
    let body = concat!(
        r#"<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/">"#,
        "<exif:GPSLatitude>\n <rdf:Alt><rdf:li>47,29.88N</rdf:li></rdf:Alt></exif:GPSLatitude>",
        "<exif:GPSLongitude>19,2.41E</exif:GPSLongitude>",
        "</rdf:Description>"
    );
    let p = packet(body);
    assert_eq!(text_values(&p, "exif", "GPSLatitude"), vec![None]);
    assert_eq!(
        text_values(&p, "exif", "GPSLongitude"),
        vec![Some("19,2.41E".to_string())]
    );
    let keep_all = |_: &str, _: &str| true;
    let set = [
        ("exif", "GPSLatitude", "47,30.0000N".to_string()),
        ("exif", "GPSLongitude", "19,0.0000E".to_string()),
    ];
    let edited = edit(
        &p,
        &Edit {
            keep: &keep_all,
            keep_nested: &keep_all,
            set: &set,
            add: &[],
        },
    )
    .unwrap();
    let text = String::from_utf8(edited.packet.unwrap()).unwrap();
    assert!(
        text.contains("<exif:GPSLatitude>47,30.0000N</exif:GPSLatitude>"),
        "{text}"
    );
    assert!(
        text.contains("<exif:GPSLongitude>19,0.0000E</exif:GPSLongitude>"),
        "{text}"
    );
    assert!(!text.contains("29.88") && !text.contains("2.41"), "{text}");
    assert!(is_well_formed(text.as_bytes()), "{text}");
}

#[test]
fn attributes_in_single_quotes_stay_well_formed() {
    let body = concat!(
        r#"<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
        r#"xmlns:exif="http://ns.adobe.com/exif/1.0/" dc:format='say "hi"' "#,
        r#"exif:GPSLatitude="1,0N"><dc:coverage><rdf:Bag>"#,
        r#"<rdf:li dc:x='a "b"' exif:GPSLongitude="2,0E"/></rdf:Bag></dc:coverage>"#,
        r#"</rdf:Description>"#
    );
    let edited = edit(
        &packet(body),
        &Edit {
            keep: &no_position,
            keep_nested: &no_position,
            set: &[],
            add: &[],
        },
    )
    .unwrap();
    let out = edited.packet.unwrap();
    assert!(is_well_formed(&out), "{}", String::from_utf8_lossy(&out));
    let values = values(&out);
    assert!(values.contains(&(
        "dc".to_string(),
        "format".to_string(),
        "say \"hi\"".to_string()
    )));
    assert!(!String::from_utf8_lossy(&out).contains("GPS"));
}
