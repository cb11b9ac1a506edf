//! Tests of IPTC-IIM parsing, filtering, mapping and writing inside Photoshop resource blocks.

use super::*;

#[test]
fn parses_filters_and_maps() {
    let datasets = vec![
        Dataset {
            record: 2,
            number: 90,
            data: b"Budapest".to_vec(),
        },
        Dataset {
            record: 2,
            number: 25,
            data: b"summer".to_vec(),
        },
        Dataset {
            record: 2,
            number: 25,
            data: b"July".to_vec(),
        },
        Dataset {
            record: 2,
            number: 55,
            data: b"20060712".to_vec(),
        },
        Dataset {
            record: 2,
            number: 60,
            data: b"101010+0200".to_vec(),
        },
    ];
    let b = block_of(&write_iim(&datasets));
    assert_eq!(super::datasets(&b), datasets);
    let (kept, removed) = retain(&b, &|r, n| !is_location(r, n), &|_| true);
    assert_eq!(removed, vec!["City"]);
    assert_eq!(super::datasets(&kept.unwrap()), datasets[1..].to_vec());
    let xmp = to_xmp(&b);
    let subject = xmp.iter().find(|x| x.name == "subject").unwrap();
    assert_eq!(subject.values, vec!["summer", "July"]);
    let date = xmp.iter().find(|x| x.name == "DateCreated").unwrap();
    assert_eq!(date.values, vec!["2006-07-12T10:10:10+02:00"]);
    assert_eq!(
        text(
            &Dataset {
                record: 2,
                number: 5,
                data: vec![0x80, b'x']
            },
            false
        ),
        "€x"
    );
}

#[test]
fn record_versions_left_alone_go_with_the_stream_and_are_reported() {
    let datasets =
        [(1, 90, "\x1b%G"), (2, 0, "\0\x04"), (2, 90, "Zug")].map(|(record, number, data)| {
            Dataset {
                record,
                number,
                data: data.as_bytes().to_vec(),
            }
        });
    let b = block_of(&write_iim(&datasets));
    let (kept, removed) = retain(&b, &|r, n| !is_location(r, n), &|_| true);
    assert_eq!(kept, None);
    assert_eq!(
        removed,
        vec!["City", "CodedCharacterSet", "ApplicationRecordVersion"]
    );
}

#[test]
fn crafted_dates_and_times_do_not_panic() {
    assert_eq!(
        xmp_date("20060712", Some("101010-0530")).as_deref(),
        Some("2006-07-12T10:10:10-05:30")
    );
    assert_eq!(
        xmp_date("20060712", Some("101010")).as_deref(),
        Some("2006-07-12T10:10:10")
    );
    // Multi-byte chars where digits belong: full-width digits, `é`.
    assert_eq!(xmp_date("２００6", None), None);
    assert_eq!(xmp_date("12é45678", None), None);
    assert_eq!(
        xmp_date("20060712", Some("12é456")).as_deref(),
        Some("2006-07-12")
    );
    assert_eq!(
        xmp_date("20060712", Some("１０1010")).as_deref(),
        Some("2006-07-12")
    );
    // 11 bytes with byte 9 inside `é`: the zone is dropped.
    assert_eq!(
        xmp_date("20060712", Some("101010+0é2")).as_deref(),
        Some("2006-07-12T10:10:10")
    );
    // The same TimeCreated in a UTF-8 block, through the IPTC -> XMP mapping.
    let datasets = [
        (1, 90, "\x1b%G"),
        (2, 55, "20060712"),
        (2, 60, "101010+0é2"),
    ]
    .map(|(record, number, data)| Dataset {
        record,
        number,
        data: data.as_bytes().to_vec(),
    });
    let xmp = to_xmp(&block_of(&write_iim(&datasets)));
    let date = xmp.iter().find(|x| x.name == "DateCreated").unwrap();
    assert_eq!(date.values, vec!["2006-07-12T10:10:10"]);
}
