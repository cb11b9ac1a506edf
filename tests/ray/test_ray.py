"""pixpress.ray on a local Ray cluster (``ray.init(num_cpus=2)``), judged by
``pixpress batch`` (same options: the outputs must be byte-identical, under
the same names), Pillow (every output opens, at the size asked for) and the
file system (a finished output is never rewritten).

Reads ``PIXPRESS_CORPUS`` and ``PIXPRESS_BIN`` (the CLI that writes the
reference outputs).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray
from PIL import Image

import pixpress
import pixpress.ray as pray

CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", "../shared/corpus")).resolve()
BIN = os.environ.get("PIXPRESS_BIN", "target/release/pixpress")
FOLDERS = ["jpeg", "png", "gif", "tiff", "webp", "bad"]
OPTIONS = {"format": "webp", "quality": 75, "resize": "640x640"}


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def batch(inputs, out: Path, *args: str) -> dict:
    """The reference: `pixpress batch` with the same options, its JSON summary."""
    cmd = [BIN, "batch", *map(str, inputs), "-o", str(out), "--json", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def cli_args(options: dict) -> list[str]:
    return [a for k, v in options.items() for a in ("-s", f"{k}={v}")]


def outputs(root: Path) -> dict[str, bytes]:
    """Every output below `root` by relative path (state and manifest left out)."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in (".pixpress-session", pray.MANIFEST_DIR):
            found[str(relative)] = path.read_bytes()
    return found


def failures_of(summary: dict) -> set:
    return {(Path(path).name, code) for path, code, _ in summary["failures"]}


def batch_failures(report: dict) -> set:
    return {(Path(f["input"]).name, f["code"]) for f in report["failures"]}


def test_outputs_are_the_batch_outputs_and_bad_files_are_listed(tmp_path):
    inputs = [CORPUS / f for f in FOLDERS]
    reference = batch(inputs, tmp_path / "batch", *cli_args(OPTIONS))
    summary = pray.compress_dataset(inputs, tmp_path / "ray", **OPTIONS)

    expected, got = outputs(tmp_path / "batch"), outputs(tmp_path / "ray")
    assert expected, "the batch wrote nothing"
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], f"{name} differs from pixpress batch's"
        with Image.open(tmp_path / "ray" / name) as image:
            assert image.format == "WEBP"
            assert max(image.size) <= 640
    # Every bad file is listed with the code the batch gives it; the job goes on.
    assert failures_of(summary) == batch_failures(reference)
    assert {code for _, code in failures_of(summary)} - {"PXP_ERR_IO"}, "bad/ files carry typed codes"
    assert all(Path(p).parent.name == "bad" for p, _, _ in summary["failures"])
    assert summary["compressed"] == len(expected)
    assert summary["failed"] == len(summary["failures"])

    # The manifest holds one record per input, with the output's size and CRC32C.
    manifest = pray.read_manifest(tmp_path / "ray")
    assert len(manifest) == summary["files"]
    for record in manifest.values():
        if record["status"] == "done":
            data = got[record["output"]]
            assert record["size"] == len(data)
            assert record["crc32c"] == pixpress._pixpress.output_checksum(data)
            assert record["input_blake3"] == pixpress._pixpress.input_hash(Path(record["input"]).read_bytes())
        else:
            assert record["code"].startswith("PXP_ERR_")

    # A second run redoes nothing, rewrites nothing.
    inodes = {n: (tmp_path / "ray" / n).stat().st_ino for n in got}
    again = pray.compress_dataset(inputs, tmp_path / "ray", **OPTIONS)
    assert again["compressed"] == 0
    assert again["skipped"] == summary["compressed"]
    assert {n: (tmp_path / "ray" / n).stat().st_ino for n in got} == inodes

    # An altered output is redone, and only it.
    victim = sorted(got)[0]
    (tmp_path / "ray" / victim).write_bytes(b"torn")
    third = pray.compress_dataset(inputs, tmp_path / "ray", **OPTIONS)
    assert third["compressed"] == 1
    assert (tmp_path / "ray" / victim).read_bytes() == expected[victim]

    # Other options are another job: nothing of this one counts as done.
    other = pray.compress_dataset([CORPUS / "png"], tmp_path / "ray", format="webp", quality=60)
    assert other["skipped"] == 0 and other["compressed"] > 0


def ray_actor_pids() -> list[int]:
    """The processes of the Compressor actors (their titles name the class)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmdline.startswith("ray::") and "Compressor" in cmdline:
                pids.append(int(entry.name))
    return pids


def test_a_worker_killed_mid_job_loses_nothing_and_redoes_nothing_done(tmp_path):
    options = {"format": "avif", "quality": 50, "resize": "1024x1024"}
    source = CORPUS / "jpeg"
    dest = tmp_path / "ray"
    result: dict = {}

    def run():
        try:
            result["summary"] = pray.compress_dataset(source, dest, rows_per_task=2, **options)
        except BaseException as e:  # re-raised below
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    # Wait for a finished block: a manifest part in place (not its temporary
    # file, which appears first) with records done.
    deadline = time.monotonic() + 120
    done: list = []
    while time.monotonic() < deadline and not done:
        done = [r for r in pray.read_manifest(dest).values() if r["status"] == "done"]
        time.sleep(0.05)
    assert done, "no block finished in time"
    # What was recorded done before the kill, with the identity of its output file.
    recorded = {r["output"]: (dest / r["output"]).stat().st_ino for r in done}
    victims = ray_actor_pids()
    assert victims, "no Compressor actor process found"
    os.kill(victims[0], signal.SIGKILL)
    thread.join(300)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    summary = result["summary"]
    assert summary["failed"] == 0, summary["failures"]

    reference = tmp_path / "batch"
    batch([source], reference, *cli_args(options))
    expected, got = outputs(reference), outputs(dest)
    assert sorted(got) == sorted(expected)
    assert all(got[n] == expected[n] for n in expected), "an output differs from pixpress batch's"
    assert recorded, "nothing was recorded before the kill"
    for name, inode in recorded.items():
        assert (dest / name).stat().st_ino == inode, f"{name} was recorded done, then written again"

    again = pray.compress_dataset(source, dest, **options)
    assert again["compressed"] == 0 and again["skipped"] == len(expected)


def test_inputs_from_a_pyarrow_filesystem_get_the_batch_names(tmp_path):
    import pyarrow.fs

    filesystem = pyarrow.fs.SubTreeFileSystem(str(CORPUS), pyarrow.fs.LocalFileSystem())
    summary = pray.compress_dataset("png", tmp_path / "ray", filesystem=filesystem, **OPTIONS)
    batch([CORPUS / "png"], tmp_path / "batch", *cli_args(OPTIONS))
    expected, got = outputs(tmp_path / "batch"), outputs(tmp_path / "ray")
    assert got == expected
    assert summary["compressed"] == len(expected)


def test_a_bad_option_fails_on_the_driver_before_ray_starts():
    code = (
        "import ray, pixpress, pixpress.ray as r\n"
        "try:\n"
        "    r.compress_dataset('in', 'out', quality='best')\n"
        "except pixpress.InvalidArgumentError as e:\n"
        "    print('refused:', e)\n"
        "print('ray started:', ray.is_initialized())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "refused:" in done.stdout and "quality" in done.stdout, done.stdout + done.stderr
    assert "ray started: False" in done.stdout


def test_pixpress_imports_without_ray():
    code = (
        "import sys\n"
        "sys.modules['ray'] = None\n"
        "import pixpress\n"
        "assert pixpress.compress\n"
        "try:\n"
        "    import pixpress.ray\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'pixpress[ray]'" in done.stdout
