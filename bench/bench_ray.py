"""Files/s of pixpress.ray on a local Ray cluster against `pixpress batch` on
the same machine, doing the same work: the overhead of Ray, stated.

    make bench-ray            # or: python3 bench/bench_ray.py [--rounds 3] [--copies 4]

The job: the corpus's JPEG, PNG, WebP, TIFF and GIF folders, copied
`--copies` times into a scratch folder, to WebP q75 fitted into 1024x1024. The
rounds alternate the two (a fresh output directory each time), so both see
the same minutes of the machine; the table gives medians. The Ray run is timed
two ways: the job alone on a running cluster (`ray.init` done once, as on a
cluster that is up) and the whole call from a cold `ray.init` in a new process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
BIN = os.environ.get("PIXPRESS_BIN", str(Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/pixpress-target")) / "release/pixpress"))
FOLDERS = ["jpeg", "png", "webp", "tiff", "gif"]
OPTIONS = {"format": "webp", "quality": 75, "resize": "1024x1024"}

COLD = """
import sys, time, ray, pixpress.ray as pray
t = time.monotonic()
ray.init(num_cpus=int(sys.argv[3]), include_dashboard=False, logging_level="ERROR")
ray.data.DataContext.get_current().enable_progress_bars = False
pray.compress_dataset(sys.argv[1], sys.argv[2], format="webp", quality=75, resize="1024x1024")
print(time.monotonic() - t)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1

    import ray

    import pixpress.ray as pray

    scratch = Path(tempfile.mkdtemp(prefix="pixpress-bench-ray-"))
    source = scratch / "in"
    for copy in range(args.copies):
        for folder in FOLDERS:
            shutil.copytree(CORPUS / folder, source / f"{copy}" / folder)
    files = len(pray.plan(source, scratch / "probe"))
    ray.init(num_cpus=cpus, include_dashboard=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False

    times: dict[str, list[float]] = {"batch": [], "ray": [], "ray cold": []}
    for round_ in range(args.rounds):
        out = scratch / f"batch{round_}"
        t = time.monotonic()
        subprocess.run([BIN, "batch", str(source), "-o", str(out), "-f", "webp", "-q", "75", "-r", "1024x1024"],
                       check=False, capture_output=True)
        times["batch"].append(time.monotonic() - t)
        t = time.monotonic()
        summary = pray.compress_dataset(source, scratch / f"ray{round_}", **OPTIONS)
        times["ray"].append(time.monotonic() - t)
        assert summary["files"] == files, summary
    ray.shutdown()
    for round_ in range(args.rounds):
        done = subprocess.run([sys.executable, "-c", COLD, str(source), str(scratch / f"cold{round_}"), str(cpus)],
                              capture_output=True, text=True, check=True)
        times["ray cold"].append(float(done.stdout.strip().splitlines()[-1]))

    batch = statistics.median(times["batch"])
    print(f"{files} files ({args.copies} copies of {', '.join(FOLDERS)}), WebP q75 fitted into 1024x1024, "
          f"{cpus} CPUs, median of {args.rounds} rounds")
    print("| run | seconds | files/s | vs batch |")
    print("|---|---|---|---|")
    for name, label in [("batch", "`pixpress batch` (one process, one thread per core)"),
                        ("ray", "`pixpress.ray` on a running local cluster"),
                        ("ray cold", "`pixpress.ray` from `ray.init` in a new process")]:
        seconds = statistics.median(times[name])
        print(f"| {label} | {seconds:.2f} | {files / seconds:.1f} | {batch / seconds:.2f}x |")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
