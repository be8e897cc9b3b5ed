"""The scale corpus generator and the end-to-end benchmark, on small sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.settings import DEFAULT_BACKEND, DEFAULT_MODEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def templates(tmp_path_factory, engine):
    from eval.scale_corpus import load_templates

    return load_templates(tmp_path_factory.mktemp("templates"), DEFAULT_MODEL, DEFAULT_BACKEND)


def _records(templates, units, seed, corpus=None):
    from eval.scale_corpus import generate

    return list(generate(templates, units, seed, corpus))


def test_templates_cover_the_kinds_we_index(templates):
    assert set(templates.documents) == {"action_file", "letter", "general"}
    assert {"action", "annex_item", "letter_section"} <= set(templates.by_kind)


def test_generation_is_deterministic_and_records_are_consistent(templates):
    first, again = _records(templates, 600, seed=3), _records(templates, 600, seed=3)
    assert [[u.text for u in r[1]] for r in first] == [[u.text for u in r[1]] for r in again]
    assert _records(templates, 600, seed=4)[0][1][0].text != first[0][1][0].text or len(first) > 1
    assert sum(len(r[1]) for r in first) == 600
    unit_ids = [u.unit_id for r in first for u in r[1]]
    assert len(set(unit_ids)) == len(unit_ids)
    for document, units, chunks, sentences, chunk_vectors, sentence_vectors, multilingual_vectors in first:
        texts = {u.unit_id: u.text for u in units}
        assert all(s.text in texts[s.unit_id] for s in sentences)  # verbatim, as answers quote them
        assert {c.unit_id for c in chunks} == set(texts)
        assert chunk_vectors.shape == (len(chunks), 384) and sentence_vectors.shape == (len(sentences), 384)
        assert multilingual_vectors.shape == (len(sentences), 384)  # the template sentences' own e5 vectors
        np.testing.assert_allclose(np.linalg.norm(multilingual_vectors, axis=1), 1.0, atol=1e-3)
        np.testing.assert_allclose(np.linalg.norm(chunk_vectors, axis=1), 1.0, atol=1e-4)
        actions = [u for u in units if u.kind == "action"]
        assert [u.number for u in actions] == list(range(1, len(actions) + 1))
        assert all(u.locator == f"Action {u.number}" and u.text.startswith(f"Action {u.number}.") for u in actions)


def test_a_generated_index_serves_answers(templates, tmp_path):
    from assistant.engine import load_engine
    from assistant.index import write_generation
    from assistant.index.manifest import corpus_fingerprint
    from assistant.settings import load_settings
    from eval.scale_corpus import VECTORS_FROM, generate

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    write_generation(index_dir, generate(templates, 1500, 5, corpus), DEFAULT_MODEL, DEFAULT_BACKEND,
                     lambda: corpus_fingerprint(corpus), VECTORS_FROM)
    engine = load_engine(load_settings({"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir)}))
    assert len(engine.index.units) == 1500 and engine.index.manifest.vectors_from.startswith("derived")
    answer = engine.ask("Who leads Action 3?")
    assert answer.citations and all(c.unit.doc_id.startswith("scale-") for c in answer.citations)


def test_the_benchmark_runs_end_to_end_on_a_small_size(tmp_path, monkeypatch):
    from assistant.index import build
    from eval import bench_scale

    monkeypatch.setattr(build, "INCREMENTAL_MIN_UNITS", 1000)  # so that 1,200 units count as a large index
    out = tmp_path / "results"
    bench_scale.main(["--sizes", "1200", "--work", str(tmp_path / "work"), "--out", str(out), "--questions", "3"])
    data = json.loads((out / "scale_bench.json").read_text(encoding="utf-8"))
    size = data["sizes"]["1200"]
    assert size["units"] == 1200 and size["add_document"]["incremental"] is True
    assert set(size["serving"]["latency"]) == {f"{m} | {f}" for m in bench_scale.MODES for f in bench_scale.FILTERS}
    assert (out / "scale_bench.png").stat().st_size > 0 and "| figure |" in (out / "scale_bench.md").read_text()
