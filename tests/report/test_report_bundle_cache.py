"""The report's script bundle is kept on disk between runs: the stored text is the bundle
vl-convert builds, a stored bundle is read instead of built, and a cache that cannot be used
never fails the report."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
import vl_convert

from funnel.report.render import VL_VERSION, _cached_bundle, bundle_cache_dir

VERSION = version("vl-convert-python")


def test_the_stored_bundle_is_the_one_vl_convert_builds(tmp_path: Path) -> None:
    fresh = vl_convert.javascript_bundle(vl_version=VL_VERSION)  # type: ignore[call-arg]
    got = _cached_bundle(tmp_path / "cache", VERSION)
    assert got == fresh
    (stored,) = (tmp_path / "cache").iterdir()
    assert stored.name == f"vega-bundle-{VERSION}-{VL_VERSION}.js"
    assert stored.read_text(encoding="utf-8") == fresh
    assert _cached_bundle(tmp_path / "cache", VERSION) == fresh


def test_a_stored_bundle_is_read_and_each_version_has_its_own(tmp_path: Path) -> None:
    (tmp_path / f"vega-bundle-0.0.1-{VL_VERSION}.js").write_text("/* stored */", encoding="utf-8")
    assert _cached_bundle(tmp_path, "0.0.1") == "/* stored */"
    assert _cached_bundle(tmp_path, "0.0.2").startswith("/* stored */") is False


def test_an_empty_or_unusable_cache_builds_the_bundle(tmp_path: Path) -> None:
    fresh = vl_convert.javascript_bundle(vl_version=VL_VERSION)  # type: ignore[call-arg]
    (tmp_path / f"vega-bundle-0.0.1-{VL_VERSION}.js").write_text("", encoding="utf-8")
    assert _cached_bundle(tmp_path, "0.0.1") == fresh
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    assert _cached_bundle(blocked, "0.0.1") == fresh
    assert blocked.read_text(encoding="utf-8").startswith("a file")


def test_cache_folder_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_CACHE_DIR", "/srv/funnel-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert bundle_cache_dir() == Path("/srv/funnel-cache")
    monkeypatch.delenv("FUNNEL_CACHE_DIR")
    assert bundle_cache_dir() == Path("/xdg/funnel")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert bundle_cache_dir() == Path.home() / ".cache" / "funnel"
