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
//! stays in one part, but for the heaviest chain's last refinement, which
//! may go to the other part behind a primer scan (also dropped) that gives
//! libjpeg the bits it refines.

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
    /// cost about as much each (`blocks[c]`: component `c`'s blocks; a
    /// refinement scan counts [`REFINEMENT_COST`] times a first scan). The
    /// heaviest chain may be cut before its last scan, a refinement, which
    /// then goes to the other part behind a first scan of its band that
    /// brings that part's script to the bits the refinement refines (the
    /// primer, whose output is dropped). `None` when it does not split: no
    /// AC scans, or a single chain that does not end in a refinement.
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
        let cost = |scan: &jpeg_scan_info| scan_cost(scan, blocks);
        // Pieces: (id, cost), a chain's id its root; the cut-off scan's its own index.
        let mut pieces: Vec<(usize, u64)> = Vec::new();
        for &i in &ac {
            let r = root(&mut chain, i);
            match pieces.iter_mut().find(|(c, _)| *c == r) {
                Some((_, total)) => *total += cost(&script[i]),
                None => pieces.push((r, cost(&script[i]))),
            }
        }
        // The heaviest chain's last scan, when a refinement, as a piece of its own.
        let heaviest = pieces.iter().max_by_key(|(_, c)| *c).map(|&(r, _)| r)?;
        let last = ac
            .iter()
            .rev()
            .copied()
            .find(|&i| root(&mut chain, i) == heaviest)?;
        let cut = (script[last].Ah > 0).then(|| {
            let tail = &script[last];
            let mut cut = pieces.clone();
            if let Some((_, total)) = cut.iter_mut().find(|(c, _)| *c == heaviest) {
                *total -= cost(tail);
            }
            cut.push((last, cost(tail) + cost(&primer(tail))));
            share_out(&cut, Some((heaviest, last)))
        });
        // Cut only where it lightens the heavier part.
        let whole = share_out(&pieces, None);
        let (part_of_piece, tail) = match cut {
            Some((cut, load)) if load < whole.1 => (cut, Some(last)),
            _ if pieces.len() > 1 => (whole.0, None),
            _ => return None,
        };
        let part_of = |id: usize| {
            part_of_piece
                .iter()
                .find(|(c, _)| *c == id)
                .map_or(0, |(_, p)| *p)
        };
        let mut parts: [Vec<jpeg_scan_info>; 2] = [Vec::new(), Vec::new()];
        let mut origin = Vec::with_capacity(script.len());
        for (i, scan) in script.iter().enumerate() {
            if is_dc(scan) {
                origin.push((0, parts[0].len()));
                parts[0].push(*scan);
                parts[1].push(*scan);
            } else if tail == Some(i) {
                let part = part_of(i);
                parts[part].push(primer(scan));
                origin.push((part, parts[part].len()));
                parts[part].push(*scan);
            } else {
                let part = part_of(root(&mut chain, i));
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
    /// (its tables and data) in the script's order, then EOI. The second
    /// part's DC scans and the primer are not written.
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

/// What a refinement scan costs to write, in first scans of its component:
/// it codes the bits of every coefficient already seen, not only the new ones
/// (measured with jpegtran on a 6 MP photo: mozjpeg's luma refinements took
/// 2.6 to 3.8 times its luma first scans, on average).
const REFINEMENT_COST: u64 = 3;

/// What `scan` costs to write, in first scans of a block: its component's
/// blocks (`blocks[c]`), times [`REFINEMENT_COST`] for a refinement.
fn scan_cost(scan: &jpeg_scan_info, blocks: &[u64]) -> u64 {
    let component_blocks = blocks
        .get(scan.component_index[0] as usize)
        .copied()
        .unwrap_or(0);
    component_blocks * if scan.Ah > 0 { REFINEMENT_COST } else { 1 }
}

/// The first scan of `refinement`'s band that brings a script to the bit
/// `refinement` refines: what a part needs before it (its output dropped).
fn primer(refinement: &jpeg_scan_info) -> jpeg_scan_info {
    jpeg_scan_info {
        Ah: 0,
        Al: refinement.Ah,
        ..*refinement
    }
}

/// The parts `pieces` (id, cost) go to, heaviest first each to the lighter
/// part, with the most either part carries. `apart`: two pieces that must
/// go to different parts (a chain and its cut-off last scan).
fn share_out(pieces: &[(usize, u64)], apart: Option<(usize, usize)>) -> (Vec<(usize, usize)>, u64) {
    let mut sorted = pieces.to_vec();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut load = [0u64; 2];
    let mut part_of: Vec<(usize, usize)> = Vec::new();
    for (id, cost) in sorted {
        let partner = apart.and_then(|(a, b)| match id {
            _ if id == a => Some(b),
            _ if id == b => Some(a),
            _ => None,
        });
        let placed =
            partner.and_then(|p| part_of.iter().find(|(c, _)| *c == p).map(|&(_, q)| 1 - q));
        let part = placed.unwrap_or(usize::from(load[1] < load[0]));
        load[part] += cost;
        part_of.push((id, part));
    }
    (part_of, load[0].max(load[1]))
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

    /// Whether libjpeg takes `part` as a progressive script (jcmaster.c,
    /// `validate_script`): each coefficient's first scan has `Ah` 0, each
    /// later one refines the bit the one before stopped at, no AC scan comes
    /// before its component's DC, and every component's DC is sent.
    fn valid(part: &[jpeg_scan_info], components: usize) -> bool {
        let mut last_bit = vec![[-1; 64]; components];
        let in_order = part.iter().all(|scan| {
            let scanned = &scan.component_index[..scan.comps_in_scan as usize];
            scanned.iter().all(|&c| {
                let bits = &mut last_bit[c as usize];
                let dc_first = scan.Ss == 0 || bits[0] >= 0;
                dc_first
                    && (scan.Ss..=scan.Se).all(|k| {
                        let bit = &mut bits[k as usize];
                        let ok = if *bit < 0 {
                            scan.Ah == 0
                        } else {
                            scan.Ah == *bit && scan.Al == scan.Ah - 1
                        };
                        *bit = scan.Al;
                        ok
                    })
            })
        });
        in_order && last_bit.iter().all(|bits| bits[0] >= 0)
    }

    #[test]
    fn chains_stay_whole_but_the_heaviest_gives_its_last_refinement_to_the_other_part() {
        // mozjpeg's YCbCr script (jcparam.c, JCP_MAX_COMPRESSION): one DC
        // scan for all three components.
        let script = [
            jpeg_scan_info {
                comps_in_scan: 3,
                component_index: [0, 1, 2, 0],
                ..scan(0, 0, 0, 0, 0)
            },
            scan(0, 1, 8, 0, 2),
            scan(1, 1, 8, 0, 0),
            scan(2, 1, 8, 0, 0),
            scan(0, 9, 63, 0, 2),
            scan(0, 1, 63, 2, 1),
            scan(0, 1, 63, 1, 0),
            scan(1, 9, 63, 0, 0),
            scan(2, 9, 63, 0, 0),
        ];
        assert!(valid(&script, 3));
        let split = SplitScript::new(&script, &[400, 100, 100]).unwrap();
        let luma_ac = |part: &[jpeg_scan_info]| {
            part.iter()
                .filter(|s| s.Ss > 0 && s.component_index[0] == 0)
                .map(|s| (s.Ss, s.Se, s.Ah, s.Al))
                .collect::<Vec<_>>()
        };
        let (a, b) = (split.part(0), split.part(1));
        assert!(valid(a, 3) && valid(b, 3));
        let (head, tail) = if luma_ac(a).len() == 3 {
            (a, b)
        } else {
            (b, a)
        };
        assert_eq!(luma_ac(head), [(1, 8, 0, 2), (9, 63, 0, 2), (1, 63, 2, 1)]);
        assert_eq!(
            luma_ac(tail),
            [(1, 63, 0, 1), (1, 63, 1, 0)],
            "primer, then the last refinement"
        );
        assert_eq!(a.iter().filter(|s| s.Ss == 0).count(), 1);
        assert_eq!(b.iter().filter(|s| s.Ss == 0).count(), 1);
        assert_eq!(a.len() + b.len(), script.len() + 1 + 1);
        // The parts' loads (first-scan units): head 4 + 4 + 12, tail 4 + 12 and the chroma's 4.
        let load = |part: &[jpeg_scan_info]| -> u64 {
            part.iter()
                .filter(|s| s.Ss > 0)
                .map(|s| scan_cost(s, &[400, 100, 100]))
                .sum()
        };
        assert_eq!(load(a).max(load(b)), 2000);
        // A gray script is one chain: split only by its last refinement.
        let gray = [
            scan(0, 0, 0, 0, 0),
            scan(0, 1, 8, 0, 2),
            scan(0, 9, 63, 0, 2),
            scan(0, 1, 63, 2, 1),
            scan(0, 1, 63, 1, 0),
        ];
        let split = SplitScript::new(&gray, &[100]).unwrap();
        assert!(valid(split.part(0), 1) && valid(split.part(1), 1));
        assert_eq!(
            split.part(0).len() + split.part(1).len(),
            gray.len() + 1 + 1
        );
        let sequential_bands = [scan(0, 0, 0, 0, 0), scan(0, 1, 63, 0, 0)];
        assert!(SplitScript::new(&sequential_bands, &[100]).is_none());
        // Nor where the cut would not lighten the heavier part.
        let short = [
            scan(0, 0, 0, 0, 0),
            scan(0, 1, 63, 0, 1),
            scan(0, 1, 63, 1, 0),
        ];
        assert!(SplitScript::new(&short, &[100]).is_none());
    }
}
