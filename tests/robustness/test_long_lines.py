"""A document of one 100 KB line: the sentence splitter reads bounded pieces, and a rebuild never splits it again.

pysbd's time grows with the square of its input (a 100 KB line made every build take 50 s,
200 KB took 38 s per split). Lines are cut on cheap boundaries before pysbd sees them, and
the splits are cached by content hash in the index, so a rebuild with nothing changed runs
no sentence splitting at all. These tests count what pysbd is given rather than timing it.
"""

from __future__ import annotations

import json
import random
import re
import shutil

import pytest
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st

import assistant.chunking.sentences as sentences_module
from assistant.chunking import split_sentences
from assistant.chunking.sentences import MAX_SEGMENT_CHARS, SPLITTER_VERSION, cheap_pieces
from assistant.index import MANIFEST, build_index, load_index
from assistant.uploads import add_upload
from tests.conftest import copy_corpus_and_index

WORDS = ("the member states agreed to strengthen border management and returns cooperation with third countries "
         "while the commission will report on progress in the action plan and frontex supports the operations "
         "e.g. in Greece; Art. 5 applies").split()


def long_line(chars: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while sum(map(len, out)) + len(out) < chars:
        out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30))).capitalize() + ".")
    return " ".join(out)[:chars]


class Recording:
    """pysbd's segmenter, recording the length of every text it is given (or refusing to be called)."""

    def __init__(self, real, refuse: bool = False):
        self.real, self.refuse, self.lengths = real, refuse, []

    def segment(self, text: str):
        if self.refuse:
            raise AssertionError(f"pysbd was called on {len(text)} characters")
        self.lengths.append(len(text))
        return self.real.segment(text)


@pytest.fixture
def recording(monkeypatch):
    recorder = Recording(sentences_module._segmenter())
    monkeypatch.setattr(sentences_module, "_segmenter", lambda: recorder)
    return recorder


def _no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pysbd_never_reads_more_than_the_cap_of_a_200_kb_line(recording):
    line = long_line(200_000)
    found = split_sentences(line)
    assert max(recording.lengths) <= MAX_SEGMENT_CHARS and len(recording.lengths) >= 100
    assert _no_space("".join(found)) == _no_space(line), "nothing lost, nothing added, in order"
    position = 0
    for sentence in found:
        position = line.index(sentence, position)  # verbatim and in order


@pytest.mark.parametrize("line", [
    "x" * 5000,  # no boundary at all: cut anywhere
    ("word " * 1200).strip(),  # spaces only
    ("clause; " * 700).strip(),  # semicolons
    "A" * 1999 + ". " + "b" * 3000,
])
def test_cheap_pieces_cover_the_line_in_order_within_the_cap(line):
    pieces = cheap_pieces(line)
    assert "".join(pieces) == line and all(0 < len(p) <= MAX_SEGMENT_CHARS for p in pieces)


@hypothesis_settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="abc .;\t", min_size=0, max_size=3000), min_size=1, max_size=3))
def test_any_text_splits_into_verbatim_sentences_losing_nothing(lines):
    text = "\n".join(lines)
    found = split_sentences(text)
    assert _no_space("".join(found)) == _no_space(text)
    assert all(sentence and sentence in text and "\n" not in sentence for sentence in found)


def test_lines_under_the_cap_split_exactly_as_pysbd_splits_them(recording):
    line = long_line(MAX_SEGMENT_CHARS)
    assert split_sentences(line) == [s.strip() for s in recording.real.segment(line) if s.strip()]


@pytest.mark.slow
def test_a_no_change_rebuild_with_a_100_kb_line_splits_nothing(tmp_path, engine, settings, monkeypatch):
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    document = "Report on border cooperation\n\n" + long_line(100_000) + "\n"
    add_upload(corpus, document.encode("utf-8"), "one-long-line.txt")
    first = build_index(index_dir, corpus, settings.model, settings.backend)
    manifest = json.loads((first.generation / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["splitter"] == SPLITTER_VERSION and "splits.jsonl" in manifest["files"]

    refusing = Recording(None, refuse=True)
    monkeypatch.setattr(sentences_module, "_segmenter", lambda: refusing)
    again = build_index(index_dir, corpus, settings.model, settings.backend)  # nothing changed: pysbd is never called
    assert again.embedded_texts == 0
    assert load_index(index_dir, corpus, settings.model, settings.backend).sentences

    # A changed line is split again; the others still come from the cache.
    recorder = Recording(sentences_module.pysbd.Segmenter(language="en", clean=False))
    monkeypatch.setattr(sentences_module, "_segmenter", lambda: recorder)
    letter = corpus / "commission-president-letter-on-migration-2023-06-25.txt"
    text = letter.read_text(encoding="utf-8")
    at = text.index(" the ", 3000)
    letter.write_text(text[:at] + " the agreed" + text[at + 4:], encoding="utf-8")
    build_index(index_dir, corpus, settings.model, settings.backend)
    assert 0 < len(recorder.lengths) <= 3 and max(recorder.lengths) < 2000


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["another-splitter", "cache-file-cut"])
def test_a_cache_from_another_splitter_or_damaged_is_not_used(tmp_path, engine, settings, monkeypatch, damage):
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    report = build_index(index_dir, corpus, settings.model, settings.backend)
    path = report.generation / ("splits.jsonl" if damage == "cache-file-cut" else MANIFEST)
    if damage == "cache-file-cut":
        rows = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(rows[: len(rows) // 2]) + "\n", encoding="utf-8")
        # The checksum no longer matches: the index is damaged (refused) and the cache is not trusted.
    else:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["splitter"] = "pysbd-en/0"
        path.write_text(json.dumps(manifest), encoding="utf-8")
    recorder = Recording(sentences_module._segmenter())
    monkeypatch.setattr(sentences_module, "_segmenter", lambda: recorder)
    rebuilt = build_index(index_dir, corpus, settings.model, settings.backend)
    assert len(recorder.lengths) > 100, "everything split afresh"
    assert rebuilt.embedded_texts == 0, "and the same sentences came out"
    shutil.rmtree(tmp_path / "index")
