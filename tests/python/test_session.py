"""pixpress.Session from Python: run, resume, progress as a callback and as an
iterator, cancellation, failures and retry; outputs judged by Pillow."""

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image as PILImage

import pixpress

CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", Path(__file__).resolve().parents[2] / "../shared/corpus"))


@pytest.fixture
def job(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(CORPUS / "gif", src / "gif")
    for name in ("hopper.jpg", "Canon_40D.jpg"):
        shutil.copy(CORPUS / "jpeg" / name, src / name)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    return src, tmp_path / "out"


def test_run_then_resume_verifies_everything(job):
    src, out = job
    session = pixpress.Session([src], out, format="webp", quality=70, resize=(64, 64), jobs=2)
    total = len(session)
    reports = []
    status = session.run(reports.append)
    assert status["total"] == total and status["pending"] == 0
    assert status["failed"] == 1 and status["done"] == total - 1
    outcomes = {Path(r["input"]).name: r["outcome"] for r in reports}
    assert outcomes["broken.jpg"] == "failed"
    assert [f["code"] for f in session.failures()] == ["PXP_ERR_TRUNCATED"]  # a JPEG header cut short
    for r in reports:
        if r["outcome"] == "compressed":
            with PILImage.open(r["output"]) as im:  # the independent judge reads every output
                assert im.format == "WEBP" and max(im.size) <= 64
    # One handle at a time: another is refused at once until this one closes.
    with pytest.raises(pixpress.FileError, match="in use by process"):
        pixpress.Session.open(out / ".pixpress-session")
    session.close()
    with pytest.raises(pixpress.InvalidArgumentError, match="closed"):
        session.failures()
    again = pixpress.Session.open(out / ".pixpress-session")
    second = [r["outcome"] for r in again]  # iterating runs it in a thread
    assert second.count("verified") == total - 1 and "compressed" not in second


def test_leaving_the_iterator_early_cancels_and_keeps_what_finished(job):
    src, out = job
    session = pixpress.Session([src], out, format="png", jobs=1)
    for n, report in enumerate(session, 1):
        if n == 2:
            break
    status = session.status()
    assert status["done"] + status["failed"] >= 2 and status["pending"] > 0
    session.close()
    with pixpress.Session([src], out, format="png", jobs=1) as resumed:
        status = resumed.run()
    assert status["pending"] == 0


def test_callback_stop_exception_and_retry(job):
    src, out = job
    session = pixpress.Session([src], out, format="jpeg")
    with pytest.raises(pixpress.CancelledError):
        session.run(lambda r: False)

    def boom(report):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        session.run(boom)
    session.run()
    (src / "broken.jpg").write_bytes((CORPUS / "jpeg" / "hopper.jpg").read_bytes())
    assert session.retry_failed() == 1
    assert session.run()["failed"] == 0
    assert PILImage.open(out / "broken.jpg").size == PILImage.open(src / "broken.jpg").size


def test_bad_options_and_a_different_job(job):
    src, out = job
    with pytest.raises(pixpress.InvalidArgumentError, match="quality"):
        pixpress.Session([src], out, quality=500)
    pixpress.Session([src], out, format="webp").run()
    with pytest.raises(pixpress.InvalidArgumentError, match="different job"):
        pixpress.Session([src], out, format="avif")
