//! `Pixels`: decoded pixels with their metadata, exported through the buffer
//! protocol, and the operations `pixpress.Image` builds on.

use crate::output::{export, Output};
use crate::{errors, options, Bytes};
use engine::{DecodedImage, Format, Image, Layout, Metadata, Orientation, Rgba8, Samples};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::os::raw::c_int;

/// Pixels in library memory: rows packed, 8-bit samples or 16-bit samples in
/// native byte order, plus the EXIF, XMP, ICC and IPTC blocks that came with them.
#[pyclass(frozen, module = "pixpress")]
pub(crate) struct Pixels {
    image: Image,
    metadata: Metadata,
    source: Option<Format>,
}

impl Pixels {
    pub(crate) fn from_decoded(d: DecodedImage) -> Pixels {
        Pixels {
            image: d.image,
            metadata: d.metadata,
            source: Some(d.format),
        }
    }

    fn with_image(&self, image: Image) -> Pixels {
        Pixels {
            image,
            metadata: self.metadata.clone(),
            source: self.source,
        }
    }
}

/// A color from its (r, g, b, a) tuple.
fn rgba((r, g, b, a): (u8, u8, u8, u8)) -> Rgba8 {
    Rgba8 { r, g, b, a }
}

/// The layout and bit depth a mode string names.
fn parse_mode(mode: &str) -> PyResult<(Layout, u8)> {
    Ok(match mode {
        "L" => (Layout::Gray, 8),
        "LA" => (Layout::GrayAlpha, 8),
        "RGB" => (Layout::Rgb, 8),
        "RGBA" => (Layout::Rgba, 8),
        "I;16" => (Layout::Gray, 16),
        "LA;16" => (Layout::GrayAlpha, 16),
        "RGB;16" => (Layout::Rgb, 16),
        "RGBA;16" => (Layout::Rgba, 16),
        other => {
            return Err(errors::invalid(format!(
                "mode {other:?} is not one of L, LA, RGB, RGBA, I;16, LA;16, RGB;16, RGBA;16"
            )))
        }
    })
}

fn bytes_or_none<'py>(py: Python<'py>, block: &Option<Vec<u8>>) -> Option<Bound<'py, PyBytes>> {
    block.as_deref().map(|b| PyBytes::new(py, b))
}

#[pymethods]
impl Pixels {
    /// Copies packed pixels of `mode` from any bytes-like object.
    #[staticmethod]
    fn from_buffer(
        data: &Bound<'_, PyAny>,
        width: u32,
        height: u32,
        mode: &str,
    ) -> PyResult<Pixels> {
        let (layout, bits) = parse_mode(mode)?;
        let input = Bytes::new(data)?;
        let bytes = input.as_slice();
        let image = if bits == 8 {
            Image::from_u8(width, height, layout, bytes.to_vec())
        } else {
            let samples = bytes
                .chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                .collect();
            Image::from_u16(width, height, layout, samples)
        }
        .map_err(errors::to_py)?;
        Ok(Pixels {
            image,
            metadata: Metadata::default(),
            source: None,
        })
    }

    /// Width in pixels.
    #[getter]
    fn width(&self) -> u32 {
        self.image.width
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> u32 {
        self.image.height
    }

    /// "L", "LA", "RGB", "RGBA"; with ";16" (gray: "I;16") for 16-bit samples.
    #[getter]
    fn mode(&self) -> &'static str {
        match (self.image.layout, self.image.bit_depth()) {
            (Layout::Gray, 8) => "L",
            (Layout::GrayAlpha, 8) => "LA",
            (Layout::Rgb, 8) => "RGB",
            (Layout::Rgba, 8) => "RGBA",
            (Layout::Gray, _) => "I;16",
            (Layout::GrayAlpha, _) => "LA;16",
            (Layout::Rgb, _) => "RGB;16",
            (Layout::Rgba, _) => "RGBA;16",
        }
    }

    /// Bits per sample: 8 or 16.
    #[getter]
    fn bit_depth(&self) -> u8 {
        self.image.bit_depth()
    }

    /// Samples per pixel.
    #[getter]
    fn channels(&self) -> usize {
        self.image.layout.channels()
    }

    /// The format the pixels were decoded from, or None.
    #[getter]
    fn format(&self) -> Option<&'static str> {
        self.source.map(Format::name)
    }

    /// The EXIF block (TIFF header onwards), or None.
    #[getter]
    fn exif<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        bytes_or_none(py, &self.metadata.exif)
    }

    /// The XMP packet, or None.
    #[getter]
    fn xmp<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        bytes_or_none(py, &self.metadata.xmp)
    }

    /// The ICC profile, or None.
    #[getter]
    fn icc_profile<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        bytes_or_none(py, &self.metadata.icc)
    }

    /// The IPTC-IIM block, or None.
    #[getter]
    fn iptc<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        bytes_or_none(py, &self.metadata.iptc)
    }

    /// Resampled to `width` x `height` (Lanczos3), metadata kept.
    fn resize(&self, py: Python<'_>, width: u32, height: u32) -> PyResult<Pixels> {
        let image = &self.image;
        let resized = py
            .detach(|| engine::resize(image, width, height))
            .map_err(errors::to_py)?;
        Ok(self.with_image(resized))
    }

    /// Turned as EXIF orientation `orientation` (1-8) says, upright.
    fn transpose(&self, py: Python<'_>, orientation: u16) -> PyResult<Pixels> {
        if !(1..=8).contains(&orientation) {
            return Err(errors::invalid(format!(
                "orientation {orientation} is not 1-8"
            )));
        }
        let image = self.image.clone();
        let turned = py.detach(|| Orientation::from_exif(orientation).apply(image));
        Ok(self.with_image(turned))
    }

    /// The `width` x `height` region at `left`, `top`; where it reaches past
    /// the edges, `fill` (r, g, b, a; alpha is added when it is below 255).
    #[pyo3(signature = (left, top, width, height, fill = (0, 0, 0, 0)))]
    fn crop(
        &self,
        py: Python<'_>,
        left: i64,
        top: i64,
        width: u32,
        height: u32,
        fill: (u8, u8, u8, u8),
    ) -> PyResult<Pixels> {
        let region = engine::Region {
            left,
            top,
            width,
            height,
        };
        let image = &self.image;
        let cropped = py
            .detach(|| engine::crop(image, region, rgba(fill), engine::DEFAULT_MAX_PIXELS))
            .map_err(errors::to_py)?;
        Ok(self.with_image(cropped))
    }

    /// Rotated `degrees` clockwise: right angles exactly; other angles
    /// resampled (`"nearest"` or `"bilinear"`) onto `fill`, the canvas grown
    /// to the rotated bounds when `expand` (rounded out on every edge, as
    /// Pillow's `expand`), else the size kept.
    #[pyo3(signature = (degrees, *, expand = true, resample = "bilinear", fill = (0, 0, 0, 255)))]
    fn rotate(
        &self,
        py: Python<'_>,
        degrees: f64,
        expand: bool,
        resample: &str,
        fill: (u8, u8, u8, u8),
    ) -> PyResult<Pixels> {
        let interpolation = match resample {
            "nearest" => engine::Interpolation::Nearest,
            "bilinear" => engine::Interpolation::Bilinear,
            other => {
                return Err(errors::invalid(format!(
                    "resample `{other}` is not nearest or bilinear"
                )))
            }
        };
        let rotation = engine::Rotation {
            degrees,
            canvas: if expand {
                engine::Canvas::BoundsRoundedOut
            } else {
                engine::Canvas::Same
            },
            interpolation,
            fill: rgba(fill),
        };
        let image = &self.image;
        let rotated = py
            .detach(|| engine::rotate(image, rotation, engine::DEFAULT_MAX_PIXELS))
            .map_err(errors::to_py)?;
        Ok(self.with_image(rotated))
    }

    /// In gray (alpha kept): `"luminance"` (linear light, as libvips) or
    /// `"luma"` (Rec. 601 of the encoded values, as Pillow's `convert("L")`).
    #[pyo3(signature = (method = "luminance"))]
    fn grayscale(&self, py: Python<'_>, method: &str) -> PyResult<Pixels> {
        let method = engine::Options::from_pairs([("grayscale", method)])
            .map_err(errors::to_py)?
            .edits
            .grayscale
            .unwrap_or_default();
        let image = self.image.clone();
        Ok(self.with_image(py.detach(|| image.grayscale(method))))
    }

    /// Without alpha, composited onto `background` (r, g, b).
    #[pyo3(signature = (background = (255, 255, 255)))]
    fn flatten(&self, py: Python<'_>, background: (u8, u8, u8)) -> Pixels {
        let (r, g, b) = background;
        let image = self.image.clone();
        self.with_image(py.detach(|| image.flatten(Rgba8 { r, g, b, a: 255 })))
    }

    /// Converted to `mode` (gray and color both ways, alpha added opaque or
    /// flattened onto white, 16 bits reduced with rounding or widened exactly).
    fn convert(&self, py: Python<'_>, mode: &str) -> PyResult<Pixels> {
        let (layout, bits) = parse_mode(mode)?;
        let image = self.image.clone();
        let converted = py.detach(|| {
            let converted = image.convert(layout, Rgba8::WHITE);
            if bits == 8 {
                return converted.into_u8();
            }
            converted.into_u16()
        });
        Ok(self.with_image(converted))
    }

    /// A copy with its metadata replaced where an argument is given (b"" removes a block).
    #[pyo3(signature = (*, exif=None, xmp=None, icc_profile=None, iptc=None))]
    fn with_metadata(
        &self,
        exif: Option<Vec<u8>>,
        xmp: Option<Vec<u8>>,
        icc_profile: Option<Vec<u8>>,
        iptc: Option<Vec<u8>>,
    ) -> Pixels {
        let mut metadata = self.metadata.clone();
        let replace = |slot: &mut Option<Vec<u8>>, new: Option<Vec<u8>>| {
            if let Some(new) = new {
                *slot = (!new.is_empty()).then_some(new);
            }
        };
        replace(&mut metadata.exif, exif);
        replace(&mut metadata.xmp, xmp);
        replace(&mut metadata.icc, icc_profile);
        replace(&mut metadata.iptc, iptc);
        Pixels {
            image: self.image.clone(),
            metadata,
            source: self.source,
        }
    }

    /// Encodes to the format the `format` option names, with this object's
    /// metadata (subject to the `metadata` option).
    #[pyo3(signature = (**options))]
    fn encode(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Output> {
        let options = options::parse(options)?;
        let (image, metadata) = (&self.image, &self.metadata);
        let compressed = py
            .detach(|| match image.pixels_ref() {
                Some(view) => engine::encode(view, metadata, &options),
                None => engine::encode_image(image.clone(), metadata, &options),
            })
            .map_err(errors::to_py)?;
        Ok(Output::new(compressed))
    }

    fn __len__(&self) -> usize {
        self.image.pixel_count()
            * self.image.layout.channels()
            * usize::from(self.image.bit_depth() / 8)
    }

    fn __repr__(&self) -> String {
        format!(
            "<pixpress.Pixels {} {}x{}>",
            self.mode(),
            self.image.width,
            self.image.height
        )
    }

    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let bytes: &[u8] = match &slf.get().image.samples {
            Samples::U8(v) => v,
            Samples::U16(v) => bytemuck_u16(v),
        };
        export(slf.as_any(), bytes, view, flags)
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}

/// The bytes of 16-bit samples, in native byte order.
fn bytemuck_u16(v: &[u16]) -> &[u8] {
    // SAFETY: `v` is a live `&[u16]`: its `v.len() * 2` bytes (no overflow:
    // an allocation is at most isize::MAX bytes) are initialised, u16 has no
    // padding, u8 needs no alignment, and the result borrows `v`.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 2) }
}
