#!/usr/bin/env python3
"""Installs the packages on a bare machine and uses them there.

The machine is a chroot of Debian 12 minbase (debootstrap; what
`debian:bookworm-slim` is made of) plus `python3` and `python3-venv` from
Debian, and this machine's Node.js and npm copied in: an interpreter, and none
of the codec libraries (libde265, libdav1d, libaom, lcms2), which the test
checks are absent. There, as a new user would:

- `python3 -m venv` and `pip install pixpress-*.whl` (the manylinux wheel of
  `make wheel`), then the engine and the Pillow-style face are used;
- `npm install ./pixpress-VERSION.tgz` in an empty folder (`make npm`), then
  `require('pixpress')` and `import pixpress from 'pixpress'` are used;
- the CLI tarball is unpacked (`make cli-dist`) and `pixpress` run.

Each decodes HEIC (libde265) and AVIF (dav1d) and encodes AVIF (aom) and
WebP, so every bundled library is loaded. The outputs are judged outside
the chroot by Pillow: format and size. Needs root (chroot, mount).

Usage: python3 scripts/test_packages.py DIST
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_runtime_image import CACHE, base_root  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
INPUTS = {"photo.heic": "heic/HMD_Nokia_8.3_5G.heif", "photo.avif": "avif/hopper.avif",
          "photo.jpg": "jpeg/xmp_test_adobergb.jpg"}
CODEC_LIBRARIES = ("libde265.so", "libdav1d.so", "libaom.so", "liblcms2.so")

PYTHON_SMOKE = """
import pixpress
from pixpress import Image
caps = pixpress.capabilities()
assert {"heic", "avif"} <= set(caps["decode"]) and "avif" in caps["encode"], caps
for source, fmt in [("photo.heic", "jpeg"), ("photo.avif", "webp"), ("photo.jpg", "avif")]:
    out = pixpress.compress(open(f"/in/{source}", "rb").read(), format=fmt, resize=(320, None))
    out.write_to(f"/out/python-{source}.{fmt}")
im = Image.open("/in/photo.heic")
im.thumbnail((200, 200))
im.rotate(90, expand=True).save("/out/python-shim.png")
print("python", pixpress.__version__, "ok")
"""

NODE_SMOKE = """
const pixpress = require('pixpress')
const fs = require('fs')
const caps = pixpress.capabilities()
if (!caps.decode.includes('heic') || !caps.encode.includes('avif')) throw new Error(JSON.stringify(caps))
;(async () => {
  for (const [source, format] of [['photo.heic', 'jpeg'], ['photo.avif', 'webp'], ['photo.jpg', 'avif']]) {
    const out = await pixpress.compress(fs.readFileSync(`/in/${source}`), { format, resize: [320, null] })
    fs.writeFileSync(`/out/node-${source}.${format}`, out.data)
  }
  await pixpress('/in/photo.heic').resize(200, 200, { fit: 'inside' }).rotate(90).png().toFile('/out/node-shim.png')
  console.log('node require ok')
})()
"""

NODE_IMPORT = """
import pixpress from 'pixpress'
import { compress } from 'pixpress'
import fs from 'node:fs'
const out = await compress(fs.readFileSync('/in/photo.heic'), { format: 'webp', resize: [320, null] })
fs.writeFileSync('/out/node-import.webp', out.data)
console.log('node import ok', typeof pixpress)
"""

# Output name -> (Pillow format, width): 320 wide, but the 128x128 AVIF,
# which a resize does not enlarge.
EXPECTED = {
    "python-photo.heic.jpeg": ("JPEG", 320), "python-photo.avif.webp": ("WEBP", 128),
    "python-photo.jpg.avif": ("AVIF", 320), "node-photo.heic.jpeg": ("JPEG", 320),
    "node-photo.avif.webp": ("WEBP", 128), "node-photo.jpg.avif": ("AVIF", 320),
    "node-import.webp": ("WEBP", 320), "cli/photo.webp": ("WEBP", 320),
}


def python_root() -> Path:
    """The cached minbase root with Debian's python3 and python3-venv, made once."""
    path = CACHE / "bookworm-python"
    if not (path / "usr" / "bin" / "python3").exists():
        tmp = CACHE / "bookworm-python.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["cp", "-a", str(base_root()), str(tmp)], check=True)
        shutil.copy("/etc/resolv.conf", tmp / "etc" / "resolv.conf")
        install = "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv"
        subprocess.run(["chroot", str(tmp), "sh", "-c", install], check=True, stdout=subprocess.DEVNULL,
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"})
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    return path


def in_root(root: Path, script: str) -> str:
    """Runs `script` with sh in the chroot; its output."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root", "LANG": "C.UTF-8"}
    done = subprocess.run([shutil.which("chroot"), str(root), "sh", "-ec", script], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        raise SystemExit(f"failed in the bare root:\n$ {script}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def main() -> int:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist").resolve()
    wheel = next(dist.glob("pixpress-*-manylinux_*.whl"))
    npm_tarball = next(dist.glob("pixpress-[0-9]*.tgz"))
    cli_tarball = next(dist.glob("pixpress-*-linux-x86_64.tar.gz"))
    if shutil.which("debootstrap") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True, stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="pixpress-packages-"))
    root = work / "root"
    mounted = False
    try:
        subprocess.run(["cp", "-a", str(python_root()), str(root)], check=True)
        subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
        mounted = True
        present = in_root(root, "ldconfig -p")
        assert not any(lib in present for lib in CODEC_LIBRARIES), "the bare root has a codec library"
        # Node.js and npm as the user has them (no codec libraries come with them).
        node_modules = Path(os.path.realpath(shutil.which("npm"))).parents[2]
        shutil.copy2(os.path.realpath(shutil.which("node")), root / "usr/local/bin/node")
        shutil.copytree(node_modules / "npm", root / "usr/local/lib/node_modules/npm", symlinks=True)
        os.symlink("../lib/node_modules/npm/bin/npm-cli.js", root / "usr/local/bin/npm")
        for folder in ("pkg", "in", "out", "app"):
            (root / folder).mkdir()
        for package in (wheel, npm_tarball, cli_tarball):
            shutil.copy(package, root / "pkg" / package.name)
        for name, source in INPUTS.items():
            shutil.copy(CORPUS / source, root / "in" / name)
        (root / "pkg/smoke.py").write_text(PYTHON_SMOKE)
        (root / "app/smoke.cjs").write_text(textwrap.dedent(NODE_SMOKE))
        (root / "app/smoke.mjs").write_text(textwrap.dedent(NODE_IMPORT))

        print(in_root(root, f"python3 -m venv /venv && /venv/bin/pip install -q --no-index /pkg/{wheel.name}"
                            " && cd / && /venv/bin/python /pkg/smoke.py").strip())
        print(in_root(root, f"cd /app && npm install --offline --no-audit --no-fund --loglevel=error "
                            f"/pkg/{npm_tarball.name} && node smoke.cjs && node smoke.mjs").strip())
        print(in_root(root, f"tar xzf /pkg/{cli_tarball.name} -C /opt && cd /opt/pixpress-*/ && "
                            "bin/pixpress --version | head -1 && bin/pixpress capabilities --json > /out/caps.json && "
                            "bin/pixpress compress /in/photo.heic -o /out/cli --format webp --resize 320x "
                            "> /dev/null && echo cli ok").strip())
        for name, (fmt, width) in EXPECTED.items():
            image = Image.open(io.BytesIO((root / "out" / name).read_bytes()))
            assert (image.format, image.width) == (fmt, width), (name, image.format, image.size)
        for shim in ("python-shim.png", "node-shim.png"):
            image = Image.open(root / "out" / shim)
            assert image.format == "PNG" and max(image.size) == 200, (shim, image.size)
        print(f"packages OK on a bare Debian 12 root: {wheel.name}, {npm_tarball.name}, {cli_tarball.name}; "
              f"{len(EXPECTED) + 2} outputs judged by Pillow")
    finally:
        if mounted:
            subprocess.run(["umount", str(root / "proc")], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
