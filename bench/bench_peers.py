"""`make bench-peers`: pixpress against sharp, Pillow, pillow-heif and jpegli in one run,
each at its own defaults, as a user calls it.

    python3 bench/bench_peers.py [--rounds N] [--no-install] [--no-score] [--only TEXT]

Installs the peers outside the repository when missing (Pillow, pillow-heif and
pyjpegli with pip; sharp with npm into $PIXPRESS_BENCH_DIR, default
~/.cache/pixpress-bench), then times every row in two worker processes: Python
(pixpress's Python binding, Pillow, pillow-heif, pyjpegli) and Node (pixpress's
Node binding, sharp). Within a worker the implementations of a row run in turn,
round after round, so each ratio comes from the same minutes of a noisy machine.

Columns: the median wall time of one call with nothing else running ("1 in
flight"), its CPU time (all threads of the process), and the throughput of two
callers at once on the machine's two cores ("2 in flight", ops/s). Every
implementation gets one thread per call: pixpress with RAYON_NUM_THREADS=1, sharp
with sharp.concurrency(1), pillow-heif with DECODE_THREADS=1; the HEIC rows
also at each library's default threads (pillow-heif's 4, pixpress's one per core). sharp's libvips still writes on a second thread, which the CPU
column shows. SSIMULACRA2 is scored independently of pixpress: every output is
decoded by Pillow (libjpeg-turbo, libheif) and scored by the `ssimulacra2` crate
(rust-av's port of libjxl's tool) against the source as Pillow decodes it
(resized by Pillow's Lanczos for the resize row).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
PHOTO = CORPUS / "jpeg" / "flickr_2569067123_aca715a2ee_o.jpg"
HEIC = CORPUS / "heic" / "iphone_13_pro_max.HEIC"
BENCH_DIR = Path(os.environ.get("PIXPRESS_BENCH_DIR", Path.home() / ".cache" / "pixpress-bench"))
SHARP = "0.34.5"
PIP_PEERS = {"PIL": "pillow", "pillow_heif": "pillow-heif", "pyjpegli": "pyjpegli"}


def install() -> None:
    """The peers, where missing: pip packages into this Python, sharp into BENCH_DIR."""
    import importlib.util

    missing = [pkg for mod, pkg in PIP_PEERS.items() if importlib.util.find_spec(mod) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=False)
    node_dir = BENCH_DIR / "node"
    if not (node_dir / "node_modules" / "sharp").exists():
        node_dir.mkdir(parents=True, exist_ok=True)
        (node_dir / "package.json").write_text(json.dumps({"private": True, "dependencies": {"sharp": SHARP}}))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=node_dir, check=True)


# ---------------------------------------------------------------- the Python worker


def python_rows() -> list[tuple[str, str, list[tuple[str, object]]]]:
    """(row, reference kind, [(implementation, call returning the output bytes)])."""
    import io

    import pixpress
    from PIL import Image

    photo = PHOTO.read_bytes()
    heic = HEIC.read_bytes()

    def pillow_jpeg(optimize=False):
        def call():
            out = io.BytesIO()
            Image.open(io.BytesIO(photo)).save(out, "JPEG", quality=80, optimize=optimize)
            return out.getvalue()
        return call

    def pillow_resize():
        out = io.BytesIO()
        Image.open(io.BytesIO(photo)).resize((720, 588), Image.LANCZOS).save(out, "JPEG", quality=80)
        return out.getvalue()

    rows = [
        ("JPEG recompress q80", "photo", [
            ("Pillow default (quality=80)", pillow_jpeg()),
            ("Pillow optimize=True", pillow_jpeg(True)),
            ("pixpress default", lambda: bytes(pixpress.compress(photo, format="jpeg", quality=80))),
            ("pixpress effort 0", lambda: bytes(pixpress.compress(photo, format="jpeg", quality=80, effort=0))),
        ]),
        ("JPEG recompress q80, pixpress's effort ladder", "photo", [
            (f"pixpress effort {e}", lambda e=e: bytes(pixpress.compress(photo, format="jpeg", quality=80, effort=e)))
            for e in (2, 3, 4, 8)
        ]),
        ("resize 720x588 + JPEG q80", "resized", [
            ("Pillow (Lanczos)", pillow_resize),
            ("pixpress default", lambda: bytes(pixpress.compress(
                photo, format="jpeg", quality=80, resize=(720, 588), fit="exact"))),
        ]),
    ]
    try:
        import pyjpegli

        def jpegli():
            rgb, width, height = pyjpegli.decode(photo)
            return pyjpegli.encode(rgb, width, height, quality=80)
        rows[0][2].append(("jpegli (pyjpegli decode + encode, quality=80)", jpegli))
    except ImportError:
        pass
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()

        def heif(threads, to_jpeg):
            def call():
                pillow_heif.options.DECODE_THREADS = threads
                im = Image.open(io.BytesIO(heic))
                im.load()
                if not to_jpeg:
                    return b""
                out = io.BytesIO()
                im.save(out, "JPEG", quality=80)
                return out.getvalue()
            return call
        rows += [
            ("HEIC 12 MP to pixels", None, [
                ("pillow-heif, 1 decode thread", heif(1, False)),
                ("pillow-heif, its default 4 threads", heif(4, False)),
                ("pixpress", lambda: pixpress.decode(heic) and b""),
            ]),
            ("HEIC 12 MP to JPEG q80", "heic", [
                ("pillow-heif + Pillow, 1 decode thread", heif(1, True)),
                ("pillow-heif + Pillow, default threads", heif(4, True)),
                ("pixpress default", lambda: bytes(pixpress.compress(heic, format="jpeg", quality=80))),
                ("pixpress effort 0", lambda: bytes(pixpress.compress(heic, format="jpeg", quality=80, effort=0))),
            ]),
        ]
    except ImportError:
        pass
    return rows


def measure(rows, rounds: int, only: str | None, out_dir: Path, tag: str = "py") -> list[dict]:
    """Every implementation of each row in turn, `rounds` times; then 2 in flight."""
    from concurrent.futures import ThreadPoolExecutor

    results = []
    for row, reference, impls in rows:
        if only and only not in row:
            continue
        outputs = {name: call() for name, call in impls}  # warm-up, and the output scored
        wall = {name: [] for name, _ in impls}
        cpu = {name: [] for name, _ in impls}
        for _ in range(rounds):
            for name, call in impls:
                c0, t0 = time.process_time(), time.perf_counter()
                call()
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        two = {}
        for name, call in impls:
            n = max(4, rounds)
            with ThreadPoolExecutor(2) as pool:
                t0 = time.perf_counter()
                list(pool.map(lambda _: call(), range(n)))
                two[name] = n / (time.perf_counter() - t0)
        for name, _ in impls:
            file = out_dir / f"{tag}-{len(results)}.bin"
            file.write_bytes(outputs[name])
            results.append({
                "row": row, "name": name, "reference": reference, "file": str(file),
                "ms": statistics.median(wall[name]) * 1000, "cpu_ms": statistics.median(cpu[name]) * 1000,
                "two": two[name], "bytes": len(outputs[name]) if reference else None,
            })
        print(f"  {row}: done", file=sys.stderr, flush=True)
    return results


def worker(args) -> None:
    rows = python_rows()
    if args.pixpress_only:
        rows = [(row, ref, [i for i in impls if i[0].startswith("pixpress")]) for row, ref, impls in rows]
    tag = "threads" if args.pixpress_only else "py"
    json.dump(measure(rows, args.rounds, args.only, Path(args.out), tag), sys.stdout)


# ---------------------------------------------------------------- scores and the table


def scores(results: list[dict], scorer: Path) -> None:
    """SSIMULACRA2 of each output against its reference, decoded by Pillow, scored by the crate."""
    import io

    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    with tempfile.TemporaryDirectory() as tmp:
        photo = Image.open(PHOTO).convert("RGB")
        refs = {"photo": photo, "resized": photo.resize((720, 588), Image.LANCZOS),
                "heic": Image.open(HEIC).convert("RGB")}
        paths = {}
        for kind, image in refs.items():
            paths[kind] = Path(tmp) / f"{kind}.png"
            image.save(paths[kind])
        for r in results:
            if not r["reference"]:
                continue
            dist = Path(tmp) / "dist.png"
            Image.open(io.BytesIO(Path(r["file"]).read_bytes())).convert("RGB").save(dist)
            out = subprocess.run([str(scorer), str(paths[r["reference"]]), str(dist)],
                                 capture_output=True, text=True, check=True).stdout
            r["score"] = float(out.split()[1])


def table(results: list[dict]) -> str:
    lines = ["| operation | implementation | ms/op, 1 in flight | CPU ms/op | ops/s, 2 in flight | bytes | SSIMULACRA2 |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        score = f"{r['score']:.2f}" if r.get("score") is not None else "-"
        size = f"{r['bytes']:,}" if r.get("bytes") else "-"
        lines.append(f"| {r['row']} | {r['name']} | {r['ms']:.1f} | {r['cpu_ms']:.1f} | {r['two']:.1f} | {size} | {score} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--no-score", action="store_true")
    parser.add_argument("--only", help="rows whose name contains this text")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--pixpress-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if not args.no_install:
        install()
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as out:
        py = subprocess.run([sys.executable, __file__, "--worker", "--out", out, "--rounds", str(args.rounds)]
                            + (["--only", args.only] if args.only else []),
                            env=env, stdout=subprocess.PIPE, check=True, text=True)
        results = json.loads(py.stdout)
        # pixpress's HEIC rows again at its default threads (rayon's pool: one per core), against
        # pillow-heif's default threads above.
        threaded = subprocess.run([sys.executable, __file__, "--worker", "--out", out, "--rounds", str(args.rounds),
                                   "--only", "HEIC", "--pixpress-only"],
                                  env={k: v for k, v in os.environ.items() if k != "RAYON_NUM_THREADS"},
                                  stdout=subprocess.PIPE, check=True, text=True)
        for r in json.loads(threaded.stdout):
            r["name"] += ", default threads"
            at = max(i for i, q in enumerate(results) if q["row"] == r["row"])
            results.insert(at + 1, r)
        node = subprocess.run(["node", str(ROOT / "bench" / "peers_sharp.js"), out, str(args.rounds), args.only or ""],
                              env=dict(env, PIXPRESS_CORPUS=str(CORPUS), SHARP_DIR=str(BENCH_DIR / "node")),
                              stdout=subprocess.PIPE, check=True, text=True)
        results += json.loads(node.stdout)
        if not args.no_score:
            target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
            subprocess.run(["cargo", "build", "--release", "-q", "-p", "pixpress", "--example", "ssimulacra2_crate"],
                           cwd=ROOT, check=True)
            scores(results, target / "release" / "examples" / "ssimulacra2_crate")
    import pixpress
    print(f"pixpress {pixpress.__version__ if hasattr(pixpress, '__version__') else ''}; one thread per call "
          f"(RAYON_NUM_THREADS=1, sharp.concurrency(1)); medians of {args.rounds} interleaved rounds")
    print(table(results))


if __name__ == "__main__":
    main()
