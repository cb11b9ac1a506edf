#!/usr/bin/env bash
# The default build contains no GPL code: no x265/x264 symbol in any built
# library or binary, none linked dynamically, and the vendored libheif was
# configured with x265 off (build/no-gpl.cmake). Exits non-zero naming what it found.
set -euo pipefail
target="${CARGO_TARGET_DIR:-$HOME/.cache/pixpress-target}/release"
status=0
for f in "$target/libpixpress.so" "$target/libpixpress.a" "$target/pixpress" "$target/libpixpress_node.so"; do
    [ -e "$f" ] || { echo "missing: $f"; status=1; continue; }
    if nm -A "$f" 2>/dev/null | grep -Ei '\b[TtDdRr] .*(x265|x264)_' | head -3 | grep .; then
        echo "GPL encoder symbols in $f"; status=1
    fi
    if [ "${f%.a}" = "$f" ] && ldd "$f" 2>/dev/null | grep -Ei 'libx26[45]'; then
        echo "$f links a GPL encoder"; status=1
    fi
done
cache="$(ls -t "$target"/build/libheif-sys-*/out/libheif_build/build/CMakeCache.txt "$target"/build/libheif-sys-*/out/libheif_build/CMakeCache.txt 2>/dev/null | head -1 || true)"
if [ -z "$cache" ] || ! grep -q '^WITH_X265:BOOL=OFF' "$cache"; then
    echo "libheif was not configured with WITH_X265=OFF (${cache:-no CMakeCache.txt})"; status=1
fi
[ $status -eq 0 ] && echo "check-no-gpl: 1 passed, 0 failed"
exit $status
