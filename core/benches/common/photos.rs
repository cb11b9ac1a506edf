//! The corpus photos the quality studies run on (paths below `PIXPRESS_CORPUS`):
//! a range of content (landscape, HDR, foliage, faces, night) and sizes up to 12 MP.

/// Photos of the corpus, relative to its root.
pub const PHOTOS: &[&str] = &[
    "jpeg/xmp_test_adobergb.jpg",
    "jpeg/canon_hdr_NO.jpg",
    "jpeg/flickr_2569067123_aca715a2ee_o.jpg",
    "jpeg/jolla.jpg",
    "jpeg/gain-map.jpg",
    "jpeg/HMD_Nokia_8.3_5G.jpg",
    "jpeg/30-type_error.jpg",
    "jpeg/Olympus_E-P3_42_IndexError.jpg",
];
