#!/usr/bin/env python3
"""Checks that LICENSES.md (made by cargo-about, `make licenses`) lists
exactly the crates the workspace links: the normal dependencies on
x86_64-unknown-linux-gnu, as `cargo tree` reads them from Cargo.lock, each at
its locked version, with an SPDX expression. A dependency added or updated
without regenerating LICENSES.md fails here."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    text = (ROOT / "LICENSES.md").read_text()
    rows = re.findall(r"^\| ([A-Za-z0-9_.-]+) \| (\d[^ |]*) \| ([^|]+) \|$", text, re.M)
    listed = {(name, version) for name, version, _ in rows if not name.startswith("pixpress")}
    unlicensed = [name for name, _, spdx in rows if not spdx.strip() or spdx.strip().startswith(("AND", "OR"))]
    tree = subprocess.run(
        ["cargo", "tree", "-e", "normal", "--target", "x86_64-unknown-linux-gnu", "--workspace",
         "--prefix", "none", "--format", "{p}"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout
    linked = {(m.group(1), m.group(2)) for m in re.finditer(r"^(\S+) v(\S+)", tree, re.M)
              if not m.group(1).startswith("pixpress")}
    problems = [f"linked but not in LICENSES.md: {n} {v}" for n, v in sorted(linked - listed)]
    problems += [f"in LICENSES.md but not linked: {n} {v}" for n, v in sorted(listed - linked)]
    problems += [f"no well-formed SPDX expression: {n}" for n in unlicensed]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("regenerate with `make licenses`", file=sys.stderr)
        return 1
    print(f"LICENSES.md lists the {len(linked)} linked crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
