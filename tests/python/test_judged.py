"""The pixpress CLI judged by independent decoders: Pillow for JPEG, PNG,
WebP, GIF and TIFF; pillow-heif (libheif) for HEIC; Pillow's own AVIF
plugin (libavif, which shares no code with libheif) for AVIF."""
import io
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import pillow_heif

# pillow-heif's wheel has no AV1 decoder; Pillow 11.2+ reads AVIF itself through libavif.
pillow_heif.register_heif_opener()

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "pixpress-target"))
BIN = Path(os.environ.get("PIXPRESS_BIN", TARGET / "release" / "pixpress"))


def manifest():
    """Rows of MANIFEST.tsv as dicts."""
    lines = (CORPUS / "MANIFEST.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


ROWS = manifest()
GOOD = [r for r in ROWS if not r["path"].startswith("bad/")]
BAD = [r["path"] for r in ROWS if r["path"].startswith("bad/")]
# The status each bad/ file must be refused with, shared by every face's tests.
BAD_STATUS = {
    line.split("\t")[0]: line.split("\t")[1]
    for line in (ROOT / "tests" / "bad_status.tsv").read_text().splitlines()
    if line and not line.startswith(("#", "path\t"))
}


def run_cli(*args, timeout=600):
    """Runs the pixpress CLI; returns the completed process."""
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def mad(a, b):
    """Mean absolute difference of two equally shaped arrays."""
    return float(np.abs(a.astype(np.int32) - b.astype(np.int32)).mean())


def to8(arr):
    """Rounds 16-bit samples to 8 bits as pixpress does; 8-bit input is returned as is."""
    if arr.dtype == np.uint8:
        return arr
    return ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


@pytest.fixture(scope="module")
def as_png(tmp_path_factory):
    """Every good corpus file converted once to PNG, pixels as stored (orientation kept)."""
    out = tmp_path_factory.mktemp("png")
    folders = [CORPUS / d for d in ("jpeg", "png", "webp", "gif", "tiff", "heic", "avif")]
    proc = run_cli("compress", *folders, "-o", out, "--format", "png", "--metadata", "strip",
                   "-s", "orientation=keep", "-s", "never_larger=false", "-e", "0", "--json", "--jobs", "2")
    report = json.loads(proc.stdout)
    return {Path(f["input"]).resolve(): f for f in report["files"]}


def ours(as_png, rel):
    """pixpress's decode of `rel`, read back from its PNG output."""
    entry = as_png[(CORPUS / rel).resolve()]
    assert "error" not in entry, entry
    with Image.open(entry["output"]) as im:
        im.load()
        return im


def compare(mine, theirs, tolerance, rel, premultiplied=False):
    """Compares two Pillow images in a common mode; color under zero alpha is ignored.
    With `premultiplied`, color is compared multiplied by alpha (for judges that only
    hold premultiplied color exactly)."""
    assert mine.size == theirs.size, f"{rel}: size {mine.size} != judge {theirs.size}"
    alpha = "A" in mine.getbands() or "A" in theirs.getbands() or "transparency" in theirs.info
    mode = "RGBA" if alpha else ("L" if mine.mode in ("L", "I;16", "I") and theirs.mode in ("L", "I;16", "I", "1") else "RGB")

    def array(im):
        if im.mode in ("I;16", "I") and mode == "L":
            return to8(np.asarray(im).astype(np.uint16))
        if im.mode in ("RGB", "RGBA") and mode in ("RGB", "RGBA") and np.asarray(im).dtype == np.uint8:
            return np.asarray(im.convert(mode))
        return np.asarray(im.convert(mode))

    a, b = array(mine), array(theirs)
    if mode == "RGBA":
        if premultiplied:
            a, b = (np.concatenate([(x[..., :3].astype(np.uint32) * x[..., 3:] + 127) // 255, x[..., 3:]], axis=-1) for x in (a, b))
        visible = (a[..., 3] > 0) & (b[..., 3] > 0)
        diff = mad(a[..., 3], b[..., 3]) + (mad(a[..., :3][visible], b[..., :3][visible]) if visible.any() else 0.0)
    else:
        diff = mad(a, b)
    assert diff <= tolerance, f"{rel}: mean abs diff {diff:.3f} > {tolerance}"


# Open disagreements with the judge, kept failing on purpose (strict xfail) until fixed.
KNOWN_BUGS = {
}
# Effort-0 JPEG (progressive) larger than Pillow's baseline optimize=True at q80. Empty since
# 2026-11-30: the three files once listed (30-type_error, iptc, BlueSquare_xmp; +3.8..5.4%) came
# within 0.4% once effort 0 wrote mozjpeg's progressive script and compact table segments.
LARGER_THAN_PILLOW = {}


def known(paths):
    """Parameters, with the known disagreements marked as strict expected failures."""
    return [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[p])) if p in KNOWN_BUGS else p for p in paths]


PILLOW_JUDGED = known([r["path"] for r in GOOD if r["path"].split("/")[0] in ("jpeg", "png", "webp", "gif", "tiff")])


def pillow_judge(rel):
    """Pillow's decode of `rel`, and whether it holds premultiplied TIFF alpha. Skips files
    Pillow reads differently by design (CMYK without the profile, 16-bit color truncated)
    or cannot open."""
    flags = next(r["flags"] for r in ROWS if r["path"] == rel)
    if "cmyk" in flags:
        pytest.skip("CMYK: pixpress converts through the ICC profile with lcms2; Pillow's convert ignores it")
    if "16bit" in flags and rel.startswith("png/") and "grayscale" not in flags:
        pytest.skip("Pillow reads 16-bit color PNG truncated to 8 bits (v>>8); pixpress rounds")
    try:
        theirs = Image.open(CORPUS / rel)
        theirs.load()
    except Exception as e:  # noqa: BLE001 - the judge's own limits
        pytest.skip(f"Pillow cannot open it: {e}")
    # Pillow reads premultiplied ("associated") 16-bit TIFF alpha by reducing to 8 bits
    # first and dividing after, which loses most of the color precision at low alpha;
    # only the premultiplied color is exact there, so that is what is compared.
    associated = theirs.format == "TIFF" and theirs.tag_v2.get(338) == (1,)
    return theirs, associated


@pytest.mark.parametrize("rel", PILLOW_JUDGED)
def test_decode_matches_pillow(as_png, rel):
    """Decoded pixels agree with Pillow's within a mean of 1 per channel."""
    theirs, associated = pillow_judge(rel)
    compare(ours(as_png, rel), theirs, 1.0, rel, premultiplied=associated)


HEIF_JUDGED = known([r["path"] for r in GOOD if r["path"].split("/")[0] in ("heic", "avif")])


@pytest.mark.parametrize("rel", HEIF_JUDGED)
def test_heif_decode_matches_libheif(as_png, rel):
    """HEIC and AVIF pixels agree with the judge within a mean of 2. Pillow's AVIF plugin
    reports `irot`/`imir` as an EXIF orientation instead of applying them, so the judge's
    image of a file with those boxes goes through exif_transpose; pixpress applies them while
    decoding and ignores EXIF/XMP orientation, as HEIF requires."""
    try:
        theirs = Image.open(CORPUS / rel)
        theirs.load()
        flags = next(r["flags"] for r in ROWS if r["path"] == rel)
        if theirs.format == "AVIF" and ("irot=" in flags or "imir=" in flags):
            theirs = ImageOps.exif_transpose(theirs)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"pillow-heif cannot open it: {e}")
    compare(ours(as_png, rel), theirs, 2.0, rel)


@pytest.mark.parametrize("rel", [f"jpeg/Landscape_{n}.jpg" for n in range(1, 9)] + ["webp/hopper_orientation_6.webp"])
def test_orientation_as_exif_transpose(tmp_path, rel):
    """With orientation applied, pixels equal Pillow's exif_transpose of the original."""
    proc = run_cli("compress", CORPUS / rel, "-o", tmp_path, "--format", "png", "--json")
    out = json.loads(proc.stdout)["files"][0]["output"]
    compare(Image.open(out), ImageOps.exif_transpose(Image.open(CORPUS / rel)), 1.0, rel)


def luma_psnr(a, b):
    """PSNR of the BT.601 luma planes of two images."""
    x = np.asarray(a.convert("L")).astype(float)
    y = np.asarray(b.convert("L")).astype(float)
    return 10 * np.log10(255**2 / max(((x - y) ** 2).mean(), 1e-12))


PHOTOS = [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=LARGER_THAN_PILLOW[p])) if p in LARGER_THAN_PILLOW else p
    for p in (r["path"] for r in GOOD if r["path"].startswith("jpeg/") and int(r["width"]) >= 256 and "cmyk" not in r["flags"])
]


@pytest.mark.parametrize("rel", PHOTOS)
def test_jpeg_q80_against_pillow(tmp_path, rel):
    """At quality 80 and the default effort (libjpeg-turbo's algorithm and Annex K's tables, as
    Pillow; Huffman tables planned from samples against Pillow's optimized ones), pixpress's JPEG is
    as faithful as Pillow's (luma PSNR within 0.3 dB), above 35 dB wherever Pillow's is, and no
    larger than Pillow's optimized file (2% slack)."""
    source = Image.open(CORPUS / rel)
    icc = source.info.get("icc_profile")
    original = ImageOps.exif_transpose(source).convert("RGB")
    buf = io.BytesIO()
    # Both files carry the ICC profile and nothing else (pixpress: metadata=strip).
    original.save(buf, "JPEG", quality=80, optimize=True, icc_profile=icc)
    pillow_psnr = luma_psnr(original, Image.open(buf))
    proc = run_cli("compress", CORPUS / rel, "-o", tmp_path, "-f", "jpeg", "-q", "80", "-m", "strip", "-s", "never_larger=false", "--json")
    entry = json.loads(proc.stdout)["files"][0]
    ours_psnr = luma_psnr(original, Image.open(entry["output"]))
    assert ours_psnr >= pillow_psnr - 0.3, f"{rel}: {ours_psnr:.2f} dB vs Pillow {pillow_psnr:.2f} dB"
    if pillow_psnr > 35:
        assert ours_psnr > 35, f"{rel}: {ours_psnr:.2f} dB"
    assert entry["bytes_out"] <= len(buf.getvalue()) * 1.02, f"{rel}: {entry['bytes_out']} vs Pillow {len(buf.getvalue())}"



# Open disagreements of the HEIF-to-JPEG comparison, kept failing on purpose (strict xfail).
HEIF_TO_JPEG_DISAGREEMENTS = {
    "avif/libheif_example.avif": "2.05% larger than Pillow's file (1.8% on the pixel path): over the 2% allowed",
    "heic/RGB_12bit_128x128.heif": "12-bit source: 0.39 dB below Pillow's JPEG (pixel path; the 12 to 8 bit rounding differs)",
}


@pytest.mark.parametrize("rel", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=HEIF_TO_JPEG_DISAGREEMENTS[p])) if p in HEIF_TO_JPEG_DISAGREEMENTS else p
    for p in HEIF_JUDGED
])
def test_heif_to_jpeg_q80_against_pillow_heif(tmp_path, rel):
    """HEIC and AVIF to JPEG at quality 80 and the default effort (baseline, sampled Huffman
    tables): as faithful to pillow-heif's decode as Pillow's own JPEG of it (luma PSNR within
    0.3 dB), the same size, and no larger than Pillow's optimized file (2% slack). 8-bit 4:2:0 BT.601 files (every iPhone photo) take the YCbCr path, their
    planes coded as they are; the others the pixel path."""
    try:
        source = Image.open(CORPUS / rel)
        source.load()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"pillow-heif cannot open it: {e}")
    if "A" in source.getbands():
        pytest.skip("alpha is flattened onto a background for JPEG; the decode test covers it")
    flags = next(r["flags"] for r in ROWS if r["path"] == rel)
    if source.format == "AVIF" and ("irot=" in flags or "imir=" in flags):
        source = ImageOps.exif_transpose(source)
    original = source.convert("RGB")
    buf = io.BytesIO()
    original.save(buf, "JPEG", quality=80, optimize=True, icc_profile=source.info.get("icc_profile"))
    pillow_psnr = luma_psnr(original, Image.open(buf))
    proc = run_cli("compress", CORPUS / rel, "-o", tmp_path, "-f", "jpeg", "-q", "80", "-m", "strip", "--json")
    entry = json.loads(proc.stdout)["files"][0]
    assert "error" not in entry, entry
    ours = Image.open(entry["output"])
    assert ours.size == original.size, f"{rel}: size {ours.size} != {original.size}"
    ours_psnr = luma_psnr(original, ours)
    assert ours_psnr >= pillow_psnr - 0.3, f"{rel}: {ours_psnr:.2f} dB vs Pillow {pillow_psnr:.2f} dB"
    assert entry["bytes_out"] <= len(buf.getvalue()) * 1.02, f"{rel}: {entry['bytes_out']} vs Pillow {len(buf.getvalue())}"


@pytest.mark.parametrize("rel", BAD)
def test_bad_file_refused_cleanly(tmp_path, rel):
    """Every bad/ file gives exit 1, a typed error with a real message, and no file at all."""
    out = tmp_path / "out"
    proc = run_cli("compress", CORPUS / rel, "-o", out, "--format", "jpeg", "--json", timeout=60)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    entry = json.loads(proc.stdout)["files"][0]
    assert entry["code"] == BAD_STATUS[rel], entry
    assert len(entry["error"]) > 20, entry
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))
    info = run_cli("info", CORPUS / rel, "--json", timeout=60)
    assert info.returncode in (0, 1), info.returncode


def test_directory_tree_keeps_relative_paths(tmp_path):
    """A directory is walked recursively, non-images are ignored, relative paths are kept,
    and one bad file among good ones fails alone with exit status 1."""
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    for rel, dest in [("jpeg/hopper.jpg", "a.jpg"), ("png/hopper.png", "nested/b.png"), ("bad/truncated.jpg", "nested/c.jpg")]:
        (src / dest).write_bytes((CORPUS / rel).read_bytes())
    (src / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    proc = run_cli("compress", src, "-o", out, "-f", "webp", "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["summary"]["files"] == 3 and report["summary"]["succeeded"] == 2
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["a.webp", "nested/b.webp"]
    for p in out.rglob("*.webp"):
        Image.open(p).load()


def test_same_names_from_two_folders_do_not_overwrite(tmp_path):
    """Two input folders holding equal relative names each keep their own folder under OUTDIR."""
    proc = run_cli("compress", CORPUS / "jpeg", CORPUS / "png", "-o", tmp_path, "-f", "png", "--json", "-e", "0")
    outputs = [f.get("output") for f in json.loads(proc.stdout)["files"]]
    assert str(tmp_path / "jpeg" / "hopper.png") in outputs and str(tmp_path / "png" / "hopper.png") in outputs


def test_unknown_option_names_the_key(tmp_path):
    """An unknown option key is a usage error naming the key."""
    proc = run_cli("compress", CORPUS / "jpeg/hopper.jpg", "-o", tmp_path, "-s", "qualty=80")
    assert proc.returncode == 2 and "qualty" in proc.stderr
