//! The stages of the general path: decoding (shrinking JPEG on load where a
//! resize allows it), orientation, resizing, the conversion to sRGB of pixels
//! whose profile the policy drops, and the preparation of samples for an
//! encoder.

use super::DecodedImage;
use crate::codecs::{self, DecodeRequest};
use crate::error::Result;
use crate::format::{sniff, Format};
use crate::geometry::{self, Region};
use crate::metadata::Metadata;
use crate::options::{Options, OrientationMode};
use crate::orient::Orientation;
use crate::pixels::Image;
use crate::resize::{self, Fit, ResizePlan};

/// For JPEG input with a resize, the resize plan worked out from the header
/// (upright dimensions) and the size the decoder must deliver in stored
/// orientation, so that it can shrink while decoding.
pub(super) fn plan_from_header(
    input: &[u8],
    format: Format,
    options: &Options,
) -> Result<Option<(ResizePlan, (u32, u32))>> {
    let (Some(target), Format::Jpeg) = (options.resize, format) else {
        return Ok(None);
    };
    if options.edits.moves_pixels() {
        // A crop or a rotation comes before the resize: plan on their result.
        return Ok(None);
    }
    let info = codecs::probe(format, input)?;
    let swaps = options.orientation == OrientationMode::Apply
        && Orientation::from_exif(info.orientation).swaps_dimensions();
    let (w, h) = if swaps {
        (info.height, info.width)
    } else {
        (info.width, info.height)
    };
    let Some(plan) = resize::plan(
        w,
        h,
        target,
        options.fit,
        options.enlarge,
        options.max_pixels,
    )?
    else {
        return Ok(None);
    };
    let (sw, sh) = plan.scaled;
    Ok(Some((plan, if swaps { (sh, sw) } else { (sw, sh) })))
}

/// Decodes, orients and, when `options.resize` is set, resizes (shrinking
/// JPEG while decoding where the target allows it).
pub(crate) fn decode(input: &[u8], options: &Options) -> Result<DecodedImage> {
    let format = sniff(input)?;
    let header_plan = plan_from_header(input, format, options)?;
    let request = DecodeRequest {
        max_pixels: options.max_pixels,
        accept_truncated: options.accept_truncated,
        min_size: header_plan.map(|(_, size)| size),
    };
    let decoded = codecs::decode(format, input, &request)?;
    let (mut image, mut metadata) = orient(
        decoded.image,
        decoded.metadata,
        decoded.orientation,
        options,
    );
    if options.edits.grayscale.is_some() && image.layout.is_color() {
        to_srgb_where_needed(&mut image, &mut metadata, options);
    }
    let image = edit_and_resize(image, header_plan.map(|(plan, _)| plan), options)?;
    Ok(DecodedImage {
        image,
        metadata,
        format,
    })
}

/// The operations and the resize in their one order ([`crate::edits`]):
/// crop, flip, flop and rotate; the resize by `plan`, or by one worked out
/// from the image when `None` (letterboxed onto the background for
/// `fit=contain`); flatten and grayscale. The image as is when none is asked.
pub(super) fn edit_and_resize(
    image: Image,
    plan: Option<ResizePlan>,
    options: &Options,
) -> Result<Image> {
    let image = options
        .edits
        .before_resize(image, options.background, options.max_pixels)?;
    let plan = match (plan, options.resize) {
        (Some(plan), _) => Some(plan),
        (None, Some(target)) => resize::plan(
            image.width,
            image.height,
            target,
            options.fit,
            options.enlarge,
            options.max_pixels,
        )?,
        (None, None) => None,
    };
    let size = (image.width, image.height);
    let image = match plan {
        Some(plan) if options.fit == Fit::Contain => {
            let scaled = if plan.scaled == size {
                image
            } else {
                resize::resize(&image, plan.scaled, options.fit)?
            };
            letterbox(&scaled, plan.output, options)?
        }
        Some(plan) if plan.output != size => resize::resize(&image, plan.output, options.fit)?,
        _ => image,
    };
    Ok(options.edits.after_resize(image, options.background))
}

/// `image` centred on a `box_size` canvas of the background (libvips'
/// `embed` with centre gravity: the odd pixel goes right and below).
fn letterbox(image: &Image, box_size: (u32, u32), options: &Options) -> Result<Image> {
    if (image.width, image.height) == box_size {
        return Ok(image.clone());
    }
    let region = Region {
        left: -i64::from(box_size.0.saturating_sub(image.width) / 2),
        top: -i64::from(box_size.1.saturating_sub(image.height) / 2),
        width: box_size.0,
        height: box_size.1,
    };
    geometry::crop(image, region, options.background, options.max_pixels)
}

pub(super) fn orient(
    image: Image,
    mut metadata: Metadata,
    orientation: Orientation,
    options: &Options,
) -> (Image, Metadata) {
    match options.orientation {
        OrientationMode::Apply => {
            metadata.reset_orientation();
            (orientation.apply(image), metadata)
        }
        OrientationMode::Keep => (image, metadata),
    }
}

/// Whether the policy drops an ICC profile the pixels are in (so they must
/// be converted to sRGB before encoding).
pub(super) fn drops_profile(metadata: &Metadata, options: &Options) -> bool {
    metadata.icc.is_some() && !options.metadata.keeps_icc()
}

/// Converts RGB pixels to sRGB where their ICC profile will no longer
/// describe them: when the policy drops it (colors would shift in viewers
/// that then assume sRGB), and when `grayscale` grays them (the luminance is
/// sRGB's, and a color profile does not describe gray pixels, so it is
/// removed from `metadata` and true is returned).
pub(super) fn to_srgb_where_needed(
    image: &mut Image,
    metadata: &mut Metadata,
    options: &Options,
) -> bool {
    let graying = options.edits.grayscale.is_some() && image.layout.is_color();
    let Some(icc) = metadata.icc.as_deref() else {
        return false;
    };
    if graying || drops_profile(metadata, options) {
        crate::color::rgb_to_srgb(image, icc);
    }
    if graying {
        metadata.icc = None;
    }
    graying
}

/// Converts samples to what `format`'s encoder takes: drops alpha that is
/// unused or unsupported (flattening onto the background), expands gray where
/// needed, reduces to 8 bits where needed.
pub(crate) fn prepare(image: Image, format: Format, options: &Options) -> Image {
    let layout = image.layout;
    let keep_alpha = layout.has_alpha() && codecs::keeps_alpha(format) && image.uses_alpha();
    let color = layout.is_color() || !codecs::keeps_gray(format);
    let target = if color {
        crate::pixels::Layout::Rgb
    } else {
        crate::pixels::Layout::Gray
    }
    .with_alpha(keep_alpha);
    let image = image.convert(target, options.background);
    if codecs::keeps_high_bit_depth(format) {
        image
    } else {
        image.into_u8()
    }
}

/// Resizes (by `plan`, or by one worked out from the image when `None`) and
/// converts the samples to what `out_format`'s encoder takes.
pub(super) fn transform(
    image: Image,
    plan: Option<ResizePlan>,
    out_format: Format,
    options: &Options,
) -> Result<Image> {
    let image = edit_and_resize(image, plan, options)?;
    Ok(prepare(image, out_format, options))
}
