"""Peer numbers measured in the same run as pixpress's bench: Pillow (and
pillow-heif for HEIC), single-threaded, median of repeated runs.

    python3 bench/peers.py            # table
    python3 bench/peers.py rss        # peak RSS over 20 JPEG q80 recompressions
"""
import io
import os
import resource
import statistics
import sys
import time

from PIL import Image

CORPUS = os.environ.get("PIXPRESS_CORPUS", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus"))
PHOTO = os.path.join(CORPUS, "jpeg", "flickr_2569067123_aca715a2ee_o.jpg")


def median_ms(runs, work):
    """Median milliseconds of `runs` calls after one warm-up; returns (ms, last result)."""
    result = work()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, result


def jpeg_q80(data, optimize=False):
    im = Image.open(io.BytesIO(data))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80, optimize=optimize)
    return len(buf.getvalue())


def resize_jpeg(data, draft):
    im = Image.open(io.BytesIO(data))
    if draft:
        im.draft("RGB", (720, 588))
    im = im.resize((720, 588), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return len(buf.getvalue())


def webp_q80(data):
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "WEBP", quality=80, method=4)
    return len(buf.getvalue())


def main():
    data = open(PHOTO, "rb").read()
    if sys.argv[1:] == ["rss"]:
        for _ in range(20):
            jpeg_q80(data)
        print(f"Pillow peak RSS over 20 JPEG q80 recompressions: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
        return
    rows = [
        ("decode", 7, lambda: Image.open(io.BytesIO(data)).load() and 0),
        ("JPEG q80 (optimize=False, Pillow default)", 7, lambda: jpeg_q80(data)),
        ("JPEG q80 (optimize=True)", 7, lambda: jpeg_q80(data, True)),
        ("resize 720x588 + JPEG q80, draft()", 9, lambda: resize_jpeg(data, True)),
        ("resize 720x588 + JPEG q80, no draft", 5, lambda: resize_jpeg(data, False)),
        ("WebP q80 method 4", 5, lambda: webp_q80(data)),
    ]
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        heic = open(os.path.join(CORPUS, "heic", "iphone_13_pro_max.HEIC"), "rb").read()
        rows.append(("HEIC iphone_13_pro_max decode (pillow-heif)", 3, lambda: Image.open(io.BytesIO(heic)).load() and 0))
    except ImportError:
        pass
    print("| peer | operation | median ms | output bytes |")
    print("|---|---|---:|---:|")
    for name, runs, work in rows:
        ms, out = median_ms(runs, work)
        print(f"| Pillow {Image.__version__} | {name} | {ms:.1f} | {out or '-'} |")


if __name__ == "__main__":
    main()
