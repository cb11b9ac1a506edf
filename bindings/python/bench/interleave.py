"""One pixpress call against its peer, in turn: medians and the paired ratio.

    python3 bindings/python/bench/interleave.py ROW IMPLEMENTATION [--rounds N]

ROW and IMPLEMENTATION name a row of bench.py and one of its pixpress variants,
as printed in its table (for example "HEIC 12 MP to JPEG q80" "pixpress effort 0
baseline"). Each round times the peer, then the variant, so both see the same
minute of a noisy machine; the paired ratio is the median of the rounds' ratios
(peer time over pixpress time: above 1, pixpress is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time

import bench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("row")
    parser.add_argument("implementation")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    calls = bench.row_calls(args.row)
    peer_name = next(iter(calls))
    peer, ours = calls[peer_name], calls[args.implementation]
    peer(), ours()
    times = []
    for _ in range(args.rounds):
        pair = []
        for fn in (peer, ours):
            start = time.perf_counter()
            fn()
            pair.append(time.perf_counter() - start)
        times.append(pair)
    peer_ms = statistics.median(t[0] for t in times) * 1000
    ours_ms = statistics.median(t[1] for t in times) * 1000
    paired = statistics.median(t[0] / t[1] for t in times)
    print(f"{args.row}: {peer_name} {peer_ms:.0f} ms, {args.implementation} {ours_ms:.0f} ms, "
          f"ratio of medians {peer_ms / ours_ms:.2f}, paired {paired:.2f} ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
