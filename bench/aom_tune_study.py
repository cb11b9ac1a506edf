"""Is a newer libaom worth building? aom's `tune=iq` (aom 3.12+) against its default tune, bytes
at equal SSIMULACRA2, measured with the aom inside Pillow's AVIF plugin (libavif + aom 3.14 in
the Pillow 13 wheel), since pixpress's Debian aom 3.6 has no `tune=iq`.

    python3 bench/aom_tune_study.py [--box 1024] [--speed 6]

The eight study photos (core/benches/common/photos.rs) fitted into BOX, encoded by Pillow at
qualities 30-90 (step 10), 4:4:4 (pixpress's AVIF default), aom speed SPEED, with and without
`advanced={"tune": "iq"}` (libavif's default with this aom) against `{"tune": "psnr"}` (aom's
own default, as pixpress's aom 3.6 encodes); each scored by pixpress.score (SSIMULACRA2) against the PNG fed to the
encoder. Bytes are interpolated at each score level (log-bytes linear in score) and given for
tune=iq relative to the default tune, as the geometric mean over the photos, with the median
encode time of each.
"""
import argparse
import io
import statistics
import time

import pixpress
from study import PHOTOS, bytes_at, change, photo

LEVELS = [60, 70, 80, 85]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--box", type=int, default=1024)
    parser.add_argument("--speed", type=int, default=6)
    args = parser.parse_args()
    # libavif 1.4 already asks aom 3.12+ for tune=iq (its files are byte-identical to asking for
    # it), so the baseline is aom's own default, PSNR tuning, what pixpress's aom 3.6 does.
    tunes = {"default tune": {"tune": "psnr"}, "tune=iq": {"tune": "iq"}}
    ratios = {level: [] for level in LEVELS}
    times = {name: [] for name in tunes}
    for name in PHOTOS:
        image, png = photo(name, args.box)
        curves = {}
        for tune, advanced in tunes.items():
            points = []
            for quality in range(30, 100, 10):
                out = io.BytesIO()
                extra = {"advanced": advanced} if advanced else {}
                started = time.perf_counter()
                image.save(out, "AVIF", quality=quality, speed=args.speed, subsampling="4:4:4", **extra)
                times[tune].append(time.perf_counter() - started)
                points.append((len(out.getvalue()), pixpress.score(png, out.getvalue())))
            curves[tune] = sorted(points, key=lambda p: p[1])
        for level in LEVELS:
            base, iq = bytes_at(curves["default tune"], level), bytes_at(curves["tune=iq"], level)
            if base and iq:
                ratios[level].append(iq / base)
        print(f"{name}: done", flush=True)
    print(f"\naom tune=iq against the default tune, speed {args.speed}, 4:4:4, photos fitted into {args.box} px:\n")
    print("| SSIMULACRA2 | " + " | ".join(str(level) for level in LEVELS) + " |")
    print("|---|" + "---:|" * len(LEVELS))
    cells = [change(r) for r in ratios.values()]
    print("| bytes, tune=iq | " + " | ".join(cells) + " |")
    print("\nmedian encode s: " + ", ".join(f"{t} {statistics.median(v):.2f}" for t, v in times.items()))


if __name__ == "__main__":
    main()
