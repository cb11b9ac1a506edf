//! Decoded pixels: an owned, tightly packed buffer of 8- or 16-bit samples.

use crate::error::{Error, Result};

/// The channels of a pixel, in memory order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// One luma channel.
    Gray,
    /// Luma then alpha.
    GrayAlpha,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha (straight, not premultiplied).
    Rgba,
}

impl Layout {
    /// Samples per pixel (1 to 4).
    pub fn channels(self) -> usize {
        match self {
            Layout::Gray => 1,
            Layout::GrayAlpha => 2,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }

    /// Whether the last channel is alpha.
    pub fn has_alpha(self) -> bool {
        matches!(self, Layout::GrayAlpha | Layout::Rgba)
    }

    /// Whether the pixel has color channels (not only luma).
    pub fn is_color(self) -> bool {
        matches!(self, Layout::Rgb | Layout::Rgba)
    }

    /// The layout with the same color channels and the given alpha.
    pub fn with_alpha(self, alpha: bool) -> Layout {
        match (self.is_color(), alpha) {
            (true, true) => Layout::Rgba,
            (true, false) => Layout::Rgb,
            (false, true) => Layout::GrayAlpha,
            (false, false) => Layout::Gray,
        }
    }
}

/// The sample storage: 8-bit, or 16-bit with the full 0-65535 range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Samples {
    /// 8 bits per sample.
    U8(Vec<u8>),
    /// 16 bits per sample, native endian. Sources with 10 or 12 bits are scaled to 16.
    U16(Vec<u16>),
}

impl Default for Samples {
    /// No samples.
    fn default() -> Samples {
        Samples::U8(Vec::new())
    }
}

impl Samples {
    /// The 8-bit samples moved out (`None` for 16-bit); the buffer then leaves the pool.
    pub fn into_u8_vec(mut self) -> Option<Vec<u8>> {
        match &mut self {
            Samples::U8(v) => Some(std::mem::take(v)),
            Samples::U16(_) => None,
        }
    }

    /// The 16-bit samples moved out (`None` for 8-bit); the buffer then leaves the pool.
    pub fn into_u16_vec(mut self) -> Option<Vec<u16>> {
        match &mut self {
            Samples::U16(v) => Some(std::mem::take(v)),
            Samples::U8(_) => None,
        }
    }
}

impl Drop for Samples {
    /// Shelves the buffer in the pool for the next image of its size ([`crate::set_buffer_pool_limit`]).
    fn drop(&mut self) {
        crate::buffer_pool::give_samples(self);
    }
}

/// An owned image: `width * height` pixels of `layout`, rows packed without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels, at least 1.
    pub width: u32,
    /// Height in pixels, at least 1.
    pub height: u32,
    /// Channels of each pixel.
    pub layout: Layout,
    /// `width * height * layout.channels()` samples.
    pub samples: Samples,
}

/// An 8-bit RGB color with alpha, used for backgrounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba8 {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha (255 is opaque).
    pub a: u8,
}

impl Rgba8 {
    /// Opaque white.
    pub const WHITE: Rgba8 = Rgba8 {
        r: 255,
        g: 255,
        b: 255,
        a: 255,
    };
}

/// Reduces a 16-bit sample to 8 bits with correct rounding (65535 maps to 255).
#[inline]
pub fn u16_to_u8(v: u16) -> u8 {
    ((u32::from(v) * 255 + 32767) / 65535) as u8
}

/// Widens an 8-bit sample to 16 bits exactly (255 maps to 65535).
#[inline]
pub fn u8_to_u16(v: u8) -> u16 {
    u16::from(v) * 257
}

impl Image {
    /// Converts premultiplied ("associated") alpha to straight alpha in place,
    /// rounding to nearest. Does nothing for layouts without alpha.
    pub fn unpremultiply(&mut self) {
        if !self.layout.has_alpha() {
            return;
        }
        let channels = self.layout.channels();
        fn straighten<T: Copy + Into<u64> + TryFrom<u64>>(
            pixels: &mut [T],
            channels: usize,
            max: u64,
        ) {
            for px in pixels.chunks_exact_mut(channels) {
                let (color, alpha) = px.split_at_mut(channels - 1);
                let a: u64 = alpha[0].into();
                if a == 0 || a == max {
                    continue;
                }
                for c in color {
                    let v = (((*c).into() * max + a / 2) / a).min(max);
                    *c = T::try_from(v).unwrap_or(*c);
                }
            }
        }
        match &mut self.samples {
            Samples::U8(v) => straighten(v, channels, 255),
            Samples::U16(v) => straighten(v, channels, 65535),
        }
    }

    /// Wraps 8-bit samples, checking the buffer length.
    pub fn from_u8(width: u32, height: u32, layout: Layout, data: Vec<u8>) -> Result<Image> {
        check_len(width, height, layout, data.len())?;
        Ok(Image {
            width,
            height,
            layout,
            samples: Samples::U8(data),
        })
    }

    /// Wraps 16-bit samples, checking the buffer length.
    pub fn from_u16(width: u32, height: u32, layout: Layout, data: Vec<u16>) -> Result<Image> {
        check_len(width, height, layout, data.len())?;
        Ok(Image {
            width,
            height,
            layout,
            samples: Samples::U16(data),
        })
    }

    /// Bits per sample: 8 or 16.
    pub fn bit_depth(&self) -> u8 {
        match self.samples {
            Samples::U8(_) => 8,
            Samples::U16(_) => 16,
        }
    }

    /// Number of pixels.
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// The 8-bit samples, reducing 16-bit ones with rounding where needed.
    pub fn into_u8(mut self) -> Image {
        if let Samples::U16(data) = &self.samples {
            let mut narrow = crate::buffer_pool::take(data.len());
            narrow.extend(data.iter().map(|&v| u16_to_u8(v)));
            self.samples = Samples::U8(narrow);
        }
        self
    }

    /// The 16-bit samples, widening 8-bit ones exactly (255 maps to 65535).
    pub fn into_u16(mut self) -> Image {
        if let Samples::U8(data) = &self.samples {
            let mut wide = crate::buffer_pool::take(data.len());
            wide.extend(data.iter().map(|&v| u8_to_u16(v)));
            self.samples = Samples::U16(wide);
        }
        self
    }

    /// Whether any pixel is not fully opaque (false for layouts without alpha).
    pub fn uses_alpha(&self) -> bool {
        if !self.layout.has_alpha() {
            return false;
        }
        let ch = self.layout.channels();
        match &self.samples {
            Samples::U8(d) => d.chunks_exact(ch).any(|p| p[ch - 1] != u8::MAX),
            Samples::U16(d) => d.chunks_exact(ch).any(|p| p[ch - 1] != u16::MAX),
        }
    }

    /// Converts to `target`, expanding gray to color, adding opaque alpha, or
    /// compositing alpha onto `background` when alpha is dropped.
    pub fn convert(self, target: Layout, background: Rgba8) -> Image {
        if self.layout == target {
            return self;
        }
        let (from, width, height) = (self.layout, self.width, self.height);
        let samples = match &self.samples {
            Samples::U8(d) => {
                let bg = [background.r, background.g, background.b];
                Samples::U8(convert_samples(d, from, target, bg, u8::MAX))
            }
            Samples::U16(d) => {
                let bg = [background.r, background.g, background.b].map(u8_to_u16);
                Samples::U16(convert_samples(d, from, target, bg, u16::MAX))
            }
        };
        Image {
            width,
            height,
            layout: target,
            samples,
        }
    }
}

/// Borrowed 8-bit pixels in the caller's memory, rows `stride` bytes apart.
///
/// Encoders that can read rows in place (JPEG, WebP) do so without copying;
/// the others pack the rows into an [`Image`] first.
#[derive(Debug, Clone, Copy)]
pub struct PixelsRef<'a> {
    width: u32,
    height: u32,
    stride: usize,
    layout: Layout,
    data: &'a [u8],
}

impl<'a> PixelsRef<'a> {
    /// Checks that `data` holds `height` rows of `width` pixels of `layout`,
    /// each starting `stride` bytes after the previous one (the last row may
    /// end right after its pixels).
    pub fn new(
        data: &'a [u8],
        width: u32,
        height: u32,
        stride: usize,
        layout: Layout,
    ) -> Result<PixelsRef<'a>> {
        let row = width as usize * layout.channels();
        let needed = (height as usize)
            .checked_sub(1)
            .and_then(|rows| rows.checked_mul(stride))
            .and_then(|n| n.checked_add(row));
        match needed {
            _ if width == 0 || height == 0 => Err(Error::InvalidArgument(format!(
                "pixel buffer dimensions {width}x{height} must be at least 1x1"
            ))),
            _ if stride < row => Err(Error::InvalidArgument(format!(
                "stride {stride} is shorter than a row of {width} {layout:?} pixels ({row} bytes)"
            ))),
            Some(n) if n <= data.len() => Ok(PixelsRef {
                width,
                height,
                stride,
                layout,
                data,
            }),
            _ => Err(Error::InvalidArgument(format!(
                "pixel buffer of {} bytes is too small for {height} rows of stride {stride}",
                data.len()
            ))),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Channels of each pixel.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The rows, top to bottom, each exactly `width * channels` bytes.
    pub fn rows(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let row = self.width as usize * self.layout.channels();
        (0..self.height as usize).map(move |y| &self.data[y * self.stride..y * self.stride + row])
    }

    /// Rows `first..first + count` as pixels of their own (clamped to the image).
    pub(crate) fn rows_from(&self, first: u32, count: u32) -> PixelsRef<'a> {
        let first = first.min(self.height - 1);
        PixelsRef {
            height: count.clamp(1, self.height - first),
            data: &self.data[first as usize * self.stride..],
            ..*self
        }
    }

    /// Bytes from one row's start to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The first byte of the first row.
    pub fn as_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }

    /// Copies the rows into a packed [`Image`].
    pub fn to_image(&self) -> Image {
        let samples = self.rows().flatten().copied().collect();
        Image {
            width: self.width,
            height: self.height,
            layout: self.layout,
            samples: Samples::U8(samples),
        }
    }
}

impl Image {
    /// The image as borrowed pixels, when its samples are 8-bit.
    pub fn pixels_ref(&self) -> Option<PixelsRef<'_>> {
        match &self.samples {
            Samples::U8(data) => Some(PixelsRef {
                width: self.width,
                height: self.height,
                stride: self.width as usize * self.layout.channels(),
                layout: self.layout,
                data,
            }),
            Samples::U16(_) => None,
        }
    }
}

fn check_len(width: u32, height: u32, layout: Layout, len: usize) -> Result<()> {
    let expected = width as usize * height as usize * layout.channels();
    if width == 0 || height == 0 || len != expected {
        return Err(Error::InvalidArgument(format!(
            "pixel buffer of {len} samples does not hold {width}x{height} {layout:?} ({expected} samples)"
        )));
    }
    Ok(())
}

/// A sample type that can be blended: u8 or u16.
trait Sample: crate::buffer_pool::Pooled + Into<u32> + TryFrom<u32> {}
impl Sample for u8 {}
impl Sample for u16 {}

fn convert_samples<T: Sample>(
    data: &[T],
    from: Layout,
    to: Layout,
    background: [T; 3],
    opaque: T,
) -> Vec<T> {
    let (fc, tc) = (from.channels(), to.channels());
    let max: u32 = opaque.into();
    let blend = |v: T, bg: T, a: u32| -> T {
        let mixed = (v.into() * a + bg.into() * (max - a) + max / 2) / max;
        T::try_from(mixed).unwrap_or(opaque)
    };
    let mut out = crate::buffer_pool::take(data.len() / fc * tc);
    for px in data.chunks_exact(fc) {
        // Color channels of the source, as RGB.
        let rgb = if from.is_color() {
            [px[0], px[1], px[2]]
        } else {
            [px[0]; 3]
        };
        let alpha = if from.has_alpha() { px[fc - 1] } else { opaque };
        let keep_alpha = to.has_alpha();
        let rgb = if keep_alpha {
            rgb
        } else {
            let a = alpha.into();
            [
                blend(rgb[0], background[0], a),
                blend(rgb[1], background[1], a),
                blend(rgb[2], background[2], a),
            ]
        };
        if to.is_color() {
            out.extend_from_slice(&rgb);
        } else if from.is_color() {
            out.push(luma(rgb, max, opaque));
        } else {
            out.push(rgb[0]);
        }
        if keep_alpha {
            out.push(alpha);
        }
    }
    out
}

/// Rec. 601 luma, as JPEG and Pillow's `convert("L")` compute it: weights
/// in 16-bit fixed point that sum to 65536, rounded (Pillow's `L24`).
fn luma<T: Sample>(rgb: [T; 3], max: u32, opaque: T) -> T {
    let [r, g, b] = rgb.map(|v| {
        let v: u32 = v.into();
        u64::from(v)
    });
    let y = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    T::try_from((y as u32).min(max)).unwrap_or(opaque)
}

/// [`luma`] of an 8-bit color.
pub(crate) fn luma8(r: u8, g: u8, b: u8) -> u8 {
    luma([r, g, b], 255, u8::MAX)
}

/// How color becomes gray (the `grayscale` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grayscale {
    /// The luminance: the sRGB values made linear, weighted by Rec. 709
    /// (0.2126 R + 0.7152 G + 0.0722 B) and encoded back to sRGB, so that a
    /// gray keeps the lightness of its color; libvips' and sharp's `greyscale`.
    #[default]
    Luminance,
    /// Rec. 601 luma of the encoded values (0.299 R + 0.587 G + 0.114 B), as
    /// JPEG's Y and Pillow's `convert("L")`.
    Luma,
}

/// The sRGB transfer function undone: an encoded value in 0-1 to linear light.
fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// The sRGB transfer function: linear light in 0-1 to an encoded value.
fn linear_to_srgb(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Rec. 709 luminance of three encoded sRGB samples of range `max`, encoded.
fn luminance<T: Sample>(rgb: [T; 3], max: u32, linear: &[f64]) -> T {
    let [r, g, b] = rgb.map(|v| {
        let v: u32 = v.into();
        linear[v as usize]
    });
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let encoded = (linear_to_srgb(y.clamp(0.0, 1.0)) * f64::from(max)).round() as u32;
    T::try_from(encoded.min(max)).unwrap_or_else(|_| rgb[0])
}

impl Image {
    /// The image in gray (`Gray`, or `GrayAlpha` keeping alpha) by `method`;
    /// gray images are returned as they are.
    pub fn grayscale(self, method: Grayscale) -> Image {
        if !self.layout.is_color() {
            return self;
        }
        let target = Layout::Gray.with_alpha(self.layout.has_alpha());
        if method == Grayscale::Luma {
            return self.convert(target, Rgba8::WHITE);
        }
        fn to_gray<T: Sample>(data: &[T], channels: usize, max: u32) -> Vec<T> {
            let linear: Vec<f64> = (0..=max)
                .map(|v| srgb_to_linear(f64::from(v) / f64::from(max)))
                .collect();
            let mut out = crate::buffer_pool::take(data.len() / channels * (channels - 2));
            for px in data.chunks_exact(channels) {
                out.push(luminance([px[0], px[1], px[2]], max, &linear));
                if channels == 4 {
                    out.push(px[3]);
                }
            }
            out
        }
        let channels = self.layout.channels();
        let samples = match &self.samples {
            Samples::U8(d) => Samples::U8(to_gray(d, channels, 255)),
            Samples::U16(d) => Samples::U16(to_gray(d, channels, 65535)),
        };
        Image {
            width: self.width,
            height: self.height,
            layout: target,
            samples,
        }
    }

    /// The image without alpha, composited onto `background`; images without
    /// alpha are returned as they are.
    pub fn flatten(self, background: Rgba8) -> Image {
        let target = self.layout.with_alpha(false);
        self.convert(target, background)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpremultiply_divides_color_by_alpha_and_keeps_extremes() {
        let mut image = Image::from_u8(
            3,
            1,
            Layout::Rgba,
            vec![
                50, 100, 25, 100, // half-ish alpha
                9, 9, 9, 0, // transparent: left alone
                1, 2, 3, 255, // opaque: unchanged
            ],
        )
        .unwrap();
        image.unpremultiply();
        assert_eq!(
            image.samples,
            Samples::U8(vec![128, 255, 64, 100, 9, 9, 9, 0, 1, 2, 3, 255])
        );
        let mut wide = Image::from_u16(1, 1, Layout::GrayAlpha, vec![1000, 2000]).unwrap();
        wide.unpremultiply();
        assert_eq!(wide.samples, Samples::U16(vec![32768, 2000]));
    }

    #[test]
    fn rounding_between_depths() {
        assert_eq!(u16_to_u8(65535), 255);
        assert_eq!(u16_to_u8(0), 0);
        assert_eq!(u16_to_u8(128), 0);
        assert_eq!(u16_to_u8(129), 1);
        for v in 0..=255u8 {
            assert_eq!(u16_to_u8(u8_to_u16(v)), v);
        }
    }

    #[test]
    fn flattens_alpha_onto_background() {
        let img = Image::from_u8(2, 1, Layout::Rgba, vec![0, 0, 0, 0, 10, 20, 30, 255]).unwrap();
        let flat = img.convert(Layout::Rgb, Rgba8::WHITE);
        assert_eq!(flat.samples, Samples::U8(vec![255, 255, 255, 10, 20, 30]));
    }

    #[test]
    fn gray_expands_to_rgba() {
        let img = Image::from_u16(1, 1, Layout::Gray, vec![1000]).unwrap();
        let rgba = img.convert(Layout::Rgba, Rgba8::WHITE);
        assert_eq!(rgba.samples, Samples::U16(vec![1000, 1000, 1000, 65535]));
    }
}
