//! What an encoder is asked for: the encoder's share of the options.
//!
//! [`Options::encode_params`](crate::Options::encode_params) takes it from a
//! request; a quality search varies it between trial encodes. Every field
//! left at its default lets the codec choose, as the option vocabulary
//! documents for the key of the same name.

use super::jpeg::QuantTables;

/// Chroma subsampling of JPEG and AVIF outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subsampling {
    /// 4:2:0, half resolution both ways (smallest).
    #[default]
    S420,
    /// 4:2:2, half horizontal resolution.
    S422,
    /// 4:4:4, full chroma resolution.
    S444,
}

impl Subsampling {
    /// How many pixels one chroma sample spans, horizontally and vertically.
    pub fn chroma_span(self) -> (u32, u32) {
        match self {
            Subsampling::S420 => (2, 2),
            Subsampling::S422 => (2, 1),
            Subsampling::S444 => (1, 1),
        }
    }

    /// The subsampling `text` names: `420`, `422`, `444`, or the same with
    /// colons (`4:2:0`).
    pub fn parse(text: &str) -> Option<Subsampling> {
        match text {
            "420" | "4:2:0" => Some(Subsampling::S420),
            "422" | "4:2:2" => Some(Subsampling::S422),
            "444" | "4:4:4" => Some(Subsampling::S444),
            _ => None,
        }
    }

    /// The option value that names it: `420`, `422` or `444`.
    pub fn name(self) -> &'static str {
        match self {
            Subsampling::S420 => "420",
            Subsampling::S422 => "422",
            Subsampling::S444 => "444",
        }
    }
}

/// The encoder parameters of one encode. Each field is the option of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EncodeParams {
    /// `quality`: 1-100; the codec's default when `None`.
    pub quality: Option<u8>,
    /// `lossless`: a lossless encode (WebP, AVIF, HEIC; PNG without quantization).
    pub lossless: bool,
    /// `progressive`: progressive JPEG scans; the effort ladder decides when `None`.
    pub progressive: Option<bool>,
    /// `subsampling`: chroma subsampling of JPEG and AVIF.
    pub subsampling: Option<Subsampling>,
    /// `effort`: 0-10, time spent for fewer bytes; the codec's default when `None`.
    pub effort: Option<u8>,
    /// `sharp_yuv`: WebP's sharper RGB to YUV conversion.
    pub sharp_yuv: bool,
    /// `alpha_quality`: quality of the alpha channel (WebP, AVIF).
    pub alpha_quality: Option<u8>,
    /// `bit_depth`: 8 or 10 bits per AVIF sample.
    pub bit_depth: Option<u8>,
    /// `sns`: WebP's spatial noise shaping strength, 0-100.
    pub sns: Option<u8>,
    /// `tables`: the JPEG quantization tables.
    pub tables: QuantTables,
}
