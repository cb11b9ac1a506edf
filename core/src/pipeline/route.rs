//! Which path a compress takes: one description of what the request needs
//! ([`Needs`]), read once from the options and the formats, and the one
//! choice of [`Route`] made from it. A new option that changes what a request
//! needs is added to [`Needs`], and every path sees it. What only the input's
//! header tells (its size, orientation, colour profile) is checked by the
//! path itself, which then declines to the pixel path.

use crate::codecs::Subsampling;
use crate::format::Format;
use crate::options::{Options, OutputFormat};

/// What a compress request needs, whatever path serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Needs {
    /// The input's format.
    pub(super) in_format: Format,
    /// The output format (the first candidate under `format=auto`).
    pub(super) out_format: Format,
    /// The output format was named (`format=jpeg`), not `same` or `auto`.
    pub(super) format_named: bool,
    /// The JPEG's DCT coefficients kept as they are (`lossless` with JPEG
    /// the one output format): no pixels at all.
    pub(super) coefficients: bool,
    /// Several formats compared (`format=auto`): the whole image, encoded
    /// once per format.
    pub(super) candidates: bool,
    /// A search over settings (`target`): the whole image, encoded several times.
    pub(super) search: bool,
    /// Pixels resampled (`resize`).
    pub(super) resize: bool,
    /// Pixels cropped, turned, mirrored, flattened, grayed or letterboxed
    /// ([`Options::has_edits`]).
    pub(super) edits: bool,
    /// The chroma subsampling asked for, if any.
    pub(super) subsampling: Option<Subsampling>,
    /// A session's strip store takes the JPEG outputs it wants striped,
    /// which needs the pixels in hand.
    pub(super) session_strips: bool,
    /// Frames to write as an animation: above 1 for an animated input whose
    /// frames `pages` keeps more than one of.
    pub(super) frames: u32,
}

/// The path a compress takes (see [`compress`](super::compress)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// JPEG to JPEG with the coefficients kept ([`super::lossless`]).
    Lossless,
    /// JPEG to JPEG as a stream of rows ([`super::streamed`]), unless the
    /// header shows the image needs the pixel path.
    Streamed,
    /// HEIC or AVIF to JPEG through YCbCr planes ([`super::heif_planes`]),
    /// unless the header shows the image needs the pixel path.
    HeifPlanes,
    /// Animated GIF or WebP to animated WebP ([`super::animated`]), frame by frame.
    Animated,
    /// Decode, orient, resize, encode: the path for every request.
    Pixels,
}

impl Needs {
    /// What a request for `options` needs, with `in_format` input of
    /// `frames` frames and `out_format` output, `session_strips` when a
    /// session's strip store is given.
    pub(super) fn of(
        options: &Options,
        (in_format, frames): (Format, u32),
        out_format: Format,
        session_strips: bool,
    ) -> Needs {
        let candidates = options.format == OutputFormat::Auto;
        Needs {
            in_format,
            out_format,
            format_named: matches!(options.format, OutputFormat::Exact(_)),
            coefficients: options.lossless && !candidates && out_format == Format::Jpeg,
            candidates,
            search: options.target.is_some(),
            resize: options.resize.is_some(),
            edits: options.has_edits(),
            subsampling: options.subsampling,
            session_strips,
            frames: options.pages.map_or(frames, |pages| pages.min(frames)),
        }
    }

    /// The one path for this request: the coefficient path when lossless
    /// JPEG is asked; a planes or streamed path for one JPEG output that
    /// needs neither the whole image at once (a search, several candidates)
    /// nor a session's strips; else the pixel path.
    pub(super) fn route(&self) -> Route {
        if self.coefficients {
            return Route::Lossless;
        }
        // A search keeps the first frame (and the report counts the rest).
        let animation = matches!(self.in_format, Format::Gif | Format::WebP) && !self.search;
        if animation && self.frames > 1 && self.out_format == Format::WebP && !self.candidates {
            return Route::Animated;
        }
        let one_jpeg_as_it_comes = self.out_format == Format::Jpeg
            && !self.candidates
            && !self.search
            && !self.edits
            && !self.session_strips;
        if !one_jpeg_as_it_comes {
            return Route::Pixels;
        }
        match self.in_format {
            Format::Jpeg => Route::Streamed,
            Format::Heic | Format::Avif
                if self.format_named
                    && !self.resize
                    && matches!(self.subsampling, None | Some(Subsampling::S420)) =>
            {
                Route::HeifPlanes
            }
            _ => Route::Pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(pairs: &[(&str, &str)], in_format: Format, strips: bool) -> Route {
        routed(pairs, (in_format, 1), strips)
    }

    fn routed(pairs: &[(&str, &str)], input: (Format, u32), strips: bool) -> Route {
        let options = Options::from_pairs(pairs.iter().copied()).unwrap();
        let out = match options.format {
            OutputFormat::Exact(f) => f,
            _ => input.0,
        };
        Needs::of(&options, input, out, strips).route()
    }

    #[test]
    fn each_request_takes_the_one_path_that_serves_it() {
        let (jpeg, heic, png) = (Format::Jpeg, Format::Heic, Format::Png);
        assert_eq!(route(&[("lossless", "true")], jpeg, false), Route::Lossless);
        assert_eq!(route(&[("lossless", "true")], jpeg, true), Route::Lossless);
        assert_eq!(route(&[], jpeg, false), Route::Streamed);
        assert_eq!(route(&[("resize", "800x")], jpeg, false), Route::Streamed);
        assert_eq!(route(&[], jpeg, true), Route::Pixels);
        assert_eq!(
            route(&[("target", "ssim=0.98")], jpeg, false),
            Route::Pixels
        );
        assert_eq!(route(&[("format", "auto")], jpeg, false), Route::Pixels);
        assert_eq!(route(&[("format", "webp")], jpeg, false), Route::Pixels);
        assert_eq!(route(&[("format", "jpeg")], heic, false), Route::HeifPlanes);
        assert_eq!(route(&[], heic, false), Route::Pixels);
        let resized = [("format", "jpeg"), ("resize", "800x")];
        assert_eq!(route(&resized, heic, false), Route::Pixels);
        let full_chroma = [("format", "jpeg"), ("subsampling", "444")];
        assert_eq!(route(&full_chroma, heic, false), Route::Pixels);
        assert_eq!(route(&[("format", "jpeg")], png, false), Route::Pixels);
        for edit in [("crop", "0,0,8,8"), ("rotate", "90"), ("grayscale", "true")] {
            assert_eq!(route(&[edit], jpeg, false), Route::Pixels, "{edit:?}");
            assert_eq!(
                route(&[("format", "jpeg"), edit], heic, false),
                Route::Pixels
            );
        }
        let letterbox = [("resize", "800x800"), ("fit", "contain")];
        assert_eq!(route(&letterbox, jpeg, false), Route::Pixels);
        let (gif, webp) = (Format::Gif, Format::WebP);
        let to_webp = [("format", "webp")];
        assert_eq!(routed(&to_webp, (gif, 3), false), Route::Animated);
        assert_eq!(routed(&[], (webp, 3), false), Route::Animated);
        assert_eq!(
            routed(&[("format", "webp"), ("pages", "1")], (gif, 3), false),
            Route::Pixels
        );
        assert_eq!(routed(&[("format", "png")], (gif, 3), false), Route::Pixels);
        assert_eq!(
            routed(&[("format", "auto")], (gif, 3), false),
            Route::Pixels
        );
        assert_eq!(routed(&to_webp, (gif, 1), false), Route::Pixels);
        assert_eq!(routed(&to_webp, (heic, 3), false), Route::Pixels);
        let searched = [("format", "webp"), ("target", "ssim=0.98")];
        assert_eq!(routed(&searched, (gif, 3), false), Route::Pixels);
    }
}
