#!/usr/bin/env python3
"""Crash tests for `pixpress batch`: SIGKILL at random moments, resume, compare.

The harness builds a mixed input set (synthetic images made with Pillow and
corpus files, plus one broken file), runs the batch once without interruption
as the reference, then runs it again into another directory and kills it with
SIGKILL over and over: at random moments (seeded) and at failpoints inside the
write-fsync-rename window and inside checkpoint log appends
(`PIXPRESS_FAILPOINT`). After each kill it resumes. At the end:

- every output is byte-identical to the reference run's, nothing is missing or
  extra, and no temporary file is left;
- the session reports the same done and failed counts;
- no task whose completion was recorded (`end` in `PIXPRESS_SESSION_TRACE`)
  was ever compressed again, and at each kill at most `--jobs` + 1 tasks were
  in flight: the work redone is bounded by the work in flight.

Then the torn-state test: the checkpoint log of a finished small job is cut at
every byte offset inside its last records and at random earlier offsets;
each time the job resumes and its outputs match the reference.

Then the huge-image test: a 24-megapixel photo-like image among small files,
written as a striped JPEG (`--strip-pixels`), is killed mid-image over and
over (at random moments and right after a strip is handed to the state), and
the log is cut inside its last strip records; every resume ends with a file
byte-identical to the uninterrupted run's, and the strips encoded over all
runs are at most the image's strips plus one per kill.

    python3 tests/crash/crash_test.py            # full: 300 files, 60 kills
    python3 tests/crash/crash_test.py --short    # the form run by `make test`
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = os.environ.get(
    "PIXPRESS_BIN",
    str(Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/pixpress-target")) / "release/pixpress"),
)
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", Path(__file__).resolve().parents[2] / "../shared/corpus"))
OPTIONS = ["-f", "webp", "-q", "75"]
FAILPOINTS = ["output.before_rename", "output.after_rename", "log.mid_append"]


def make_inputs(dest: Path, count: int, rng: random.Random) -> None:
    """Synthetic PNG/JPEG images plus small corpus files, and one broken file."""
    from PIL import Image

    dest.mkdir(parents=True)
    corpus = []
    for sub in ("jpeg", "png", "webp", "gif"):
        folder = CORPUS / sub
        if folder.is_dir():
            corpus += sorted(p for p in folder.iterdir() if p.is_file() and p.stat().st_size < 400_000)
    rng.shuffle(corpus)
    taken = corpus[: count // 5]
    for k, src in enumerate(taken):
        shutil.copy(src, dest / f"corpus_{k:03d}_{src.name}")
    for k in range(count - len(taken) - 1):
        w, h = rng.randint(64, 1200), rng.randint(64, 900)
        seed = rng.randrange(1 << 30)
        img = Image.effect_mandelbrot((w, h), (-2 + seed % 7 / 10, -1.2, 1, 1.2), 30 + seed % 50).convert("RGB")
        img = Image.merge("RGB", (img.getchannel(0), img.getchannel(0).point(lambda v: (v * 3 + seed) % 256), img.getchannel(0).rotate(90, expand=False)))
        sub = dest / f"dir{k % 4}"
        sub.mkdir(exist_ok=True)
        if k % 2:
            img.save(sub / f"synthetic_{k:03d}.jpg", quality=90)
        else:
            img.save(sub / f"synthetic_{k:03d}.png")
    (dest / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)


def batch(inputs: Path, out: Path, jobs: int, env=None, timeout=600, options=OPTIONS) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN, "batch", str(inputs), "-o", str(out), "-j", str(jobs), "--json", *options],
        env=env, capture_output=True, timeout=timeout,
    )


def outputs(out: Path) -> dict:
    """Relative path -> bytes of every file below `out` except the session state."""
    files = {}
    for p in out.rglob("*"):
        if p.is_file() and ".pixpress-session" not in p.parts:
            files[str(p.relative_to(out))] = p.read_bytes()
    return files


def summary(out: Path) -> dict:
    res = subprocess.run([BIN, "batch", "--status", str(out), "--json"], capture_output=True, check=False)
    return json.loads(res.stdout)["summary"]


def read_trace(path: Path):
    """Tasks started and ended in one run (strip lines are counted by `strips_encoded`)."""
    started, ended = set(), set()
    if path.exists():
        for line in path.read_text().splitlines():
            what, _, index = line.partition(" ")
            if what in ("start", "end"):
                (started if what == "start" else ended).add(int(index))
    return started, ended


def strips_encoded(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if line.startswith("strip "))


def check_same(ref: dict, got: dict, what: str) -> None:
    missing = sorted(set(ref) - set(got))
    extra = sorted(set(got) - set(ref))
    differ = sorted(k for k in set(ref) & set(got) if ref[k] != got[k])
    assert not missing, f"{what}: missing outputs {missing[:5]}"
    assert not extra, f"{what}: unexpected files {extra[:5]}"
    assert not differ, f"{what}: outputs differ from the reference: {differ[:5]}"


def crash_loop(work: Path, inputs: Path, ref: dict, ref_summary: dict, kills: int, jobs: int, rng: random.Random, full_seconds: float) -> dict:
    out = work / "crash"
    ended_before, started_before = set(), set()
    stats = {"kills": 0, "failpoint_kills": 0, "in_flight_max": 0, "redone": 0, "runs": 0, "rounds": 0}
    run = 0
    while True:
        run += 1
        trace = work / f"trace.{run}"
        env = dict(os.environ, PIXPRESS_SESSION_TRACE=str(trace))
        killing = stats["kills"] < kills
        use_failpoint = killing and rng.random() < 0.35
        if use_failpoint:
            point = rng.choice(FAILPOINTS)
            env["PIXPRESS_FAILPOINT"] = f"{point}:{rng.randint(1, 40)}"
        proc = subprocess.Popen(
            [BIN, "batch", str(inputs), "-o", str(out), "-j", str(jobs), "--json", *OPTIONS],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if killing and not use_failpoint:
            time.sleep(rng.uniform(0.0, full_seconds * 0.5))
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=600)
        stats["runs"] += 1
        started, ended = read_trace(trace)
        again = started & ended_before
        assert not again, f"run {run}: tasks {sorted(again)[:5]} were compressed again after their completion was recorded"
        stats["redone"] += len(started & started_before)
        started_before |= started
        if proc.returncode == -signal.SIGKILL:
            stats["kills"] += 1
            stats["failpoint_kills"] += use_failpoint
            in_flight = started - ended
            stats["in_flight_max"] = max(stats["in_flight_max"], len(in_flight))
            # Each worker computes one task or hands one over; the coordinator
            # holds at most one more that it is writing to the state.
            assert len(in_flight) <= jobs + 1, f"run {run}: {len(in_flight)} tasks in flight with {jobs} workers"
        else:
            # The job ran to its end (a kill came too late, or a failpoint was
            # never reached): check it, and start a new round while kills are left.
            assert proc.returncode in (0, 1), f"run {run}: exit {proc.returncode}: {err.decode()[-2000:]}"
            check_finished(out, ref, ref_summary, f"round {stats['rounds']}")
            stats["rounds"] += 1
            if not killing:
                break
            shutil.rmtree(out)
            ended_before, started_before = set(), set()
            continue
        ended_before |= ended
    return stats


def check_finished(out: Path, ref: dict, ref_summary: dict, what: str) -> None:
    got = outputs(out)
    temps = [k for k in got if k.endswith(".pxp-tmp")]
    assert not temps, f"{what}: temporary files left: {temps[:5]}"
    check_same(ref, got, what)
    s = summary(out)
    for key in ("files", "done", "failed", "pending", "bytes_out"):
        assert s[key] == ref_summary[key], f"{what}: {key}: {s[key]} != reference {ref_summary[key]}"


def torn_state(work: Path, rng: random.Random, offsets: int, jobs: int) -> int:
    """Cuts the log of a finished small job at many offsets; each resume must end right."""
    inputs = work / "torn_in"
    make_inputs(inputs, 16, rng)
    ref_out = work / "torn_ref"
    assert batch(inputs, ref_out, jobs).returncode == 1  # the broken file fails
    ref = outputs(ref_out)
    pristine = work / "torn_pristine"
    shutil.copytree(ref_out, pristine)
    state = pristine / ".pixpress-session"
    log = next(state.glob("log.*"))
    size = log.stat().st_size
    cuts = set(range(max(8, size - 300), size + 1))
    cuts |= {rng.randint(8, size) for _ in range(offsets)}
    cuts = sorted(cuts)
    if len(cuts) > offsets:
        cuts = sorted(rng.sample(cuts[:-300], max(0, offsets // 3)) + cuts[-300:][:: max(1, 300 // offsets)])
    for cut in cuts:
        trial = work / "torn_trial"
        shutil.rmtree(trial, ignore_errors=True)
        shutil.copytree(pristine, trial)
        trial_log = trial / ".pixpress-session" / log.name
        with open(trial_log, "r+b") as f:
            f.truncate(cut)
        res = batch(inputs, trial, jobs)
        assert res.returncode == 1, f"cut at {cut}: exit {res.returncode}: {res.stderr.decode()[-1000:]}"
        check_same(ref, outputs(trial), f"log cut at {cut} of {size}")
    return len(cuts)


HUGE_OPTIONS = ["-f", "jpeg", "-q", "80", "--strip-pixels", "20000000"]


def make_huge_inputs(dest: Path, rng: random.Random) -> tuple:
    """A 6000x4000 photo-like JPEG (fractal structure plus grain) and a few small files."""
    from PIL import Image, ImageChops

    dest.mkdir(parents=True)
    base = Image.effect_mandelbrot((1500, 1000), (-2.0, -1.1, 0.9, 1.1), 60).resize((6000, 4000), Image.BICUBIC)
    grain = Image.effect_noise((6000, 4000), 24)
    r = ImageChops.add(base, grain, 1.0, -64)
    g = base.point(lambda v: (v * 3 + 40) % 256)
    b = ImageChops.difference(base.rotate(180), grain)
    Image.merge("RGB", (r, g, b)).save(dest / "huge.jpg", quality=90)
    for k in range(5):
        Image.effect_mandelbrot((400 + 50 * k, 300), (-2, -1.2, 1, 1.2), 40 + k).convert("RGB").save(dest / f"small_{k}.png")
    return (6000, 4000)


def huge_image(work: Path, rng: random.Random, kills: int, jobs: int) -> str:
    from PIL import Image

    inputs = work / "huge_in"
    size = make_huge_inputs(inputs, rng)
    ref_out = work / "huge_ref"
    started = time.monotonic()
    trace = work / "huge_trace.ref"
    res = batch(inputs, ref_out, jobs, env=dict(os.environ, PIXPRESS_SESSION_TRACE=str(trace)), options=HUGE_OPTIONS)
    full_seconds = time.monotonic() - started
    assert res.returncode == 0, f"huge reference run: exit {res.returncode} {res.stderr.decode()[-2000:]}"
    strips = strips_encoded(trace)
    assert strips >= 16, f"the huge image was cut into {strips} strips"
    ref = outputs(ref_out)
    with Image.open(ref_out / "huge.jpg") as img:
        assert img.size == size and img.format == "JPEG", (img.size, img.format)
        img.load()
    out = work / "huge_crash"
    encoded, done_kills, cut_checks, run = 0, 0, 0, 0
    while True:
        run += 1
        trace = work / f"huge_trace.{run}"
        env = dict(os.environ, PIXPRESS_SESSION_TRACE=str(trace))
        killing = done_kills < kills
        aimed = killing and rng.random() < 0.5
        if aimed:
            env["PIXPRESS_FAILPOINT"] = f"strip.sent:{rng.randint(1, 6)}"
        proc = subprocess.Popen(
            [BIN, "batch", str(inputs), "-o", str(out), "-j", str(jobs), "--json", *HUGE_OPTIONS],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if killing and not aimed:
            time.sleep(rng.uniform(0.0, full_seconds))
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=600)
        encoded += strips_encoded(trace)
        if proc.returncode != -signal.SIGKILL:
            assert proc.returncode == 0, f"huge run {run}: exit {proc.returncode}: {err.decode()[-2000:]}"
            if not killing:
                break
            check_same(ref, outputs(out), f"huge image, run {run}")
            continue
        done_kills += 1
        if aimed and cut_checks < 3:
            # Cut the log inside its tail (where the last strip records are);
            # the resume must still end with the reference file.
            cut_checks += 1
            log = next((out / ".pixpress-session").glob("log.*"))
            length = log.stat().st_size
            for cut in sorted(rng.sample(range(max(8, length - 300_000), length), 3)):
                trial = work / "huge_cut"
                shutil.rmtree(trial, ignore_errors=True)
                shutil.copytree(out, trial)
                with open(trial / ".pixpress-session" / log.name, "r+b") as f:
                    f.truncate(cut)
                res = batch(inputs, trial, jobs, options=HUGE_OPTIONS)
                assert res.returncode == 0, f"huge cut at {cut}: {res.stderr.decode()[-1000:]}"
                check_same(ref, outputs(trial), f"huge image, log cut at {cut} of {length}")
    got = outputs(out)
    assert not [k for k in got if k.endswith(".pxp-tmp")], "temporary files left"
    check_same(ref, got, "huge image")
    assert encoded <= strips + done_kills, f"{encoded} strips encoded over {run} runs for {strips} strips and {done_kills} kills"
    return (f"huge image: {size[0]}x{size[1]} in {strips} strips, reference {full_seconds:.2f} s; {done_kills} kills "
            f"over {run} runs; {encoded} strip encodes in all (bound {strips + done_kills}); output identical")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI form: fewer files, kills and cuts")
    parser.add_argument("--files", type=int)
    parser.add_argument("--kills", type=int)
    parser.add_argument("--cuts", type=int)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    files = args.files or (80 if args.short else 300)
    kills = args.kills or (12 if args.short else 60)
    cuts = args.cuts or (40 if args.short else 400)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="pxp-crash-"))
    try:
        inputs = work / "in"
        make_inputs(inputs, files, rng)
        started = time.monotonic()
        res = batch(inputs, work / "ref", args.jobs)
        full_seconds = time.monotonic() - started
        assert res.returncode == 1, f"reference run: exit {res.returncode} {res.stderr.decode()[-2000:]}"
        ref = outputs(work / "ref")
        ref_summary = summary(work / "ref")
        assert ref_summary["failed"] == 1 and ref_summary["done"] == files - 1, ref_summary
        stats = crash_loop(work, inputs, ref, ref_summary, kills, args.jobs, rng, full_seconds)
        print(f"crash: {files} files, reference run {full_seconds:.2f} s; {stats['kills']} kills "
              f"({stats['failpoint_kills']} at failpoints) over {stats['runs']} runs in {stats['rounds']} complete jobs; "
              f"at most {stats['in_flight_max']} in flight at a kill; {stats['redone']} tasks redone; outputs identical")
        n = torn_state(work, rng, cuts, args.jobs)
        print(f"torn state: log cut at {n} offsets; every resume matched the reference")
        print(huge_image(work, rng, 6 if args.short else 24, args.jobs))
    finally:
        if args.keep:
            print(f"work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
