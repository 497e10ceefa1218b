"""The chart JavaScript bundle: built once, then read from the user's cache folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.html import bundle_cache, javascript_bundle


def test_the_bundle_is_cached_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    javascript_bundle.cache_clear()
    try:
        built = javascript_bundle()
        files = list(bundle_cache().glob("vega-bundle-*.js"))
        assert bundle_cache() == tmp_path / "egov-eval" and len(files) == 1
        assert files[0].read_text(encoding="utf-8") == built and "vegaEmbed" in built
        assert "</script" not in built  # safe inline
        files[0].write_text("/* read from the cache */", encoding="utf-8")
        javascript_bundle.cache_clear()
        assert javascript_bundle() == "/* read from the cache */"
    finally:
        javascript_bundle.cache_clear()


def test_an_unwritable_cache_folder_still_gives_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    javascript_bundle.cache_clear()
    try:
        assert "vegaEmbed" in javascript_bundle()
    finally:
        javascript_bundle.cache_clear()
