//! ICC profiles: the header facts and the description, for listing.

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn signature(data: &[u8], at: usize) -> Option<String> {
    let bytes = data.get(at..at + 4)?;
    Some(String::from_utf8_lossy(bytes).trim_end().to_string())
}

/// Whether `profile` describes CMYK data (header color space `CMYK`).
pub(crate) fn is_cmyk(profile: &[u8]) -> bool {
    profile.get(16..20) == Some(&b"CMYK"[..])
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
/// Offsets and lengths come from the profile: every sum is checked, so a
/// hostile one reads as no description.
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
            let text = tag.get(12..len.checked_add(12)?)?;
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
                .get(at..at.checked_add(len)?)?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_with_lengths_past_the_profile_reads_as_none() {
        // One tag, `desc` at 144 (16 bytes), a `desc` type whose count is huge.
        let mut profile = vec![0u8; 160];
        profile[128..132].copy_from_slice(&1u32.to_be_bytes());
        profile[132..136].copy_from_slice(b"desc");
        profile[144..148].copy_from_slice(b"desc");
        profile[152..156].copy_from_slice(&u32::MAX.to_be_bytes());
        for (offset, size) in [(144, 16), (u32::MAX, 16), (144, u32::MAX)] {
            profile[136..140].copy_from_slice(&offset.to_be_bytes());
            profile[140..144].copy_from_slice(&size.to_be_bytes());
            assert_eq!(description(&profile), None, "{offset} {size}");
            assert!(summary(&profile).iter().all(|(k, _)| *k != "Description"));
        }
        // The same tag with a count that fits reads.
        profile[136..140].copy_from_slice(&144u32.to_be_bytes());
        profile[140..144].copy_from_slice(&16u32.to_be_bytes());
        profile[152..156].copy_from_slice(&4u32.to_be_bytes());
        profile[156..160].copy_from_slice(b"sRGB");
        assert_eq!(description(&profile).as_deref(), Some("sRGB"));
    }
}
