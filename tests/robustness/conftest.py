"""What the robustness tests share: a private copy of a module's template corpus and index per test."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def local(tmp_path, template, settings):
    """Settings pointed at a fresh copy of the module's `template` (corpus, index), so damage stays in the test."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(template[0], corpus)
    shutil.copytree(template[1], index_dir)
    return settings.with_overrides(corpus_dir=corpus, index_dir=index_dir)
