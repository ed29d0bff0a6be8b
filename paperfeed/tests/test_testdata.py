"""The recorded data in testdata/ is what scripts/vendor_testdata.py copied, unchanged."""

from __future__ import annotations

import hashlib
import json

import pytest

from paperfeed.conftest import REPO, TESTDATA

MANIFEST = json.loads((TESTDATA / "MANIFEST.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_each_recorded_file_is_the_one_the_manifest_names(name):
    entry = MANIFEST[name]
    path = REPO / entry["packaged_as"] if "packaged_as" in entry else TESTDATA / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], (
        f"{path} differs from the recording; re-run scripts/vendor_testdata.py, do not edit it")
    if entry["kept"] == "whole file":
        assert entry["sha256"] == entry["sha256_original"]


def test_every_file_in_testdata_is_in_the_manifest():
    files = {p.relative_to(TESTDATA).as_posix() for p in TESTDATA.rglob("*") if p.is_file()}
    assert files - {"MANIFEST.json", "README.md"} == {n for n in MANIFEST if "packaged_as" not in MANIFEST[n]}
