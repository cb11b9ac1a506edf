#!/usr/bin/env bash
# Installs what building and testing pixpress needs on Debian 12 with Rust,
# Python 3 and Node already present. Safe to run again: it skips what is there.
set -euo pipefail

apt_packages=(cmake nasm pkg-config libde265-dev libdav1d-dev libaom-dev liblcms2-dev libimage-exiftool-perl libjpeg-turbo-progs webp libavif-bin valgrind curl)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Independent judges for the tests: Pillow and pillow-heif (pixels),
# scikit-image (SSIM), the ssimulacra2 package (a NumPy SSIMULACRA2),
# prometheus-client (the Prometheus project's text-format parser), blake3
# (the reference BLAKE3 bindings, for the provenance record).
python3 -c "import PIL, pillow_heif, numpy, pytest, skimage, ssimulacra2, prometheus_client, blake3" 2>/dev/null ||
    python3 -m pip install -q pillow pillow-heif numpy pytest scikit-image ssimulacra2 prometheus-client blake3
# Ray Data, for pixpress.ray and its tests on a local cluster (pixpress[ray]).
python3 -c "import ray.data, pyarrow" 2>/dev/null || python3 -m pip install -q "ray[data]>=2.60"
# The service's clients in its tests: grpcio with stubs generated from the
# committed schema by grpcio-tools (which carries its own protoc), curl;
# kubernetes-validate (the API schemas, offline) for deploy/kubernetes.
python3 -c "import grpc, grpc_tools, grpc_health, grpc_reflection, kubernetes_validate" 2>/dev/null ||
    python3 -m pip install -q grpcio grpcio-tools grpcio-health-checking grpcio-reflection kubernetes-validate
command -v maturin >/dev/null || python3 -m pip install -q "maturin>=1.7,<2"
# sharp, the judge of the Node face's sharp-style operations (and the peer of
# the benchmarks), pinned by bindings/node/bench/package-lock.json.
repo_root="$(cd "$(dirname "$0")/.." && pwd)"
[ -d "$repo_root/bindings/node/bench/node_modules/sharp" ] ||
    npm ci --prefix "$repo_root/bindings/node/bench" --no-audit --no-fund --loglevel=error

rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt
