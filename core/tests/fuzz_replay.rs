//! Replays the fuzz corpus (fuzz/corpus/<target>/*) and every bad/ corpus
//! file through the fuzz targets' code on stable, plus deterministic
//! mutations of each seed (bit flips, byte stomps, truncations, splices):
//! every input must come back as a value or a typed error, never a panic or
//! an internal error. `make fuzz` runs the real fuzzers (nightly).

#[path = "../../fuzz/targets.rs"]
mod targets;

use pixpress::Block;
use std::path::{Path, PathBuf};

/// Mutants made of each seed.
const MUTANTS_PER_SEED: u64 = 400;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The `n`th mutant of `seed`.
fn mutant(seed: &[u8], n: u64) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15
        ^ (n + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
        ^ seed.len() as u64);
    let mut data = seed.to_vec();
    if data.is_empty() {
        return vec![0; 4];
    }
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len());
        match rng.below(6) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)],
            2 => data.truncate(at.max(1)),
            3 => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len());
                data.splice(to..to, copy);
            }
            4 => {
                // A large 16- or 32-bit value where a length or offset may be.
                let bytes = [0xFF, 0xFF, 0xFF, 0xF0];
                let end = (at + 4).min(data.len());
                data[at..end].copy_from_slice(&bytes[..end - at]);
            }
            _ => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
        }
        if data.is_empty() {
            data.push(0);
        }
    }
    data
}

fn fuzz_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn replay(target: &str, run: impl Fn(&[u8])) -> usize {
    let seeds = files(&fuzz_root().join(target));
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let mut runs = 0;
    for seed in &seeds {
        let data = std::fs::read(seed).expect("seed readable");
        run(&data);
        for n in 0..MUTANTS_PER_SEED {
            run(&mutant(&data, n));
        }
        runs += 1 + MUTANTS_PER_SEED as usize;
    }
    runs
}

#[test]
fn metadata_blocks_survive_their_corpus_and_mutants() {
    for (target, block) in [
        ("exif", Block::Exif),
        ("xmp", Block::Xmp),
        ("iptc", Block::Iptc),
        ("icc", Block::Icc),
    ] {
        let runs = replay(target, |data| targets::metadata_block(block, data));
        eprintln!("{target}: {runs} inputs");
    }
}

#[test]
fn containers_and_restore_records_survive_their_corpus_and_mutants() {
    eprintln!(
        "container: {} inputs",
        replay("container", targets::container)
    );
    eprintln!(
        "restore_record: {} inputs",
        replay("restore_record", targets::restore_record)
    );
}

#[test]
fn session_logs_survive_their_corpus_and_mutants() {
    // Holds the fuzzer's first finding: a checksummed block of unknown kind
    // was PXP_ERR_INTERNAL, not a typed damaged-state error.
    eprintln!(
        "session_log: {} inputs",
        replay("session_log", targets::session_log)
    );
}

#[test]
fn every_bad_corpus_file_goes_through_the_container_target() {
    let corpus = std::env::var("PIXPRESS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let bad = files(&corpus.join("bad"));
    if bad.is_empty() {
        eprintln!("no corpus at {}; skipped", corpus.display());
        return;
    }
    for file in &bad {
        let data = std::fs::read(file).expect("readable");
        targets::container(&data);
        targets::compress(&data);
        targets::session_log(&data);
    }
    eprintln!("bad/: {} files", bad.len());
}
