"""An output does not depend on how many threads made it: a batch, a Ray
task and a retry of either on another machine write the same bytes. Each
format is encoded in child processes with RAYON_NUM_THREADS 1, 2 and 3."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", "../shared/corpus"))
SOURCE = sorted((CORPUS / "jpeg").glob("*.jpg"))[2]

ENCODE = (
    "import hashlib, sys, pixpress\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "out = pixpress.compress(data, format=sys.argv[2], resize='1024x1024')\n"
    "print(hashlib.sha256(bytes(out)).hexdigest())\n"
)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_the_bytes_do_not_depend_on_the_thread_count(fmt):
    digests = set()
    for threads in ("1", "2", "3"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", ENCODE, str(SOURCE), fmt], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1, f"{fmt}: {len(digests)} different outputs over 1, 2 and 3 threads"
