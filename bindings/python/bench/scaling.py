"""Do pixpress calls run side by side? Two Python threads and two processes against one.

    RAYON_NUM_THREADS=1 python3 bindings/python/bench/scaling.py [--calls N] [--rounds R]

For each call, R rounds of: N calls on one thread, 2N calls on two threads of
one interpreter, and 2N calls on two processes, with the CPU time per call
(getrusage) on one and two threads. With one rayon thread per call, two threads
should reach the throughput of two processes, at the same CPU time per call,
unless something (the GIL, a shared lock) serializes the calls.
"""

from __future__ import annotations

import argparse
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool

import bench

HEIC_ROW, JPEG_ROW = bench.row_calls("HEIC 12 MP to JPEG q80"), bench.row_calls("JPEG recompress q80")
# The bench's own calls, so the two scripts measure the same thing.
CALLS = {
    "pixpress HEIC to JPEG, effort 0": HEIC_ROW["pixpress effort 0 baseline"],
    "pillow-heif + Pillow HEIC to JPEG": HEIC_ROW["pillow-heif + Pillow"],
    "pixpress JPEG recompress, Klein q77, effort 0":
        JPEG_ROW["pixpress effort 0 baseline, Klein tables, q77 (score near Pillow's)"],
    "Pillow JPEG recompress q80": JPEG_ROW["Pillow q80 optimize=True"],
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(name: str, calls: int) -> None:
    for _ in range(calls):
        CALLS[name]()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| call | round | 1 thread ops/s | 2 threads / 1 | 2 processes / 1 | CPU ms per call, 1 / 2 threads |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, fn in CALLS.items():
        fn()
        with Pool(2) as pool:
            pool.starmap(run, [(name, 1)] * 2)
            for round_ in range(1, args.rounds + 1):
                cpu, start = cpu_seconds(), time.perf_counter()
                run(name, args.calls)
                one, one_cpu = args.calls / (time.perf_counter() - start), cpu_seconds() - cpu
                cpu, start = cpu_seconds(), time.perf_counter()
                with ThreadPoolExecutor(2) as threads:
                    list(threads.map(lambda _: fn(), range(2 * args.calls)))
                two, two_cpu = 2 * args.calls / (time.perf_counter() - start), cpu_seconds() - cpu
                start = time.perf_counter()
                pool.starmap(run, [(name, args.calls)] * 2)
                procs = 2 * args.calls / (time.perf_counter() - start)
                print(f"| {name} | {round_} | {one:.2f} | {two / one:.2f} | {procs / one:.2f} | "
                      f"{one_cpu / args.calls * 1000:.0f} / {two_cpu / (2 * args.calls) * 1000:.0f} |", flush=True)


if __name__ == "__main__":
    main()
