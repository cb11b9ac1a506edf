//! Color conversion that needs a color engine (lcms2): CMYK to sRGB.

use crate::error::Result;
use lcms2::{ColorSpaceSignature, Intent, PixelFormat, Profile, Transform};

/// Converts 8-bit CMYK pixels to sRGB.
///
/// With an embedded CMYK `icc` profile, lcms2 converts through it; without one
/// (or with a profile that is not CMYK), the standard naive conversion is used.
/// `inverted` says the samples are stored inverted (0 = full ink), as Adobe
/// applications write CMYK JPEGs (they carry an APP14 "Adobe" marker).
pub(crate) fn cmyk_to_rgb(cmyk: &[u8], icc: Option<&[u8]>, inverted: bool) -> Result<Vec<u8>> {
    let profile = icc
        .and_then(|p| Profile::new_icc(p).ok())
        .filter(|p| p.color_space() == ColorSpaceSignature::CmykData);
    let pixels: &[[u8; 4]] = bytemuck::cast_slice(cmyk);
    let mut rgb = vec![[0u8; 3]; pixels.len()];
    if let Some(profile) = profile {
        let format = if inverted {
            PixelFormat::CMYK_8_REV
        } else {
            PixelFormat::CMYK_8
        };
        let srgb = Profile::new_srgb();
        if let Ok(t) = Transform::new(
            &profile,
            format,
            &srgb,
            PixelFormat::RGB_8,
            Intent::Perceptual,
        ) {
            t.transform_pixels(pixels, &mut rgb);
            return Ok(bytemuck::cast_vec(rgb));
        }
    }
    for (out, px) in rgb.iter_mut().zip(pixels) {
        // Work in "amount of paper left": 255 means no ink.
        let [c, m, y, k] = if inverted { *px } else { px.map(|v| 255 - v) };
        let mix = |v: u8| ((u16::from(v) * u16::from(k) + 127) / 255) as u8;
        *out = [mix(c), mix(m), mix(y)];
    }
    Ok(bytemuck::cast_vec(rgb))
}
