//! Gives `libpixpress.so` its SONAME, `libpixpress.so.MAJOR`: programs linked
//! against it ask for that name, so an incompatible release (a new major)
//! installs beside it instead of breaking them. `make build` links the name
//! to the library in the target directory; `make install` installs
//! `libpixpress.so.VERSION` with both links.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpixpress.so.{major}");
}
