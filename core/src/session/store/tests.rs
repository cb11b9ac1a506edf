//! Tests of the checkpoint store: changes surviving reopen and compaction, chunk reuse, and torn tails.

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pxp-store-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn page(seed: u8) -> Vec<u8> {
    (0..4096u32).map(|k| (k as u8).wrapping_mul(seed)).collect()
}

#[test]
fn changes_survive_reopen_and_compaction() {
    let dir = temp_dir("reopen");
    let mut store = Store::create(
        &dir,
        vec![
            (0, BlockKind::Meta, b"spec".to_vec()),
            (10, BlockKind::Index, page(1)),
        ],
    )
    .unwrap();
    let mut p = page(1);
    p[100..164].fill(9);
    store.put(10, BlockKind::Index, p.clone()).unwrap();
    store.put(0, BlockKind::Meta, b"spec v2".to_vec()).unwrap();
    store.put(20, BlockKind::Data, b"errors".to_vec()).unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.block(10).unwrap(), &p[..]);
    assert_eq!(store.block(0).unwrap(), b"spec v2");
    assert_eq!(store.block(20).unwrap(), b"errors");
    let mut store = store;
    store.compact().unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.block(10).unwrap(), &p[..]);
    assert_eq!(store.block(20).unwrap(), b"errors");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_index_change_costs_far_less_than_its_page() {
    let dir = temp_dir("small");
    let mut store = Store::create(&dir, vec![(10, BlockKind::Index, vec![0; 4096])]).unwrap();
    let before = store.bytes_written();
    let mut p = vec![0; 4096];
    p[640..704].copy_from_slice(&[0xa5; 64]);
    store.put(10, BlockKind::Index, p).unwrap();
    let cost = store.bytes_written() - before;
    assert!(cost < 100, "{cost} bytes");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compaction_writes_only_new_chunks() {
    let dir = temp_dir("chunks");
    let pages: Vec<_> = (0..64u32)
        .map(|k| (k, BlockKind::Index, page(k as u8)))
        .collect();
    let mut store = Store::create(&dir, pages).unwrap();
    let mut p = page(3);
    p[0] ^= 1;
    store.put(3, BlockKind::Index, p).unwrap();
    let before = store.bytes_written();
    store.compact().unwrap();
    // 64 pages of 4 KiB are 4 chunks; one changed.
    let written = store.bytes_written() - before;
    assert!(written < CHUNK_SIZE as u64 + 4096, "{written}");
    assert_eq!(read_dir(&dir.join("chunks")).unwrap().len(), 4);
    fs::remove_dir_all(&dir).unwrap();
}

/// The log cut at every byte of its last record, and at earlier record
/// boundaries, opens to the state before that record, and accepts new ones.
#[test]
fn a_torn_tail_is_ignored_at_every_offset() {
    let dir = temp_dir("torn");
    let mut store = Store::create(&dir, vec![(1, BlockKind::Index, vec![0; 4096])]).unwrap();
    let mut versions = vec![vec![0u8; 4096]];
    let mut ends = vec![store.log_len()];
    for k in 0..5u8 {
        let mut p = versions.last().unwrap().clone();
        p[k as usize * 64..k as usize * 64 + 64].fill(k + 1);
        store.put(1, BlockKind::Index, p.clone()).unwrap();
        versions.push(p);
        ends.push(store.log_len());
    }
    drop(store);
    let log_path = dir.join("log.1");
    let full = fs::read(&log_path).unwrap();
    let last_start = ends[ends.len() - 2] as usize;
    let cuts = (last_start..full.len()).chain(ends.iter().map(|&e| e as usize - 3));
    for cut in cuts {
        fs::write(&log_path, &full[..cut]).unwrap();
        let mut store = Store::open(&dir).unwrap();
        // The versions whose records end at or before the cut survive.
        let kept = ends
            .iter()
            .filter(|&&e| e as usize <= cut)
            .count()
            .saturating_sub(1);
        assert_eq!(store.block(1).unwrap(), &versions[kept][..], "cut at {cut}");
        let mut next = versions[kept].clone();
        next[4000] = 0xee;
        store.put(1, BlockKind::Index, next.clone()).unwrap();
        drop(store);
        assert_eq!(Store::open(&dir).unwrap().block(1).unwrap(), &next[..]);
    }
    fs::remove_dir_all(&dir).unwrap();
}
