"""Hostile file systems and hostile sizes: outputs that would replace inputs,
planted symlinks, symlink loops, huge resize targets, concurrent runs.

Every input is built on the fly (Pillow writes the images); the judges are
the file system itself (inode, content hash, mode) and Pillow for pixels.
Runs the `pixpress` binary (PIXPRESS_BIN) and the Python package.
"""

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))


def run(*args, timeout=120):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def photo(path, size=(64, 48), color=(200, 60, 30), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, fmt)
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digests(root):
    return {p.relative_to(root): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_batch_into_its_own_input_directory_is_refused(tmp_path):
    photos = tmp_path / "photos"
    photo(photos / "a.jpg")
    photo(photos / "sub" / "b.jpg", color=(10, 90, 200))
    before = tree_digests(photos)
    for spelled in (photos, tmp_path / "photos" / "." / "sub" / ".."):
        for command in ("batch", "compress"):
            r = run(command, photos, "-o", spelled, "-f", "jpeg")
            assert r.returncode == 2, (command, r.stdout, r.stderr)
            assert "is the input directory" in r.stderr
    assert tree_digests(photos) == before


def test_an_output_never_replaces_its_input(tmp_path):
    src = photo(tmp_path / "x.jpg")
    before = digest(src)
    inode = src.stat().st_ino
    r = run("compress", src, "-o", tmp_path, "-f", "jpeg", "--json")
    assert r.returncode == 1, r.stderr
    result = json.loads(r.stdout)
    assert result["files"][0]["code"] == "PXP_ERR_INVALID_ARGUMENT"
    assert "never replaces an input" in result["files"][0]["error"]
    assert digest(src) == before and src.stat().st_ino == inode
    # The library faces' compress_file obeys the same rule, through a symlink too.
    import pixpress

    (tmp_path / "link.jpg").symlink_to(src)
    for dst in (src, tmp_path / "link.jpg", tmp_path / "." / "x.jpg"):
        with pytest.raises(pixpress.InvalidArgumentError, match="never replaces an input"):
            pixpress.compress_file(src, dst, format="jpeg")
    assert digest(src) == before and src.stat().st_ino == inode
    # Another format beside it is fine.
    r = run("compress", src, "-o", tmp_path, "-f", "webp")
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "x.webp").size == (64, 48)


def test_an_output_that_is_a_symlink_to_an_input_is_refused(tmp_path):
    src = photo(tmp_path / "in" / "x.png", fmt="PNG")
    before = digest(src)
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.png").symlink_to(src)
    r = run("compress", src, "-o", out, "-f", "png", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["files"][0]["code"] == "PXP_ERR_INVALID_ARGUMENT"
    assert digest(src) == before


def test_a_symlink_at_the_output_path_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    src = photo(tmp_path / "in" / "x.jpg")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.webp").symlink_to(victim)
    r = run("compress", src, "-o", out, "-f", "webp")
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious"
    assert not (out / "x.webp").is_symlink()
    assert Image.open(out / "x.webp").size == (64, 48)


def test_a_symlink_planted_at_the_temporary_name_is_never_written_through(tmp_path):
    """The temporary file beside an output was `.NAME.<pid>-<n>.pxp-tmp`, a counter
    after the pid, opened following links: a symlink planted under the next name
    made the write go to the link's target. Names are unpredictable now, created
    exclusively without following a link, so the planted links are left alone."""
    import pixpress

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    src = photo(tmp_path / "in" / "x.jpg")
    out = tmp_path / "out"
    out.mkdir()
    planted = [out / f".x.webp.{os.getpid()}-{n}.pxp-tmp" for n in range(20000)]
    for link in planted:
        link.symlink_to(victim)
    pixpress.compress_file(str(src), str(out / "x.webp"), format="webp")
    assert victim.read_bytes() == b"precious"
    assert all(link.is_symlink() for link in planted)
    assert Image.open(out / "x.webp").size == (64, 48)


def test_output_tree_inside_the_input_tree_is_skipped_by_real_path(tmp_path):
    photos = tmp_path / "photos"
    photo(photos / "a.jpg")
    (tmp_path / "alias").symlink_to(photos)
    # The output spelled through the alias is still inside the input tree.
    for _ in range(2):
        r = run("compress", photos, "-o", tmp_path / "alias" / "out", "-f", "webp", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["summary"]["files"] == 1


def test_symlink_loops_and_linked_directories_walk_once_in_compress_and_batch(tmp_path):
    photos = tmp_path / "photos"
    photo(photos / "a" / "x.jpg")
    (photos / "a" / "loop").symlink_to(photos)
    (photos / "a" / "self").symlink_to(".")
    elsewhere = tmp_path / "elsewhere"
    photo(elsewhere / "y.png", fmt="PNG")
    (photos / "linked").symlink_to(elsewhere)
    (photos / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    r = run("compress", photos, "-o", tmp_path / "c", "-f", "webp", "--json", timeout=60)
    assert r.returncode == 1, r.stderr  # the dangling link fails alone
    files = json.loads(r.stdout)["files"]
    ok = sorted(Path(f["input"]).relative_to(photos).as_posix() for f in files if "error" not in f)
    failed = [f for f in files if "error" in f]
    assert ok == ["a/x.jpg", "linked/y.png"]
    assert len(failed) == 1 and failed[0]["code"] == "PXP_ERR_IO"
    r = run("batch", photos, "-o", tmp_path / "b", "-f", "webp", timeout=60)
    assert r.returncode == 1, r.stderr
    batch = sorted(p.relative_to(tmp_path / "b").as_posix() for p in (tmp_path / "b").rglob("*.webp"))
    assert batch == ["a/x.webp", "linked/y.webp"]


def test_huge_resize_target_is_a_typed_limit_error_not_an_abort(tmp_path):
    src = photo(tmp_path / "tiny.png", size=(8, 8), fmt="PNG")
    r = run("compress", src, "-o", tmp_path / "out", "--resize", "60000x60000", "--fit", "exact", "--json")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert json.loads(r.stdout)["files"][0]["code"] == "PXP_ERR_LIMIT_EXCEEDED"
    import pixpress

    with pytest.raises(pixpress.LimitExceededError):
        pixpress.compress(src.read_bytes(), resize="60000x60000", fit="exact")
    with pytest.raises(pixpress.LimitExceededError):
        pixpress.compress(src.read_bytes(), resize="200000x", enlarge=True)


def test_meta_write_in_place_keeps_mode(tmp_path):
    src = tmp_path / "x.jpg"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(src, exif=Image.Exif())
    os.chmod(src, 0o640)
    r = run("meta", "write", src, "--field", "EXIF:IFD0:Artist=Jane")
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(src.stat().st_mode) == 0o640


def test_two_sessions_on_one_state_are_refused_naming_the_holder(tmp_path):
    import pixpress

    photo(tmp_path / "in" / "a.jpg")
    session = pixpress.Session([tmp_path / "in"], tmp_path / "out", format="webp")
    r = run("batch", tmp_path / "in", "-o", tmp_path / "out", "-f", "webp")
    assert r.returncode == 2, r.stderr
    assert f"in use by process {os.getpid()}" in r.stderr
    # Its status can still be read, without the lock and without writing.
    r = run("batch", "--status", tmp_path / "out", "--json")
    assert json.loads(r.stdout)["summary"]["files"] == 1, r.stdout
    del session
    import gc

    gc.collect()
    r = run("batch", tmp_path / "in", "-o", tmp_path / "out", "-f", "webp")
    assert r.returncode == 0, r.stderr


def test_a_session_removes_only_abandoned_temporary_files(tmp_path):
    photo(tmp_path / "in" / "a.jpg")
    out = tmp_path / "out"
    out.mkdir()
    live = out / f".b.webp.{os.getpid()}-0123456789abcdef.pxp-tmp"
    live.write_bytes(b"being written")
    dead = out / ".c.webp.2147483646-0123456789abcdef.pxp-tmp"
    dead.write_bytes(b"left by a crash")
    r = run("batch", tmp_path / "in", "-o", out, "-f", "webp")
    assert r.returncode == 0, r.stderr
    assert live.exists() and not dead.exists()


def in_subprocess(code, timeout=120):
    """Runs `code` in a fresh interpreter; a hang fails the test instead of the suite."""
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("hung")
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_session_status_and_len_from_the_progress_callback_do_not_deadlock(tmp_path):
    for i in range(4):
        photo(tmp_path / "in" / f"{i}.jpg", color=(i * 40, 20, 90))
    out = in_subprocess(f"""
import pixpress
s = pixpress.Session([{str(tmp_path / 'in')!r}], {str(tmp_path / 'out')!r}, format="webp", jobs=1)
seen = []
def progress(p):
    seen.append((s.status()["done"], len(s)))
    try:
        s.failures()
    except pixpress.InvalidArgumentError as e:
        seen.append("busy")
s.run(progress)
print(seen)
""", timeout=60)
    seen = eval(out)
    assert [x for x in seen if x != "busy"] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert seen.count("busy") == 4


def test_compress_from_an_interceptor_under_a_memory_budget_finishes(tmp_path):
    src = photo(tmp_path / "a.jpg", size=(640, 480))
    out = in_subprocess(f"""
import pixpress
pixpress.set_memory_budget(1)
data = open({str(src)!r}, "rb").read()
inner = []
def edit(e):
    inner.append(len(pixpress.compress(data, format="webp")))
out = pixpress.compress(data, format="jpeg", interceptor=edit)
print(len(out) > 0 and inner[0] > 0)
""", timeout=60)
    assert out.strip() == "True"


def test_a_process_forked_after_its_first_call_still_compresses(tmp_path):
    src = photo(tmp_path / "a.png", size=(1600, 1200), fmt="PNG")
    out = in_subprocess(f"""
import os, pixpress
data = open({str(src)!r}, "rb").read()
pixpress.compress(data, format="jpeg", resize="800x")
pid = os.fork()
if pid == 0:
    out = pixpress.compress(data, format="jpeg", resize="400x")
    os._exit(0 if out.width == 400 else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
""", timeout=60)
    assert out.strip() == "0"
