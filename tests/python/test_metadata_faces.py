"""The metadata calls of the Python face, judged by exiftool: read, policy
report, diff."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import pixpress

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
pytestmark = pytest.mark.skipif(not shutil.which("exiftool") or not CORPUS.is_dir(), reason="needs exiftool and the corpus")


def exiftool(path, *tags):
    out = subprocess.run(["exiftool", "-j", "-n", *tags, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def test_read_metadata_agrees_with_exiftool():
    path = CORPUS / "jpeg/iptc.jpg"
    fields = {(f["block"], f["name"]): f["value"] for f in pixpress.read_metadata(path.read_bytes())}
    judge = exiftool(path, "-Make", "-Model", "-City", "-Keywords", "-ExifImageWidth")
    assert fields[("EXIF", "Make")] == judge["Make"]
    assert fields[("EXIF", "Model")] == judge["Model"]
    assert fields[("EXIF", "ExifImageWidth")] == str(judge["ExifImageWidth"])
    assert fields[("IPTC", "City")] == judge["City"]
    assert fields[("IPTC", "Keywords")] == "; ".join(map(str, judge["Keywords"]))


def test_web_policy_reports_what_it_removed(tmp_path):
    path = CORPUS / "jpeg/gps_DSCN0010.jpg"
    out = pixpress.compress(path.read_bytes(), format="webp", metadata="web")
    removed = out.metadata["removed"]
    assert "EXIF:GPS:GPSLatitude" in removed and "EXIF:ExifIFD:MakerNote" in removed
    dest = tmp_path / "out.webp"
    dest.write_bytes(bytes(out))
    tags = exiftool(dest, "-a", "-G1", "-gps:all", "-xmp:all")
    assert not [k for k in tags if "GPS" in k], tags
    # What stays, stays: the camera's make from the input.
    assert exiftool(dest, "-Make")["Make"] == exiftool(path, "-Make")["Make"]


def test_custom_rules_and_their_errors():
    data = (CORPUS / "jpeg/iptc.jpg").read_bytes()
    out = pixpress.compress(data, format="jpeg", metadata="keep,-location,-Make")
    assert {"IPTC:City", "IPTC:Country-PrimaryLocationName", "EXIF:IFD0:Make"} <= set(out.metadata["removed"])
    with pytest.raises(ValueError, match="Nonsense"):
        pixpress.compress(data, format="jpeg", metadata="keep,-Nonsense")


def test_diff_shows_iptc_moved_to_xmp():
    data = (CORPUS / "jpeg/iptc.jpg").read_bytes()
    webp = pixpress.compress(data, format="webp")
    assert any(m.startswith("IPTC:City -> XMP:photoshop:City") for m in webp.metadata["moved"])
    diff = pixpress.diff_metadata(data, webp)
    moved = {(m["before"]["name"], m["after"]["group"], m["after"]["name"]) for m in diff["moved"]}
    assert ("City", "photoshop", "City") in moved
    assert not diff["added"]
    assert {f["group"] for f in diff["removed"]} == {"IFD1"}  # the stale thumbnail
