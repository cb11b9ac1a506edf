# Read by CMake (through CMAKE_TOOLCHAIN_FILE, set in .cargo/config.toml) when
# libheif-sys builds the vendored libheif. libheif turns on every encoder it
# finds on the host; the default pixpress build must contain no GPL code, so
# x265 (HEIC encoding, GPL) is forced off unless the build opts in with
# PIXPRESS_HEIC_ENCODE=1 (as `cargo build --features heic-encode` must), and
# x264 (GPL, never used) is always off. `make check-no-gpl` checks the built
# libraries for their symbols.
if(NOT "$ENV{PIXPRESS_HEIC_ENCODE}" STREQUAL "1")
  set(WITH_X265 OFF CACHE BOOL "x265 is GPL: opt-in (PIXPRESS_HEIC_ENCODE=1)" FORCE)
  set(WITH_X265_PLUGIN OFF CACHE BOOL "x265 is GPL: opt-in" FORCE)
endif()
set(WITH_X264 OFF CACHE BOOL "x264 is GPL" FORCE)
set(WITH_X264_PLUGIN OFF CACHE BOOL "x264 is GPL" FORCE)
