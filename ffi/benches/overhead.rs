//! The same work through the Rust API and through the C ABI (libpixpress.so,
//! loaded with dlopen), interleaved in one process, single-threaded:
//! `RAYON_NUM_THREADS=1 cargo bench -p pixpress-ffi --bench overhead`.

use std::ffi::{c_char, c_void, CString};
use std::path::PathBuf;
use std::time::Instant;

type OptionsNew = unsafe extern "C" fn() -> *mut c_void;
type OptionsSet = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> u32;
type Compress = unsafe extern "C" fn(*const u8, usize, *const c_void, *mut *mut c_void) -> u32;
type BufferLen = unsafe extern "C" fn(*const c_void) -> usize;
type BufferFree = unsafe extern "C" fn(*mut c_void);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let corpus = std::env::var_os("PIXPRESS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let input = std::fs::read(corpus.join("jpeg/flickr_2569067123_aca715a2ee_o.jpg"))
        .expect("corpus photo");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let lib_path = target.join("release/libpixpress.so");
    // SAFETY: loading our own library, whose initialisers (Rust's and the
    // codecs') have no preconditions; `lib` lives to the end of `main`.
    let lib = unsafe { libloading::Library::new(&lib_path) }
        .expect("libpixpress.so: run `make build` first");
    // SAFETY: the function types match include/pixpress.h (handles as
    // `c_void` pointers, pxp_status as its 32-bit value); the copied function
    // pointers are only called while `lib` is loaded (to the end of `main`).
    let (options_new, options_set, compress, buffer_len, buffer_free) = unsafe {
        (
            *lib.get::<OptionsNew>(b"pxp_options_new").unwrap(),
            *lib.get::<OptionsSet>(b"pxp_options_set").unwrap(),
            *lib.get::<Compress>(b"pxp_compress").unwrap(),
            *lib.get::<BufferLen>(b"pxp_buffer_len").unwrap(),
            *lib.get::<BufferFree>(b"pxp_buffer_free").unwrap(),
        )
    };
    let cases: [(&str, &[(&str, &str)]); 2] = [
        (
            "resize 720x588 + JPEG q80",
            &[("format", "jpeg"), ("resize", "720x588")],
        ),
        (
            "JPEG q80, effort 0",
            &[
                ("format", "jpeg"),
                ("effort", "0"),
                ("never_larger", "false"),
            ],
        ),
    ];
    println!("| operation | Rust API median ms | C ABI median ms | C / Rust |");
    println!("|---|---:|---:|---:|");
    for (name, pairs) in cases {
        let options = engine::Options::from_pairs(pairs.iter().copied()).unwrap();
        // SAFETY: pxp_options_new has no preconditions.
        let handle = unsafe { options_new() };
        for (k, v) in pairs {
            let (k, v) = (CString::new(*k).unwrap(), CString::new(*v).unwrap());
            // SAFETY: `handle` is a live options handle used by this thread
            // only; `k` and `v` are NUL-terminated and alive for the call.
            assert_eq!(unsafe { options_set(handle, k.as_ptr(), v.as_ptr()) }, 0);
        }
        let (mut rust, mut c) = (Vec::new(), Vec::new());
        for round in 0..32 {
            let started = Instant::now();
            let out = engine::compress(&input, &options).unwrap();
            let rust_ms = started.elapsed().as_secs_f64() * 1e3;
            let started = Instant::now();
            let mut buffer = std::ptr::null_mut();
            assert_eq!(
                // SAFETY: `input` is `input.len()` readable bytes, `handle` a
                // live options handle, `buffer` a writable out slot.
                unsafe { compress(input.as_ptr(), input.len(), handle, &mut buffer) },
                0
            );
            let c_ms = started.elapsed().as_secs_f64() * 1e3;
            // SAFETY: pxp_compress returned PXP_OK (asserted), so `buffer` is a
            // live buffer.
            assert_eq!(unsafe { buffer_len(buffer) }, out.data.len());
            // SAFETY: `buffer` is live, freed once here and not used after.
            unsafe { buffer_free(buffer) };
            if round >= 2 {
                rust.push(rust_ms);
                c.push(c_ms);
            }
        }
        let (r, c) = (median(rust), median(c));
        println!("| {name} | {r:.2} | {c:.2} | {:.3} |", c / r);
    }
}
