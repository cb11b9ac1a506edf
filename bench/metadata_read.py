"""Metadata read from the container's headers: median of 7 calls from Python.

    python3 bench/metadata_read.py

Prints the rows of BENCHMARKS.md's "Metadata read from headers" table for the
12 MP Olympus JPEG and the 12 MP iPhone HEIC of the corpus (PIXPRESS_CORPUS).
"""
import os
import statistics
import time

import pixpress
from PIL import Image

try:  # Pillow reads HEIC through pillow-heif's plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:
    pass

CORPUS = os.environ.get("PIXPRESS_CORPUS", os.path.join(os.path.dirname(__file__), "../../shared/corpus"))
FILES = {
    "12 MP JPEG (Olympus)": "jpeg/Olympus_E-P3_42_IndexError.jpg",
    "12 MP iPhone HEIC": "heic/iphone_13_pro_max.HEIC",
}


def median_ms(call, runs=7):
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main():
    data = {name: open(os.path.join(CORPUS, path), "rb").read() for name, path in FILES.items()}
    paths = {name: os.path.join(CORPUS, path) for name, path in FILES.items()}
    rows = [
        ("`pixpress.read_metadata`", lambda d, p: pixpress.read_metadata(d)),
        ('`pixpress.rewrite_metadata(metadata="web")`', lambda d, p: pixpress.rewrite_metadata(d, metadata="web")),
        ("`pixpress.Image.open(data).info`", lambda d, p: pixpress.Image.open(d).info),
        ("Pillow `Image.open(path).info`", lambda d, p: Image.open(p).info),
    ]
    print("| call | " + " | ".join(FILES) + " |")
    print("|---|" + "---:|" * len(FILES))
    for label, call in rows:
        cells = []
        for name in FILES:
            try:
                cells.append(f"{median_ms(lambda: call(data[name], paths[name])):.2f} ms")
            except Exception as error:  # a format the call does not take
                cells.append(type(error).__name__)
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
