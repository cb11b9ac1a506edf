#!/usr/bin/env python3
"""Checks that core's modules depend on each other in one direction only.

Every `crate::NAME` a non-test source file of core/src names must belong to a
module of a lower (or, for the few peers listed together, the same) layer
than the file's own module; a name that only the crate root (lib.rs) defines
is the façade, which no module below it may call. ARCHITECTURE.md shows the
order; this is its executable form, run by `make lint`.

    python3 scripts/module_order.py [core/src]
"""
import pathlib
import re
import sys

# Highest layer first; modules on one line are peers and may use each other.
LAYERS = [
    ["lib"],
    ["session"],
    ["plan"],
    ["analysis", "capabilities"],
    ["pipeline"],
    ["io"],
    ["options"],
    ["edits"],
    ["quality", "watermark"],
    ["codecs"],
    ["info"],
    ["metadata"],
    ["geometry"],
    ["resize", "orient", "color"],
    ["telemetry"],
    ["budget", "progress"],
    ["format", "error", "pixels", "buffer_pool", "parallel", "failpoint"],
]
RANK = {name: len(LAYERS) - i for i, layer in enumerate(LAYERS) for name in layer}


def non_test_text(text: str) -> str:
    """`text` without its `#[cfg(test)]` items and comments."""
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]
    text = re.sub(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?(?:use|mod)\s[^;]*;", "", text)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def root_items(lib: str) -> dict:
    """What the crate root re-exports: item name -> the module defining it."""
    owner = {}
    for module, names in re.findall(r"pub use (\w+)::\{([^}]*)\}", lib):
        for name in re.findall(r"\w+", names):
            owner[name] = module
    for module, name in re.findall(r"pub use (\w+)::(\w+);", lib):
        owner[name] = module
    return owner


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "core/src")
    owner = root_items((src / "lib.rs").read_text())
    problems = []
    for path in sorted(src.rglob("*.rs")):
        relative = path.relative_to(src)
        if relative.name == "tests.rs" or "tests" in relative.parts[:-1]:
            continue
        module = relative.parts[0].removesuffix(".rs")
        if module not in RANK:
            problems.append(f"{relative}: module `{module}` is not in scripts/module_order.py's LAYERS")
            continue
        text = non_test_text(path.read_text())
        for name in sorted(set(re.findall(r"crate::(\w+)", text))):
            target = name if name in RANK else owner.get(name, "lib")
            if target == module:
                continue
            if RANK[target] > RANK[module] or (target == "lib" and module != "lib"):
                via = "" if name in RANK else f" (`crate::{name}`)"
                problems.append(f"{relative}: `{module}` uses `{target}`{via}, a higher layer")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} edges against the module order (ARCHITECTURE.md, Code map)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
