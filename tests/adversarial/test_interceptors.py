"""Interceptors are sandboxed: a deadline (`interceptor_timeout`) after which
the call fails with PXP_ERR_INTERCEPTOR and writes nothing, and a
KeyboardInterrupt raised inside one stops the script as Python means it to."""

import io
import time

import pixpress
import pytest
from PIL import Image


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_an_interceptor_past_its_deadline_fails_and_writes_nothing(tmp_path):
    src = tmp_path / "in.jpg"
    src.write_bytes(jpeg())
    dest = tmp_path / "out.webp"

    def slow(edit):
        time.sleep(3)

    started = time.monotonic()
    with pytest.raises(pixpress.InterceptorError, match="did not return within"):
        pixpress.compress_file(src, dest, format="webp", interceptor=slow, interceptor_timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jpg"]
    # Within its deadline the same interceptor's edits are written.
    def quick(edit):
        edit.set("EXIF:IFD0:Artist", "on time")

    out = pixpress.compress(jpeg(), format="jpeg", interceptor=quick, interceptor_timeout="2s")
    assert b"on time" in bytes(out)
    with pytest.raises(pixpress.InvalidArgumentError):
        pixpress.compress(jpeg(), format="jpeg", interceptor=quick, interceptor_timeout=0)


def test_keyboard_interrupt_in_an_interceptor_propagates():
    def stop(edit):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pixpress.compress(jpeg(), format="jpeg", interceptor=stop)
    # An ordinary exception is still an InterceptorError.
    def refuse(edit):
        raise ValueError("no")

    with pytest.raises(pixpress.InterceptorError, match="no"):
        pixpress.compress(jpeg(), format="jpeg", interceptor=refuse)
