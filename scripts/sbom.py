#!/usr/bin/env python3
"""The CycloneDX SBOM of the `pixpress` binary: `cargo cyclonedx` lists the
crates compiled in; the C libraries linked from the system or vendored by a
-sys crate (libheif, libde265, dav1d, aom, lcms2, libwebp) are added from
`pixpress capabilities --json`, which reads their versions from the libraries
themselves, with their SPDX licenses.

Usage: python3 scripts/sbom.py PIXPRESS_BIN OUT.cdx.json
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    binary, out = sys.argv[1], Path(sys.argv[2])
    subprocess.run(["cargo", "cyclonedx", "--format", "json", "--spec-version", "1.5", "--describe", "binaries",
                    "--manifest-path", str(ROOT / "cli" / "Cargo.toml")], check=True, cwd=ROOT)
    made = sorted(ROOT.glob("**/*_bin.cdx.json")) + sorted(ROOT.glob("**/*_cdylib*.cdx.json"))
    sbom = json.loads((ROOT / "cli" / "pixpress_bin.cdx.json").read_text())
    for path in made:
        if "node_modules" not in path.parts:
            path.unlink()
    crates = {(c["name"], c.get("version")) for c in sbom["components"]}
    capabilities = json.loads(subprocess.run([binary, "capabilities", "--json"], capture_output=True, check=True,
                                             text=True).stdout)
    for lib in capabilities["libraries"]:
        # A crate is listed by cargo already; a C library of the same name
        # (lcms2 beside the lcms2 crate) has its own version.
        if (lib["name"], lib["version"]) in crates or (lib["name"].replace("_", "-"), lib["version"]) in crates:
            continue
        sbom["components"].append({
            "type": "library",
            "name": lib["name"],
            "version": lib["version"],
            "description": lib["role"],
            "licenses": [{"expression": lib["license"]}],
            "purl": f"pkg:generic/{lib['name']}@{lib['version']}",
        })
    out.write_text(json.dumps(sbom, indent=1))
    print(f"{out}: {len(sbom['components'])} components ({len(crates)} crates)")


if __name__ == "__main__":
    main()
