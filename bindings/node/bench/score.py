"""SSIMULACRA2 of encoded files against the photo (full) or its Lanczos 720x588 resize.
usage: score.py PHOTO REF=FILE ...  ->  JSON {FILE: score}"""
import io
import json
import sys
import tempfile
from pathlib import Path

from PIL import Image
from ssimulacra2 import compute_ssimulacra2

photo = Image.open(sys.argv[1]).convert("RGB")
refs = {"full": photo, "resize": photo.resize((720, 588), Image.Resampling.LANCZOS)}
scores = {}
with tempfile.TemporaryDirectory() as tmp:
    for arg in sys.argv[2:]:
        kind, file = arg.split("=", 1)
        ref = refs[kind]
        ref_path, dist_path = Path(tmp) / "ref.png", Path(tmp) / "dist.png"
        ref.save(ref_path)
        Image.open(io.BytesIO(Path(file).read_bytes())).convert("RGB").save(dist_path)
        scores[file] = compute_ssimulacra2(str(ref_path), str(dist_path))
print(json.dumps(scores))
