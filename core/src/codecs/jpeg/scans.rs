//! A progressive JPEG's scans written by two encoders at once.
//!
//! Each scan of a progressive file is coded from the coefficients alone,
//! with Huffman tables optimized for that scan and written just before it,
//! so the scans of one script can be written by two libjpeg encoders, each
//! given part of the script, and the two files' scans put back in the
//! script's order: the result is byte for byte the file one encoder writes.
//! libjpeg checks that a script is whole, so each part carries every DC
//! scan (the second part's copies are dropped), and each chain of AC scans
//! that refine one another (same component, overlapping spectral bands)
//! stays in one part.

use crate::error::{Error, Result};
use mozjpeg_sys::jpeg_scan_info;
use std::ops::Range;

/// A progressive script split into two parts libjpeg can write apart.
pub(crate) struct SplitScript {
    /// The two parts, each in the script's order.
    parts: [Vec<jpeg_scan_info>; 2],
    /// For each scan of the script, the part that writes it and its index there.
    origin: Vec<(usize, usize)>,
}

impl SplitScript {
    /// `script` split in two, the AC chains shared out so that the parts
    /// code about as many blocks each (`blocks[c]`: component `c`'s blocks).
    /// `None` when it does not split: a single chain (gray images), or no
    /// AC scans.
    pub(crate) fn new(script: &[jpeg_scan_info], blocks: &[u64]) -> Option<SplitScript> {
        let is_dc = |scan: &jpeg_scan_info| scan.Ss == 0;
        let ac: Vec<usize> = (0..script.len()).filter(|&i| !is_dc(&script[i])).collect();
        // Chains: AC scans (one component each) of the same component whose bands overlap.
        let mut chain: Vec<usize> = (0..script.len()).collect();
        fn root(chain: &mut [usize], mut i: usize) -> usize {
            while chain[i] != i {
                chain[i] = chain[chain[i]];
                i = chain[i];
            }
            i
        }
        for (k, &i) in ac.iter().enumerate() {
            for &j in &ac[..k] {
                let (a, b) = (&script[i], &script[j]);
                let same = a.component_index[0] == b.component_index[0];
                if same && a.Ss <= b.Se && b.Ss <= a.Se {
                    let (ri, rj) = (root(&mut chain, i), root(&mut chain, j));
                    chain[ri] = rj;
                }
            }
        }
        let mut costs: Vec<(usize, u64)> = Vec::new();
        for &i in &ac {
            let r = root(&mut chain, i);
            let component = script[i].component_index[0] as usize;
            let cost = blocks.get(component).copied().unwrap_or(0);
            match costs.iter_mut().find(|(c, _)| *c == r) {
                Some((_, total)) => *total += cost,
                None => costs.push((r, cost)),
            }
        }
        if costs.len() < 2 {
            return None;
        }
        // The heaviest chains first, each to the lighter part.
        costs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut load = [0u64; 2];
        let mut part_of_chain = Vec::new();
        for (r, cost) in costs {
            let part = usize::from(load[1] < load[0]);
            load[part] += cost;
            part_of_chain.push((r, part));
        }
        let mut parts: [Vec<jpeg_scan_info>; 2] = [Vec::new(), Vec::new()];
        let mut origin = Vec::with_capacity(script.len());
        for (i, scan) in script.iter().enumerate() {
            if is_dc(scan) {
                origin.push((0, parts[0].len()));
                parts[0].push(*scan);
                parts[1].push(*scan);
            } else {
                let r = root(&mut chain, i);
                let part = part_of_chain
                    .iter()
                    .find(|(c, _)| *c == r)
                    .map_or(0, |(_, p)| *p);
                origin.push((part, parts[part].len()));
                parts[part].push(*scan);
            }
        }
        Some(SplitScript { parts, origin })
    }

    /// Part `index` (0 or 1) of the script.
    pub(crate) fn part(&self, index: usize) -> &[jpeg_scan_info] {
        &self.parts[index]
    }

    /// The file the whole script writes, from `files[k]`, written with part
    /// `k`: the first file's markers up to its frame header, then every scan
    /// (its tables and data) in the script's order, then EOI.
    pub(crate) fn join(&self, files: [&[u8]; 2]) -> Result<Vec<u8>> {
        let (header, first) = scan_segments(files[0])?;
        let (_, second) = scan_segments(files[1])?;
        let segments = [first, second];
        for (k, part) in self.parts.iter().enumerate() {
            if segments[k].len() != part.len() {
                return Err(Error::Internal(format!(
                    "part {k} of a split scan script wrote {} scans of {}",
                    segments[k].len(),
                    part.len()
                )));
            }
        }
        let mut out = Vec::with_capacity(files[0].len() + files[1].len());
        out.extend_from_slice(&files[0][..header]);
        for &(part, index) in &self.origin {
            out.extend_from_slice(&files[part][segments[part][index].clone()]);
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        Ok(out)
    }
}

/// Where the scans of a JPEG file lie: the end of its frame header (SOF),
/// and for each scan the bytes from the end of the one before (or of the
/// frame header) to the end of its entropy-coded data, so the tables written
/// for a scan come with it.
fn scan_segments(file: &[u8]) -> Result<(usize, Vec<Range<usize>>)> {
    let bad = |what: &str| Error::Internal(format!("split scan script: {what}"));
    let length = |pos: usize| -> Result<usize> {
        let bytes = file
            .get(pos + 2..pos + 4)
            .ok_or_else(|| bad("cut marker"))?;
        Ok(usize::from(u16::from_be_bytes([bytes[0], bytes[1]])))
    };
    let (mut pos, mut header, mut start) = (2, None, 0);
    let mut scans = Vec::new();
    loop {
        if file.get(pos) != Some(&0xFF) {
            return Err(bad("marker expected"));
        }
        match file.get(pos + 1) {
            Some(0xD9) => break,
            Some(0xDA) => {
                pos += 2 + length(pos)?;
                // Entropy-coded data: up to a marker other than a stuffed
                // zero or a restart.
                while pos + 1 < file.len()
                    && !(file[pos] == 0xFF
                        && file[pos + 1] != 0
                        && !(0xD0..=0xD7).contains(&file[pos + 1]))
                {
                    pos += 1;
                }
                scans.push(start..pos);
                start = pos;
            }
            Some(0xC0..=0xC2) => {
                pos += 2 + length(pos)?;
                header = Some(pos);
                start = pos;
            }
            Some(_) => pos += 2 + length(pos)?,
            None => return Err(bad("no EOI")),
        }
    }
    Ok((header.ok_or_else(|| bad("no frame header"))?, scans))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(component: i32, ss: i32, se: i32, ah: i32, al: i32) -> jpeg_scan_info {
        jpeg_scan_info {
            comps_in_scan: 1,
            component_index: [component, 0, 0, 0],
            Ss: ss,
            Se: se,
            Ah: ah,
            Al: al,
        }
    }

    #[test]
    fn chains_stay_whole_and_dc_scans_go_to_both_parts() {
        // mozjpeg's YCbCr script, its DC scans one per component.
        let script = [
            scan(0, 0, 0, 0, 0),
            scan(1, 0, 0, 0, 0),
            scan(2, 0, 0, 0, 0),
            scan(0, 1, 8, 0, 2),
            scan(1, 1, 8, 0, 0),
            scan(2, 1, 8, 0, 0),
            scan(0, 9, 63, 0, 2),
            scan(0, 1, 63, 2, 1),
            scan(0, 1, 63, 1, 0),
            scan(1, 9, 63, 0, 0),
            scan(2, 9, 63, 0, 0),
        ];
        let split = SplitScript::new(&script, &[400, 100, 100]).unwrap();
        let luma_ac = |part: &[jpeg_scan_info]| {
            part.iter()
                .filter(|s| s.Ss > 0 && s.component_index[0] == 0)
                .count()
        };
        let (a, b) = (split.part(0), split.part(1));
        assert_eq!(luma_ac(a) + luma_ac(b), 4);
        assert!(
            luma_ac(a) == 4 || luma_ac(b) == 4,
            "the luma chain is whole"
        );
        assert_eq!(a.iter().filter(|s| s.Ss == 0).count(), 3);
        assert_eq!(b.iter().filter(|s| s.Ss == 0).count(), 3);
        assert_eq!(a.len() + b.len(), script.len() + 3);
        // A gray script is one chain.
        let gray = [
            scan(0, 0, 0, 0, 0),
            scan(0, 1, 8, 0, 2),
            scan(0, 1, 63, 2, 0),
        ];
        assert!(SplitScript::new(&gray, &[100]).is_none());
    }
}
