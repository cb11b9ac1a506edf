#!/usr/bin/env bash
# Builds and runs the C ABI tests against the release build in $CARGO_TARGET_DIR.
#   tests/c/run.sh          everything, with the valgrind run on small corpus files (CI)
#   tests/c/run.sh full     the same with valgrind on the whole corpus (slow)
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-quick}
lib=${CARGO_TARGET_DIR:?}/release
build=$CARGO_TARGET_DIR/c-tests
mkdir -p "$build"
export PIXPRESS_CORPUS=${PIXPRESS_CORPUS:-$(cd .. && pwd)/shared/corpus}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -Itests/c)
step() { printf '\n== %s\n' "$*"; }

step "only pxp_ symbols are exported"
others=$(nm -D --defined-only "$lib/libpixpress.so" | awk '{print $3}' | grep -v '^pxp_' || true)
if [ -n "$others" ]; then echo "exported symbols without the pxp_ prefix:"; echo "$others" | head; exit 1; fi
echo "$(nm -D --defined-only "$lib/libpixpress.so" | grep -c ' pxp_') pxp_ symbols, nothing else"

step "C suite, shared library"
cc "${CFLAGS[@]}" tests/c/test_pixpress.c -L"$lib" -lpixpress -o "$build/test_pixpress"
LD_LIBRARY_PATH=$lib "$build/test_pixpress"

step "a panic inside the library is PXP_ERR_INTERNAL, and the library goes on"
cc "${CFLAGS[@]}" tests/c/test_panic.c -L"$lib" -lpixpress -o "$build/test_panic"
LD_LIBRARY_PATH=$lib "$build/test_panic"

step "8 threads x 50 compressions, one shared options handle"
cc "${CFLAGS[@]}" -pthread tests/c/test_threads.c -L"$lib" -lpixpress -o "$build/test_threads"
LD_LIBRARY_PATH=$lib "$build/test_threads"

step "the header compiles as C++17"
c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude tests/c/header_cpp.cpp -L"$lib" -lpixpress -o "$build/header_cpp"
LD_LIBRARY_PATH=$lib "$build/header_cpp"

step "AddressSanitizer + UBSan + LeakSanitizer build of the C suite"
cc "${CFLAGS[@]}" -g -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/test_pixpress.c \
    -L"$lib" -lpixpress -o "$build/test_pixpress_asan"
LD_LIBRARY_PATH=$lib ASAN_OPTIONS=detect_leaks=1 "$build/test_pixpress_asan"

step "make install, pkg-config, and the static library"
prefix=$build/prefix
rm -rf "$prefix"
make --no-print-directory install PREFIX="$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc "${CFLAGS[@]}" examples/c/compress.c $(pkg-config --cflags --libs pixpress) -o "$build/compress_shared"
# The static archives first (-Bstatic), then the shared codec libraries they need.
static_libs=$(pkg-config --static --libs pixpress)
static_libs=${static_libs/-lpixpress -lpixpress_heif/-Wl,-Bstatic -lpixpress -lpixpress_heif -Wl,-Bdynamic}
# shellcheck disable=SC2086
cc "${CFLAGS[@]}" tests/c/test_pixpress.c $static_libs -o "$build/test_static"
if ldd "$build/test_static" | grep -q libpixpress; then echo "test_static links libpixpress dynamically"; exit 1; fi
LD_LIBRARY_PATH=$prefix/lib "$build/compress_shared" "$PIXPRESS_CORPUS/jpeg/hopper.jpg" "$build/hopper.webp" quality=70
# The SONAME (libpixpress.so.MAJOR) is what a program records, and the install provides it.
readelf -d "$prefix/lib/libpixpress.so" | grep -q 'SONAME.*\[libpixpress\.so\.0\]' || { echo "libpixpress.so has no SONAME libpixpress.so.0"; exit 1; }
readelf -d "$build/compress_shared" | grep -q 'NEEDED.*\[libpixpress\.so\.0\]' || { echo "a program does not record libpixpress.so.0"; exit 1; }
# find_package(pixpress) from CMake, the other way C/C++ projects consume a library.
rm -rf "$build/cmake"
cmake -S tests/c/cmake -B "$build/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build/cmake" >/dev/null
"$build/cmake/compress" "$PIXPRESS_CORPUS/jpeg/hopper.jpg" "$build/hopper-cmake.webp" quality=70
cmp "$build/hopper.webp" "$build/hopper-cmake.webp"
# A version it is not compatible with is refused (0.x: another minor).
if cmake -S tests/c/cmake -B "$build/cmake-0.9" -DCMAKE_PREFIX_PATH="$prefix" -DPIXPRESS_WANT=0.9 >/dev/null 2>&1; then
    echo "find_package(pixpress 0.9) accepted the installed 0.1"; exit 1
fi
PXP_TEST_MAX_BYTES=100000 "$build/test_static"

step "examples"
make --no-print-directory examples >/dev/null
LD_LIBRARY_PATH=$lib "$CARGO_TARGET_DIR/examples-c/to_webp_dir" "$PIXPRESS_CORPUS/gif" "$build/gif-webp" | tail -1

step "valgrind ($mode)"
max=20000
[ "$mode" = full ] && max=999999999
# A bound on the run, so a hang fails here, by name, not the whole CI job.
# Large SIMD codec functions exhaust valgrind's default translation budget.
LD_LIBRARY_PATH=$lib PXP_TEST_MAX_BYTES=$max timeout $([ "$mode" = full ] && echo 4h || echo 20m) valgrind -q --vex-guest-max-insns=25 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --error-exitcode=99 \
    "$build/test_pixpress"
echo "valgrind: clean"
