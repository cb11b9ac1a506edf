//! Moving pixels: [`crop`], which also extends onto a fill (a box past the
//! edges, the letterbox of `fit=contain`), and [`rotate`] by any angle.
//!
//! Right angles are exact: the pixels are reordered as for an EXIF
//! orientation. Other angles take each output pixel's centre back into the
//! source and sample it there, by nearest neighbour (in Pillow's fixed-point
//! steps, so that `Image.rotate` is matched pixel for pixel) or bilinearly
//! (where a neighbour lies outside the source, the fill stands in for it, so
//! the edges are smooth as libvips draws them).

use crate::error::{Error, Result};
use crate::orient::Orientation;
use crate::pixels::{luma8, u8_to_u16, Image, Layout, Rgba8, Samples};
use rayon::prelude::*;

/// A rectangle in an image's pixel grid. `left` and `top` may be negative,
/// and the rectangle may reach past the image's right and bottom edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Column of the left edge.
    pub left: i64,
    /// Row of the top edge.
    pub top: i64,
    /// Width in pixels, at least 1.
    pub width: u32,
    /// Height in pixels, at least 1.
    pub height: u32,
}

impl Region {
    /// Whether the region lies wholly within a `width` x `height` image.
    pub fn within(&self, width: u32, height: u32) -> bool {
        self.left >= 0
            && self.top >= 0
            && self.left + i64::from(self.width) <= i64::from(width)
            && self.top + i64::from(self.height) <= i64::from(height)
    }
}

/// How a rotation by an angle other than a right angle samples the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interpolation {
    /// The source pixel the centre falls in (Pillow's default for `rotate`).
    Nearest,
    /// The four source pixels around the centre, weighted by distance
    /// (libvips' and so sharp's default).
    #[default]
    Bilinear,
}

/// The size of a rotation's output. The rotated image is centred on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Canvas {
    /// The rotated image's bounds, each side rounded to the nearest pixel,
    /// as libvips' `rotate` and sharp's.
    #[default]
    Bounds,
    /// The rotated image's bounds, rounded out on every edge, as Pillow's
    /// `rotate(expand=True)`; a pixel or two larger than [`Canvas::Bounds`].
    BoundsRoundedOut,
    /// The input's size, cutting the corners off (Pillow's default).
    Same,
}

/// A rotation: `degrees` clockwise about the image's centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    /// The angle, clockwise; any finite value (taken modulo 360).
    pub degrees: f64,
    /// The output's size.
    pub canvas: Canvas,
    /// How the source is sampled.
    pub interpolation: Interpolation,
    /// The color of the canvas the rotated image does not cover. When it is
    /// not opaque and the image has no alpha, the output gains alpha.
    pub fill: Rgba8,
}

/// The pixels of `region` of `image`: a copy of the part within the image,
/// and `fill` wherever the region reaches past it (the output gains alpha
/// when `fill` is not opaque and shows). Fails with
/// [`Error::LimitExceeded`] when the region has more than `max_pixels`.
pub fn crop(image: &Image, region: Region, fill: Rgba8, max_pixels: u64) -> Result<Image> {
    check_canvas("crop size", region.width, region.height, max_pixels)?;
    let widened;
    let source = if region.within(image.width, image.height) {
        image
    } else {
        widened = with_fill_alpha(image.clone(), fill);
        &widened
    };
    let (w, h, ch) = (
        source.width as usize,
        source.height as usize,
        source.layout.channels(),
    );
    let samples = match &source.samples {
        Samples::U8(d) => Samples::U8(crop_samples(
            d,
            (w, h, ch),
            region,
            &fill_pixel(source.layout, fill, |v| v),
        )),
        Samples::U16(d) => Samples::U16(crop_samples(
            d,
            (w, h, ch),
            region,
            &fill_pixel(source.layout, fill, u8_to_u16),
        )),
    };
    Ok(Image {
        width: region.width,
        height: region.height,
        layout: source.layout,
        samples,
    })
}

/// `image` rotated by `rotation`. Fails with [`Error::InvalidArgument`] for
/// an angle that is not finite, and with [`Error::LimitExceeded`] when the
/// grown canvas would have more than `max_pixels`.
pub fn rotate(image: &Image, rotation: Rotation, max_pixels: u64) -> Result<Image> {
    if !rotation.degrees.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "rotation by {} degrees",
            rotation.degrees
        )));
    }
    let degrees = rotation.degrees.rem_euclid(360.0);
    let (w, h) = (image.width, image.height);
    let right_angle = match degrees {
        0.0 => Some(Orientation::Normal),
        90.0 => Some(Orientation::Rotate90),
        180.0 => Some(Orientation::Rotate180),
        270.0 => Some(Orientation::Rotate270),
        _ => None,
    };
    if let Some(turn) = right_angle {
        if rotation.canvas != Canvas::Same || w == h || !turn.swaps_dimensions() {
            return Ok(turn.apply(image.clone()));
        }
    }
    let affine = Affine::rotation(degrees, w, h, rotation.canvas);
    check_canvas("rotated size", affine.size.0, affine.size.1, max_pixels)?;
    let source = with_fill_alpha(image.clone(), rotation.fill);
    let layout = source.layout;
    let samples = match &source.samples {
        Samples::U8(d) => Samples::U8(affine.resample(
            d,
            (w as usize, h as usize, layout.channels()),
            &fill_pixel(layout, rotation.fill, |v| v),
            rotation.interpolation,
        )),
        Samples::U16(d) => Samples::U16(affine.resample(
            d,
            (w as usize, h as usize, layout.channels()),
            &fill_pixel(layout, rotation.fill, u8_to_u16),
            rotation.interpolation,
        )),
    };
    Ok(Image {
        width: affine.size.0,
        height: affine.size.1,
        layout,
        samples,
    })
}

/// Refuses a canvas of more than `max_pixels` before it is allocated.
fn check_canvas(what: &'static str, width: u32, height: u32, max_pixels: u64) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument(format!(
            "{what} {width}x{height} is empty"
        )));
    }
    Error::check_pixels(what, width.into(), height.into(), max_pixels)
}

/// `image` with alpha added (opaque) when `fill` is not opaque, so that the
/// fill's transparency survives.
fn with_fill_alpha(image: Image, fill: Rgba8) -> Image {
    if fill.a == u8::MAX || image.layout.has_alpha() {
        return image;
    }
    let layout = image.layout.with_alpha(true);
    image.convert(layout, fill)
}

/// `fill` as one pixel of `layout`, each 8-bit value widened by `widen`.
fn fill_pixel<T>(layout: Layout, fill: Rgba8, widen: impl Fn(u8) -> T) -> Vec<T> {
    let gray = luma8(fill.r, fill.g, fill.b);
    let values = match layout {
        Layout::Gray => vec![gray],
        Layout::GrayAlpha => vec![gray, fill.a],
        Layout::Rgb => vec![fill.r, fill.g, fill.b],
        Layout::Rgba => vec![fill.r, fill.g, fill.b, fill.a],
    };
    values.into_iter().map(widen).collect()
}

/// The samples of `region` of a `(width, height, channels)` image, `fill`
/// (one pixel) outside it.
fn crop_samples<T: crate::buffer_pool::Pooled>(
    src: &[T],
    (w, h, ch): (usize, usize, usize),
    region: Region,
    fill: &[T],
) -> Vec<T> {
    let (out_w, out_h) = (region.width as usize, region.height as usize);
    let mut out = crate::buffer_pool::take(out_w * out_h * ch);
    let fill_run = |out: &mut Vec<T>, pixels: usize| {
        for _ in 0..pixels {
            out.extend_from_slice(fill);
        }
    };
    // The columns of the region within the source: output columns
    // `before..before + inside` are source columns `first..`.
    let first = region.left.clamp(0, w as i64) as usize;
    let last = (region.left + out_w as i64).clamp(0, w as i64) as usize;
    let inside = last.saturating_sub(first);
    let before = if inside > 0 {
        (first as i64 - region.left) as usize
    } else {
        out_w
    };
    for y in 0..out_h as i64 {
        let sy = region.top + y;
        if inside == 0 || sy < 0 || sy >= h as i64 {
            fill_run(&mut out, out_w);
            continue;
        }
        let row = sy as usize * w * ch;
        fill_run(&mut out, before);
        out.extend_from_slice(&src[row + first * ch..row + last * ch]);
        fill_run(&mut out, out_w - before - inside);
    }
    out
}

/// An affine map from output pixel coordinates to source coordinates, as
/// Pillow's `Image.transform` takes it: source `(a x + b y + c, d x + e y + f)`.
#[derive(Debug, Clone, Copy)]
struct Affine {
    m: [f64; 6],
    /// The output's width and height.
    size: (u32, u32),
}

/// Rounds to 15 decimals, as Pillow rounds the rotation's sines and cosines
/// (so that right angles give exact zeros).
fn round15(v: f64) -> f64 {
    (v * 1e15).round() / 1e15
}

impl Affine {
    /// A rotation by `degrees` clockwise of a `w` x `h` image onto
    /// `canvas`: for [`Canvas::Bounds`] libvips' placement, otherwise
    /// Pillow's `Image.rotate` arithmetic step by step, so that sizes and
    /// pixels agree with each.
    fn rotation(degrees: f64, w: u32, h: u32, canvas: Canvas) -> Affine {
        // Pillow's angle is counter-clockwise.
        let angle = -((-degrees).rem_euclid(360.0)).to_radians();
        let (cos, sin) = (round15(angle.cos()), round15(angle.sin()));
        let mut m = [cos, sin, 0.0, -sin, cos, 0.0];
        let (wf, hf) = (f64::from(w), f64::from(h));
        let corners = [(0.0, 0.0), (wf, 0.0), (wf, hf), (0.0, hf)];
        let extent = |values: [f64; 4]| {
            let max = values.iter().copied().fold(f64::MIN, f64::max);
            let min = values.iter().copied().fold(f64::MAX, f64::min);
            (min, max)
        };
        if canvas == Canvas::Bounds {
            // libvips turns the pixel centres (at whole coordinates) about
            // the origin and takes the bounds of the turned corners, the
            // top-left rounded half up and the sides to the nearest.
            let turned = corners.map(|(x, y)| (cos * x - sin * y, sin * x + cos * y));
            let (min_x, max_x) = extent(turned.map(|p| p.0));
            let (min_y, max_y) = extent(turned.map(|p| p.1));
            let (left, top) = ((min_x + 0.5).floor(), (min_y + 0.5).floor());
            // Output pixel (X, Y) samples source point R⁻¹(X + left, Y + top),
            // moved to this module's convention of centres at half pixels.
            m[2] = cos * left + sin * top + 0.5 - 0.5 * cos - 0.5 * sin;
            m[5] = -sin * left + cos * top + 0.5 + 0.5 * sin - 0.5 * cos;
            let side = |min: f64, max: f64| (max - min).round().max(1.0) as u32;
            return Affine {
                m,
                size: (side(min_x, max_x), side(min_y, max_y)),
            };
        }
        let (cx, cy) = (wf / 2.0, hf / 2.0);
        let (c, f) = Affine::apply(&m, -cx, -cy);
        m[2] = c + cx;
        m[5] = f + cy;
        if canvas == Canvas::Same {
            return Affine { m, size: (w, h) };
        }
        let turned = corners.map(|(x, y)| Affine::apply(&m, x, y));
        let rounded_out = |(min, max): (f64, f64)| (max.ceil() - min.floor()).max(1.0);
        let nw = rounded_out(extent(turned.map(|p| p.0)));
        let nh = rounded_out(extent(turned.map(|p| p.1)));
        let (c, f) = Affine::apply(&m, -(nw - wf) / 2.0, -(nh - hf) / 2.0);
        m[2] = c;
        m[5] = f;
        Affine {
            m,
            size: (nw as u32, nh as u32),
        }
    }

    fn apply(m: &[f64; 6], x: f64, y: f64) -> (f64, f64) {
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    /// The output samples: each output pixel's centre mapped into the
    /// `(width, height, channels)` source and sampled there; `fill` (one
    /// pixel) where it falls outside.
    fn resample<T: crate::buffer_pool::Pooled + Into<f64> + Send + Sync + FromF64>(
        &self,
        src: &[T],
        (w, h, ch): (usize, usize, usize),
        fill: &[T],
        interpolation: Interpolation,
    ) -> Vec<T> {
        let (out_w, out_h) = (self.size.0 as usize, self.size.1 as usize);
        let mut out = crate::buffer_pool::zeroed(out_w * out_h * ch);
        // Gray with alpha and RGBA: the last channel is alpha.
        let alpha = ch == 2 || ch == 4;
        let m = self.m;
        let pixel_at = |x: i64, y: i64| -> &[T] {
            if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
                fill
            } else {
                let i = (y as usize * w + x as usize) * ch;
                &src[i..i + ch]
            }
        };
        let rows = |(y, row): (usize, &mut [T])| match interpolation {
            Interpolation::Nearest => {
                // Pillow's fixed point: 16 fraction bits, stepped along the row.
                let fix = |v: f64| (v * 65536.0 + 0.5).floor() as i64;
                let (a0, a3) = (fix(m[0]), fix(m[3]));
                let mut xx = fix(m[2] + m[0] * 0.5 + m[1] * 0.5) + y as i64 * fix(m[1]);
                let mut yy = fix(m[5] + m[3] * 0.5 + m[4] * 0.5) + y as i64 * fix(m[4]);
                for px in row.chunks_exact_mut(ch) {
                    px.copy_from_slice(pixel_at(xx >> 16, yy >> 16));
                    xx += a0;
                    yy += a3;
                }
            }
            Interpolation::Bilinear => {
                let mut acc = vec![0.0f64; ch];
                for (x, px) in row.chunks_exact_mut(ch).enumerate() {
                    let (sx, sy) = Affine::apply(&m, x as f64 + 0.5, y as f64 + 0.5);
                    let (fx, fy) = (sx - 0.5, sy - 0.5);
                    let (x0, y0) = (fx.floor(), fy.floor());
                    let (dx, dy) = (fx - x0, fy - y0);
                    let (x0, y0) = (x0 as i64, y0 as i64);
                    acc.iter_mut().for_each(|v| *v = 0.0);
                    for (ox, oy, weight) in [
                        (0, 0, (1.0 - dx) * (1.0 - dy)),
                        (1, 0, dx * (1.0 - dy)),
                        (0, 1, (1.0 - dx) * dy),
                        (1, 1, dx * dy),
                    ] {
                        if weight == 0.0 {
                            continue;
                        }
                        let pixel = pixel_at(x0 + ox, y0 + oy);
                        if alpha {
                            // Color weighted by alpha (premultiplied), so
                            // that the color under transparency does not bleed.
                            let opacity: f64 = pixel[ch - 1].into();
                            for (sum, &v) in acc.iter_mut().zip(&pixel[..ch - 1]) {
                                *sum += weight * opacity * v.into();
                            }
                            acc[ch - 1] += weight * opacity;
                        } else {
                            for (sum, &v) in acc.iter_mut().zip(pixel) {
                                *sum += weight * v.into();
                            }
                        }
                    }
                    if alpha {
                        let total = acc[ch - 1];
                        for v in &mut acc[..ch - 1] {
                            *v = if total > 0.0 { *v / total } else { 0.0 };
                        }
                    }
                    for (out, sum) in px.iter_mut().zip(&acc) {
                        *out = T::from_f64(*sum);
                    }
                }
            }
        };
        crate::parallel::run(|| {
            out.par_chunks_mut(out_w * ch)
                .enumerate()
                .with_min_len(16)
                .for_each(rows)
        });
        out
    }
}

/// A sample made from a computed value, rounded and clamped to its range.
trait FromF64 {
    fn from_f64(v: f64) -> Self;
}

impl FromF64 for u8 {
    fn from_f64(v: f64) -> u8 {
        v.round().clamp(0.0, 255.0) as u8
    }
}

impl FromF64 for u16 {
    fn from_f64(v: f64) -> u16 {
        v.round().clamp(0.0, 65535.0) as u16
    }
}

#[cfg(test)]
mod tests;
