//! Restore records: what a policy, an interceptor or provenance removed or
//! changed in an output's metadata, kept so that
//! [`restore_metadata`](crate::restore_metadata) can put it back without
//! re-encoding pixels.
//!
//! A record holds, for each block the output's metadata differs in from
//! what `metadata=keep` would have written into the same output, the
//! `keep` version of that block (or its absence). Serialized form, all
//! integers little-endian:
//!
//! | bytes | meaning |
//! |---|---|
//! | `PXPR` | magic |
//! | 1 | version, 1 |
//! | 4 | CRC-32C of the body as stored |
//! | rest | body, zlib-compressed: per block, its id (1 EXIF, 2 XMP, 3 IPTC, 4 ICC), 1 if present, u32 length, bytes |

use super::{Block, Metadata};
use crate::error::{Error, Result};
use std::io::{Read, Write};

const MAGIC: &[u8; 4] = b"PXPR";
const VERSION: u8 = 1;
/// Records larger than this after decompression are refused (no metadata
/// block set comes close).
const MAX_BODY: u64 = 64 << 20;
const BLOCKS: [(u8, Block); 4] = [
    (1, Block::Exif),
    (2, Block::Xmp),
    (3, Block::Iptc),
    (4, Block::Icc),
];

/// The blocks to put back: each `Some(bytes)` replaces, `None` removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreRecord {
    /// Per block that differs, what it should be.
    pub blocks: Vec<(Block, Option<Vec<u8>>)>,
}

impl RestoreRecord {
    /// The record that turns `written` back into `original` (both for the same output).
    pub(crate) fn between(original: &Metadata, written: &Metadata) -> RestoreRecord {
        let blocks = BLOCKS
            .iter()
            .filter(|(_, b)| original.block(*b) != written.block(*b))
            .map(|(_, b)| (*b, original.block(*b).map(<[u8]>::to_vec)))
            .collect();
        RestoreRecord { blocks }
    }

    /// Whether the record changes nothing.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The versioned, checksummed serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (block, data) in &self.blocks {
            let id = BLOCKS
                .iter()
                .find(|(_, b)| b == block)
                .map_or(0, |(id, _)| *id);
            body.push(id);
            body.push(u8::from(data.is_some()));
            let data = data.as_deref().unwrap_or(&[]);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&body).expect("writing to memory");
        let packed = z.finish().expect("writing to memory");
        let mut out = MAGIC.to_vec();
        out.push(VERSION);
        out.extend_from_slice(&crc32c::crc32c(&packed).to_le_bytes());
        out.extend_from_slice(&packed);
        out
    }

    /// Reads a serialized record, checking its magic, version and checksum.
    pub fn from_bytes(data: &[u8]) -> Result<RestoreRecord> {
        let bad = |why: &str| Error::InvalidArgument(format!("restore record: {why}"));
        if data.len() < 9 || &data[..4] != MAGIC {
            return Err(bad("not a pixpress restore record"));
        }
        if data[4] != VERSION {
            return Err(bad(&format!("version {} is not supported", data[4])));
        }
        let crc = u32::from_le_bytes(data[5..9].try_into().expect("4 bytes"));
        let packed = &data[9..];
        if crc32c::crc32c(packed) != crc {
            return Err(bad("checksum mismatch (the record is damaged)"));
        }
        let mut body = Vec::new();
        flate2::read::ZlibDecoder::new(packed)
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|_| bad("body is damaged"))?;
        let mut blocks = Vec::new();
        let mut at = 0;
        while at < body.len() {
            let header = body.get(at..at + 6).ok_or_else(|| bad("body is damaged"))?;
            let block = BLOCKS
                .iter()
                .find(|(id, _)| *id == header[0])
                .map(|(_, b)| *b)
                .ok_or_else(|| bad("unknown block id"))?;
            let len = u32::from_le_bytes(header[2..6].try_into().expect("4 bytes")) as usize;
            let data = body
                .get(at + 6..at + 6 + len)
                .ok_or_else(|| bad("body is damaged"))?;
            blocks.push((block, (header[1] == 1).then(|| data.to_vec())));
            at += 6 + len;
        }
        Ok(RestoreRecord { blocks })
    }

    /// `metadata` with the record's blocks put back.
    pub fn apply(&self, metadata: &Metadata) -> Metadata {
        let mut out = metadata.clone();
        for (block, data) in &self.blocks {
            *out.block_mut(*block) = data.clone();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let original = Metadata {
            exif: Some(b"II*\0exif".to_vec()),
            xmp: Some(b"<x/>".to_vec()),
            ..Metadata::default()
        };
        let written = Metadata {
            exif: Some(b"II*\0".to_vec()),
            icc: Some(b"added".to_vec()),
            ..original.clone()
        };
        let record = RestoreRecord::between(&original, &written);
        assert_eq!(record.blocks.len(), 2);
        let bytes = record.to_bytes();
        let read = RestoreRecord::from_bytes(&bytes).unwrap();
        assert_eq!(read, record);
        assert_eq!(read.apply(&written), original);
        let mut damaged = bytes.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(RestoreRecord::from_bytes(&damaged).is_err());
        assert!(RestoreRecord::from_bytes(b"PXPR").is_err());
    }
}
