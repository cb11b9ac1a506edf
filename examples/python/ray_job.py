"""Compress a folder on a Ray cluster with pixpress.ray, as `pixpress batch` would.

    python3 examples/python/ray_job.py SOURCE DEST [--address auto] [--format webp] [--quality 80]

Connects to the cluster at --address (default: start a local one on this
machine's cores), runs the job, prints the summary. Run it again to resume:
finished files are checked and skipped.
"""

import argparse

import ray

import pixpress.ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("dest")
    parser.add_argument("--address", default=None, help="a running cluster, such as auto")
    parser.add_argument("--format", default="webp")
    parser.add_argument("--quality", type=int, default=80)
    parser.add_argument("--resize", default="1600x1600")
    args = parser.parse_args()
    ray.init(address=args.address, logging_level="ERROR")
    summary = pixpress.ray.compress_dataset(
        args.source, args.dest, format=args.format, quality=args.quality, resize=args.resize
    )
    print(pixpress.ray.format_summary(summary))
    raise SystemExit(1 if summary["failed"] else 0)


if __name__ == "__main__":
    main()
