//! ICC profiles: the header facts and the description, for listing.

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn signature(data: &[u8], at: usize) -> Option<String> {
    let bytes = data.get(at..at + 4)?;
    Some(String::from_utf8_lossy(bytes).trim_end().to_string())
}

/// `(name, value)` pairs: size, version, class, color space, connection
/// space and description.
pub(crate) fn summary(profile: &[u8]) -> Vec<(&'static str, String)> {
    let mut out = vec![("Size", format!("{} bytes", profile.len()))];
    if let Some(&[major, minor]) = profile.get(8..10) {
        out.push(("Version", format!("{major}.{}.{}", minor >> 4, minor & 15)));
    }
    for (name, at) in [("Class", 12), ("ColorSpace", 16), ("ConnectionSpace", 20)] {
        if let Some(sig) = signature(profile, at) {
            out.push((name, sig));
        }
    }
    if let Some(description) = description(profile) {
        out.push(("Description", description));
    }
    out
}

/// The `desc` tag: ASCII in a v2 `desc` type, UTF-16 in a v4 `mluc` type.
fn description(profile: &[u8]) -> Option<String> {
    let count = be_u32(profile, 128)? as usize;
    let entry = (0..count.min(256))
        .map(|i| 132 + i * 12)
        .find(|&at| profile.get(at..at + 4) == Some(b"desc"))?;
    let offset = be_u32(profile, entry + 4)? as usize;
    let size = be_u32(profile, entry + 8)? as usize;
    let tag = profile.get(offset..offset.checked_add(size)?)?;
    match tag.get(..4)? {
        b"desc" => {
            let len = be_u32(tag, 8)? as usize;
            let text = tag.get(12..12 + len)?;
            let text = text.split(|&b| b == 0).next()?;
            Some(String::from_utf8_lossy(text).into_owned())
        }
        b"mluc" => {
            let records = be_u32(tag, 8)?;
            if records == 0 {
                return None;
            }
            let len = be_u32(tag, 20)? as usize;
            let at = be_u32(tag, 24)? as usize;
            let units: Vec<u16> = tag
                .get(at..at + len)?
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Some(
                String::from_utf16_lossy(&units)
                    .trim_end_matches('\0')
                    .to_string(),
            )
        }
        _ => None,
    }
}
