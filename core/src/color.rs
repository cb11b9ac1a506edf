//! Color conversion that needs a color engine (lcms2): CMYK to sRGB, and
//! RGB in an embedded profile's space to sRGB when the profile is dropped.

use crate::error::Result;
use crate::pixels::{Image, Layout, Samples};
use lcms2::{ColorSpaceSignature, InfoType, Intent, Locale, PixelFormat, Profile, Transform};

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

/// Converts RGB or RGBA pixels (8- or 16-bit) from the color space of `icc`
/// to sRGB in place, for an output that drops the profile: without it,
/// viewers would show the samples as sRGB and the colors would shift.
/// Returns whether the pixels were converted: a profile lcms2 cannot read,
/// one that is not RGB, an sRGB profile (by its description) and gray
/// images are left as they are.
pub(crate) fn rgb_to_srgb(image: &mut Image, icc: &[u8]) -> bool {
    let Ok(profile) = Profile::new_icc(icc) else {
        return false;
    };
    let is_srgb = profile
        .info(InfoType::Description, Locale::none())
        .is_some_and(|d| d.contains("sRGB"));
    if profile.color_space() != ColorSpaceSignature::RgbData || is_srgb {
        return false;
    }
    let alpha = image.layout.has_alpha();
    match (&mut image.samples, image.layout, alpha) {
        (Samples::U8(v), Layout::Rgba, true) => {
            in_place::<[u8; 4]>(&profile, PixelFormat::RGBA_8, bytemuck::cast_slice_mut(v))
        }
        (Samples::U8(v), Layout::Rgb, false) => {
            in_place::<[u8; 3]>(&profile, PixelFormat::RGB_8, bytemuck::cast_slice_mut(v))
        }
        (Samples::U16(v), Layout::Rgba, true) => {
            in_place::<[u16; 4]>(&profile, PixelFormat::RGBA_16, bytemuck::cast_slice_mut(v))
        }
        (Samples::U16(v), Layout::Rgb, false) => {
            in_place::<[u16; 3]>(&profile, PixelFormat::RGB_16, bytemuck::cast_slice_mut(v))
        }
        _ => false,
    }
}

/// Transforms `pixels` of `format` from `profile` to sRGB in place (alpha untouched).
fn in_place<P: Copy + bytemuck::Pod>(
    profile: &Profile,
    format: PixelFormat,
    pixels: &mut [P],
) -> bool {
    let srgb = Profile::new_srgb();
    match Transform::<P, P>::new(profile, format, &srgb, format, Intent::Perceptual) {
        Ok(t) => {
            t.transform_in_place(pixels);
            true
        }
        Err(_) => false,
    }
}
