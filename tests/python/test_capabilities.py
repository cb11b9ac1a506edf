"""`pixpress.capabilities()` reports what the build really links, judged by
independent sources: Debian's package database for the system libraries
(libde265, dav1d, aom, Little CMS), the workspace's Cargo.lock for the
libheif built from source and the Rust codec crates, and real encodes for
the format lists."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pixpress

ROOT = Path(__file__).resolve().parents[2]
TINY_PNG = pixpress.compress(pixpress.Pixels.from_buffer(bytes(4 * 8 * 8), 8, 8, "RGBA").encode(format="png"), format="png")


def library(name_part: str) -> dict:
    found = [l for l in pixpress.capabilities()["libraries"] if name_part.lower() in l["name"].lower()]
    assert found, f"no library named like {name_part}"
    return found[0]


def debian_version(package: str) -> str:
    if not shutil.which("dpkg-query"):
        pytest.skip("no dpkg")
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"{package} is not installed")
    return re.sub(r"^\d+:", "", done.stdout).split("-")[0].split("+")[0]


def locked(crate: str) -> str:
    text = (ROOT / "Cargo.lock").read_text()
    versions = re.findall(rf'name = "{re.escape(crate)}"\nversion = "([^"]+)"', text)
    assert versions, crate
    return versions[-1]


@pytest.mark.parametrize(
    "name, package",
    [("libde265", "libde265-0"), ("dav1d", "libdav1d6"), ("aom", "libaom3")],
)
def test_plugin_versions_are_the_linked_debian_packages(name, package):
    assert library(name)["version"] == debian_version(package)


def test_lcms_version_is_the_linked_debian_package():
    upstream = debian_version("liblcms2-2")
    assert library("lcms2")["version"] == upstream


def test_libheif_and_crate_versions_are_the_locked_ones():
    assert library("libheif")["version"] == locked("libheif-sys").split("+")[1]
    for crate in ["png", "oxipng", "gif", "tiff", "fast_image_resize"]:
        assert library(crate)["version"] == locked(crate)
    assert library("mozjpeg")["version"] == locked("mozjpeg-sys")


def test_every_library_has_an_spdx_license_and_no_gpl_in_the_default_build():
    caps = pixpress.capabilities()
    for l in caps["libraries"]:
        assert re.fullmatch(r"[A-Za-z0-9.+-]+( (AND|OR) [A-Za-z0-9.+-]+)*", l["license"]), l
    if "heic" not in caps["encode"]:
        assert not [l for l in caps["libraries"] if "GPL" in l["license"] and "LGPL" not in l["license"]]


def test_the_format_lists_are_what_the_build_does():
    caps = pixpress.capabilities()
    for fmt in ["jpeg", "png", "webp", "avif", "heic"]:
        if fmt in caps["encode"]:
            out = pixpress.compress(TINY_PNG, format=fmt)
            assert out.format == fmt
        else:
            with pytest.raises(pixpress.PixpressError):
                pixpress.compress(TINY_PNG, format=fmt)
    assert {"jpeg", "png", "webp", "avif"} <= set(caps["encode"])
    assert {"jpeg", "png", "webp", "avif", "heic", "gif", "tiff", "bmp"} <= set(caps["decode"])
