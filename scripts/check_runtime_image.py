#!/usr/bin/env python3
"""Runs the Dockerfile's runtime stage without Docker: a Debian 12 minbase
root made by debootstrap (the packages `debian:bookworm-slim` is made of),
the stage's own RUN instruction (read from the Dockerfile) run in it by
chroot, the built binary copied in, and `pixpress serve` started there as the
stage's non-root user. Then curl compresses a photo through it from outside
and Pillow judges the output.

This checks what the image will hold and run (its packages suffice for the
binary's libraries, the user exists, the server answers as that user); the
build stage (rust:1.88-bookworm) is not exercised here, and neither is a
Docker daemon (none runs on this machine, and Docker Hub is out of reach).

Usage: sudo python3 scripts/check_runtime_image.py [PIXPRESS_BIN]
"""

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pixpress-rootfs"
BASE = CACHE / "bookworm-minbase"
MIRROR = "http://deb.debian.org/debian"
PHOTO = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus")) / "jpeg" / "xmp_test_adobergb.jpg"


def runtime_stage():
    """The runtime stage's RUN command and its USER, from the Dockerfile."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text.split(" AS runtime", 1)[1].split("\nFROM ", 1)[0]
    run = re.search(r"^RUN (.+)$", stage, re.M).group(1)
    user = re.search(r"^USER (\S+)$", stage, re.M).group(1)
    return run, user


def base_root():
    """The cached debootstrap minbase root, made once."""
    if not (BASE / "etc" / "debian_version").exists():
        tmp = CACHE / "bookworm-minbase.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(tmp), MIRROR], check=True,
                       stdout=subprocess.DEVNULL)
        tmp.rename(BASE)
    return BASE


def main():
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PIXPRESS_BIN", Path.home() / ".cache" / "pixpress-target" / "release" / "pixpress"))
    if shutil.which("debootstrap") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True, stdout=subprocess.DEVNULL)
    run, user = runtime_stage()
    work = Path(tempfile.mkdtemp(prefix="pixpress-runtime-"))
    root = work / "root"
    server = None
    try:
        subprocess.run(["cp", "-a", str(base_root()), str(root)], check=True)
        shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
        print(f"runtime stage: RUN {run}")
        subprocess.run(["chroot", str(root), "sh", "-c", run], check=True, stdout=subprocess.DEVNULL)
        (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
        shutil.copy(binary, root / "usr/local/bin/pixpress")
        ldd = subprocess.run(["chroot", str(root), "ldd", "/usr/local/bin/pixpress"], capture_output=True,
                             text=True, check=True).stdout
        assert "not found" not in ldd, ldd
        version = subprocess.run(["chroot", f"--userspec={user}", str(root), "/usr/local/bin/pixpress", "--version"],
                                 capture_output=True, text=True, check=True).stdout
        print(version.strip())
        server = subprocess.Popen(
            ["chroot", f"--userspec={user}", str(root), "env", "PIXPRESS_HTTP_ADDR=127.0.0.1:18471",
             "PIXPRESS_GRPC_ADDR=127.0.0.1:18472", "PIXPRESS_LOG=json", "/usr/local/bin/pixpress", "serve"],
            stderr=subprocess.PIPE, text=True)
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:18471/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request("http://127.0.0.1:18471/v1/compress?format=webp&resize=640x",
                                         data=PHOTO.read_bytes(), method="POST")
        body = urllib.request.urlopen(request, timeout=60).read()
        image = Image.open(io.BytesIO(body))
        assert image.format == "WEBP" and image.width == 640, (image.format, image.size)
        # chroot executes pixpress in its own process: the server's uid is the process's.
        uid = Path(f"/proc/{server.pid}/status").read_text().split("Uid:")[1].split()[0]
        assert uid == user.split(":")[0], (uid, user)
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        print(f"served as uid {uid}: a {image.width}x{image.height} WebP of {len(body)} bytes; "
              "SIGTERM exit 0")
        print("runtime stage OK")
    finally:
        if server and server.poll() is None:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
