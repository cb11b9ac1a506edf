//! EXIF orientation (1-8) and applying it to pixels.

use crate::pixels::{Image, Layout, Samples};

/// How stored pixels must be turned to display upright: the EXIF Orientation values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left to right.
    FlipHorizontal,
    /// 3: rotated 180 degrees.
    Rotate180,
    /// 4: mirrored top to bottom.
    FlipVertical,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    Transpose,
    /// 6: must be rotated 90 degrees clockwise to display.
    Rotate90,
    /// 7: mirrored along the top-right to bottom-left diagonal.
    Transverse,
    /// 8: must be rotated 270 degrees clockwise to display.
    Rotate270,
}

impl Orientation {
    /// From the EXIF tag value; out-of-range values mean "normal", as every viewer treats them.
    pub fn from_exif(value: u16) -> Orientation {
        match value {
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// The EXIF tag value, 1 to 8.
    pub fn exif_value(self) -> u16 {
        self as u16 + 1
    }

    /// Whether applying it swaps width and height.
    pub fn swaps_dimensions(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// Turns `image` so that it displays upright without the tag.
    pub fn apply(self, image: Image) -> Image {
        if self == Orientation::Normal {
            return image;
        }
        let (w, h, ch) = (
            image.width as usize,
            image.height as usize,
            image.layout.channels(),
        );
        let samples = match &image.samples {
            Samples::U8(d) => Samples::U8(reorder(d, w * ch, w, h, ch, self)),
            Samples::U16(d) => Samples::U16(reorder(d, w * ch, w, h, ch, self)),
        };
        let (width, height) = if self.swaps_dimensions() {
            (image.height, image.width)
        } else {
            (image.width, image.height)
        };
        Image {
            width,
            height,
            layout: image.layout,
            samples,
        }
    }

    /// The upright image of 8-bit rows `stride` samples apart in `src` (a
    /// decoder's buffer, rows padded), of `width` x `height` pixels in
    /// `layout`: [`apply`](Self::apply) without first copying the rows into
    /// an image of their own.
    pub(crate) fn apply_to_rows(
        self,
        src: &[u8],
        stride: usize,
        width: u32,
        height: u32,
        layout: Layout,
    ) -> crate::error::Result<Image> {
        let (w, h, ch) = (width as usize, height as usize, layout.channels());
        if w == 0 || h == 0 {
            return Err(crate::error::Error::Internal(
                "a decoder returned an empty image".into(),
            ));
        }
        let rows = (h - 1) * stride + w * ch;
        if stride < w * ch || src.len() < rows {
            return Err(crate::error::Error::Internal(
                "a decoder's rows are shorter than its image".into(),
            ));
        }
        let samples = if self == Orientation::Normal {
            let mut out = crate::buffer_pool::take(w * h * ch);
            for row in src[..rows].chunks(stride) {
                out.extend_from_slice(&row[..w * ch]);
            }
            out
        } else {
            reorder(&src[..rows], stride, w, h, ch, self)
        };
        let (out_w, out_h) = if self.swaps_dimensions() {
            (height, width)
        } else {
            (width, height)
        };
        Image::from_u8(out_w, out_h, layout, samples)
    }
}

/// Output tiles are this many pixels square, so that a rotation's column
/// walk through the source touches few rows (and memory pages) at a time.
const TILE: usize = 64;

/// Moves every pixel to its upright place: output (x, y) takes source
/// `source_of(x, y)`. The source position is affine in (x, y), so the walk
/// steps through the source by two fixed strides, tile by tile. Source rows
/// are `stride` samples apart.
fn reorder<T: crate::buffer_pool::Pooled>(
    src: &[T],
    stride: usize,
    w: usize,
    h: usize,
    ch: usize,
    o: Orientation,
) -> Vec<T> {
    let out_w = if o.swaps_dimensions() { h } else { w };
    let (wi, hi) = (w as isize, h as isize);
    let source_of = |x: isize, y: isize| -> (isize, isize) {
        match o {
            Orientation::Normal => (x, y),
            Orientation::FlipHorizontal => (wi - 1 - x, y),
            Orientation::Rotate180 => (wi - 1 - x, hi - 1 - y),
            Orientation::FlipVertical => (x, hi - 1 - y),
            Orientation::Transpose => (y, x),
            Orientation::Rotate90 => (y, hi - 1 - x),
            Orientation::Transverse => (wi - 1 - y, hi - 1 - x),
            Orientation::Rotate270 => (wi - 1 - y, x),
        }
    };
    let index = |x: isize, y: isize| {
        let (sx, sy) = source_of(x, y);
        sy * stride as isize + sx * ch as isize
    };
    let origin = index(0, 0);
    let (step_x, step_y) = (index(1, 0) - origin, index(0, 1) - origin);
    let mut out = crate::buffer_pool::zeroed(w * h * ch);
    let row_len = out_w * ch;
    for (band, rows) in out.chunks_mut(TILE * row_len).enumerate() {
        for left in (0..out_w).step_by(TILE) {
            let right = (left + TILE).min(out_w);
            for (dy, row) in rows.chunks_exact_mut(row_len).enumerate() {
                let y = (band * TILE + dy) as isize;
                let source_row = origin + y * step_y;
                // In range: (x, y) lies in the output, so its source lies in `src`.
                if ch == 1 {
                    for (x, sample) in (left..right).zip(&mut row[left..right]) {
                        *sample = src[(source_row + x as isize * step_x) as usize];
                    }
                } else {
                    for x in left..right {
                        let from = (source_row + x as isize * step_x) as usize;
                        row[x * ch..(x + 1) * ch].copy_from_slice(&src[from..from + ch]);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Layout;

    /// A 3x2 gray image 0 1 2 / 3 4 5.
    fn sample() -> Image {
        Image::from_u8(3, 2, Layout::Gray, vec![0, 1, 2, 3, 4, 5]).unwrap()
    }

    /// Width, height and samples of an 8-bit image.
    type Pixels = (u32, u32, Vec<u8>);

    fn pixels(img: Image) -> Pixels {
        let (width, height) = (img.width, img.height);
        (
            width,
            height,
            img.samples.into_u8_vec().expect("8-bit samples"),
        )
    }

    #[test]
    fn each_orientation_moves_pixels_as_exif_defines() {
        let cases: [(u16, Pixels); 8] = [
            (1, (3, 2, vec![0, 1, 2, 3, 4, 5])),
            (2, (3, 2, vec![2, 1, 0, 5, 4, 3])),
            (3, (3, 2, vec![5, 4, 3, 2, 1, 0])),
            (4, (3, 2, vec![3, 4, 5, 0, 1, 2])),
            (5, (2, 3, vec![0, 3, 1, 4, 2, 5])),
            (6, (2, 3, vec![3, 0, 4, 1, 5, 2])),
            (7, (2, 3, vec![5, 2, 4, 1, 3, 0])),
            (8, (2, 3, vec![2, 5, 1, 4, 0, 3])),
        ];
        for (value, expected) in cases {
            let o = Orientation::from_exif(value);
            assert_eq!(o.exif_value(), value);
            assert_eq!(pixels(o.apply(sample())), expected, "orientation {value}");
        }
    }

    #[test]
    fn padded_rows_turn_as_an_image_does() {
        // 3x2 RGB, rows padded to 11 samples, the last row not padded.
        let rgb: Vec<u8> = (0..18).collect();
        let mut padded = rgb[..9].to_vec();
        padded.extend([99, 99]);
        padded.extend(&rgb[9..]);
        for value in 1..=8 {
            let o = Orientation::from_exif(value);
            let whole = o.apply(Image::from_u8(3, 2, Layout::Rgb, rgb.clone()).unwrap());
            let rows = o.apply_to_rows(&padded, 11, 3, 2, Layout::Rgb).unwrap();
            assert_eq!(pixels(rows), pixels(whole), "orientation {value}");
        }
        assert!(Orientation::Rotate90
            .apply_to_rows(&padded[..19], 11, 3, 2, Layout::Rgb)
            .is_err());
        // Gray, wider than one 64-pixel tile, rows padded to 73.
        let gray: Vec<u8> = (0..70 * 3).map(|i| (i % 251) as u8).collect();
        let padded: Vec<u8> = gray
            .chunks(70)
            .flat_map(|row| row.iter().copied().chain([7; 3]))
            .collect();
        for value in 1..=8 {
            let o = Orientation::from_exif(value);
            let whole = o.apply(Image::from_u8(70, 3, Layout::Gray, gray.clone()).unwrap());
            let rows = o.apply_to_rows(&padded, 73, 70, 3, Layout::Gray).unwrap();
            assert_eq!(pixels(rows), pixels(whole), "gray, orientation {value}");
        }
        assert!(Orientation::Rotate90
            .apply_to_rows(&padded, 73, 0, 3, Layout::Gray)
            .is_err());
    }
}
