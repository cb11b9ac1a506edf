//! The everyday operations besides resizing, as the option vocabulary names
//! them (`crop`, `rotate`, `flip`, `flop`, `flatten`, `grayscale`), and the
//! one order every path applies them in:
//!
//! 1. the EXIF orientation (`orientation=apply`), so that coordinates and
//!    angles are those of the picture as displayed (with `orientation=keep`
//!    they are those of the pixels as stored, and the tag is kept);
//! 2. `crop` (sharp's `extract`);
//! 3. `flip` (top to bottom) and `flop` (left to right), before any rotation
//!    as in sharp;
//! 4. `rotate`, clockwise, onto `background`;
//! 5. `resize` (`fit=contain` letterboxes onto `background`);
//! 6. `flatten` onto `background`, then `grayscale`;
//! 7. what the output format needs (alpha dropped onto `background`, gray
//!    widened, 16 bits reduced).

use crate::error::{Error, Result};
use crate::geometry::{self, Canvas, Interpolation, Region, Rotation};
use crate::orient::Orientation;
use crate::pixels::{Grayscale, Image, Rgba8};

/// The operations a compress applies besides resizing; `Edits::default()` is none.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Edits {
    /// `crop`: `left,top,width,height` of the upright image, within it
    /// (sharp's `extract`).
    pub crop: Option<Region>,
    /// `flip`: mirror top to bottom (sharp's `flip`, Pillow's `FLIP_TOP_BOTTOM`).
    pub flip: bool,
    /// `flop`: mirror left to right (sharp's `flop`, Pillow's `FLIP_LEFT_RIGHT`).
    pub flop: bool,
    /// `rotate`: degrees clockwise, as sharp counts them (Pillow counts
    /// counter-clockwise). Right angles are exact; other angles are
    /// resampled bilinearly onto a canvas of the rotated bounds (as
    /// libvips), filled with `background`.
    pub rotate: f64,
    /// `flatten`: composite alpha onto `background` and drop it, whatever
    /// the output format.
    pub flatten: bool,
    /// `grayscale`: `true` or `luminance` (linear light, as libvips and
    /// sharp), `luma` (Rec. 601 of the encoded values, as Pillow's
    /// `convert("L")`), or `false`.
    pub grayscale: Option<Grayscale>,
}

impl Edits {
    /// Whether no operation is asked for.
    pub fn is_empty(&self) -> bool {
        *self == Edits::default()
    }

    /// Whether pixels change place (`crop`, `rotate`), so that a resize
    /// planned from the header's size no longer holds.
    pub(crate) fn moves_pixels(&self) -> bool {
        self.crop.is_some() || self.rotate != 0.0
    }

    /// Crop, flip, flop and rotate, in that order; `background` fills what
    /// a rotation uncovers. A crop reaching past the image fails with
    /// [`Error::InvalidOption`] naming `crop`.
    pub(crate) fn before_resize(
        &self,
        mut image: Image,
        background: Rgba8,
        max_pixels: u64,
    ) -> Result<Image> {
        if let Some(region) = self.crop {
            if !region.within(image.width, image.height) {
                return Err(Error::option(
                    "crop",
                    format!(
                        "{},{},{},{} reaches past the {}x{} image",
                        region.left,
                        region.top,
                        region.width,
                        region.height,
                        image.width,
                        image.height
                    ),
                ));
            }
            image = geometry::crop(&image, region, background, max_pixels)?;
        }
        let mirror = match (self.flip, self.flop) {
            (true, true) => Orientation::Rotate180,
            (true, false) => Orientation::FlipVertical,
            (false, true) => Orientation::FlipHorizontal,
            (false, false) => Orientation::Normal,
        };
        image = mirror.apply(image);
        if self.rotate != 0.0 {
            let rotation = Rotation {
                degrees: self.rotate,
                canvas: Canvas::Bounds,
                interpolation: Interpolation::Bilinear,
                fill: background,
            };
            image = geometry::rotate(&image, rotation, max_pixels)?;
        }
        Ok(image)
    }

    /// Flatten, then grayscale.
    pub(crate) fn after_resize(&self, mut image: Image, background: Rgba8) -> Image {
        if self.flatten {
            image = image.flatten(background);
        }
        if let Some(method) = self.grayscale {
            image = image.grayscale(method);
        }
        image
    }
}

/// `left,top,width,height` (whole numbers; width and height at least 1).
pub(crate) fn parse_crop(key: &str, value: &str) -> Result<Region> {
    let bad = || {
        Error::option(
            key,
            format!("`{value}` is not left,top,width,height in whole pixels"),
        )
    };
    let parts: Vec<u32> = value
        .split(',')
        .map(|p| p.trim().parse::<u32>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad())?;
    let [left, top, width, height] = parts[..] else {
        return Err(bad());
    };
    if width == 0 || height == 0 {
        return Err(Error::option(key, format!("`{value}` is an empty region")));
    }
    Ok(Region {
        left: left.into(),
        top: top.into(),
        width,
        height,
    })
}

/// Degrees, any finite number; `0` is no rotation.
pub(crate) fn parse_angle(key: &str, value: &str) -> Result<f64> {
    let degrees: f64 = value
        .strip_suffix("deg")
        .unwrap_or(value)
        .trim()
        .parse()
        .map_err(|_| Error::option(key, format!("`{value}` is not a number of degrees")))?;
    if !degrees.is_finite() {
        return Err(Error::option(
            key,
            format!("`{value}` is not a finite angle"),
        ));
    }
    Ok(degrees.rem_euclid(360.0))
}

/// `true`/`luminance`, `luma`, or `false`.
pub(crate) fn parse_grayscale(key: &str, value: &str) -> Result<Option<Grayscale>> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "luminance" => Ok(Some(Grayscale::Luminance)),
        "luma" | "rec601" => Ok(Some(Grayscale::Luma)),
        "false" | "0" | "no" | "off" | "" => Ok(None),
        _ => Err(Error::option(
            key,
            format!("`{value}` is not true, luminance, luma or false"),
        )),
    }
}
