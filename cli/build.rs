//! Compiles the service schema (`proto/pixpress/v1/pixpress.proto`) with
//! protox, a protobuf compiler in Rust, so building needs no `protoc`; writes
//! the Rust messages and the tonic service, and the encoded descriptor set
//! that server reflection serves.

use std::path::PathBuf;

fn main() {
    // Read when the script runs, not baked in when it is compiled: cargo
    // shares a compiled build script between clones at other paths that use
    // the same target directory.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let proto_dir = PathBuf::from(manifest_dir).join("../proto");
    let schema = proto_dir.join("pixpress/v1/pixpress.proto");
    println!("cargo:rerun-if-changed={}", schema.display());
    let descriptors =
        protox::compile([&schema], [&proto_dir]).expect("the service schema compiles");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let encoded = prost::Message::encode_to_vec(&descriptors);
    std::fs::write(out_dir.join("pixpress_descriptor.bin"), encoded).expect("OUT_DIR is writable");
    tonic_prost_build::configure()
        .build_client(false)
        .bytes(".")
        .compile_fds(descriptors)
        .expect("tonic generates the service");
}
