"""The evaluation runs offline on the real index and the default configuration holds its floors."""

from __future__ import annotations

import json

import pytest

from eval.evaluation import METRICS, load_gold, run_evaluation
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
FLOORS = json.loads((PROJECT_ROOT / "eval" / "floors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(engine, settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    markdown = run_evaluation(settings, PROJECT_ROOT / "eval" / "gold.jsonl", out)
    data = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    return markdown, data, out


def test_gold_set_has_the_kinds_of_questions_asked_for():
    gold = load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")
    kinds = {g.type for g in gold}
    assert len(gold) >= 60 and {"lookup", "status", "number", "paraphrase", "multi", "unanswerable"} <= kinds
    assert sum(1 for g in gold if g.type == "unanswerable") >= 8
    assert len({g.id for g in gold}) == len(gold)
    assert any(len({e.doc_id for e in g.evidence}) == 2 for g in gold if g.type == "multi")


def test_every_gold_quote_is_in_the_corpus_and_in_the_unit_named(units_by_locator):
    for item in load_gold(PROJECT_ROOT / "eval" / "gold.jsonl"):
        for evidence in item.evidence:
            unit = units_by_locator[(evidence.doc_id, evidence.locator)]
            assert evidence.quote in unit.text, (item.id, evidence.locator, evidence.quote)


def test_every_metric_lies_in_the_unit_interval(report):
    _, data, _ = report
    for mode in data["modes"].values():
        for value in [*mode["overall"].values(), *mode["containment"].values()]:
            assert 0.0 <= value <= 1.0
        assert set(mode["overall"]) == set(METRICS)


def test_hybrid_holds_its_floors_and_beats_each_single_mode(report):
    _, data, _ = report
    hybrid = data["modes"]["hybrid"]["overall"]
    for metric, floor in FLOORS["retrieval_hybrid"].items():
        assert hybrid[metric] >= floor, (metric, hybrid[metric], floor)
    for metric in FLOORS["hybrid_beats_single_modes_on"]:
        assert hybrid[metric] > data["modes"]["dense"]["overall"][metric]
        assert hybrid[metric] > data["modes"]["bm25"]["overall"][metric]


def test_structure_aware_units_beat_the_plain_recipe(report):
    _, data, _ = report
    for metric in FLOORS["units_beat_baseline_on_containment"]:
        assert data["modes"]["hybrid"]["containment"][metric] > data["baseline"]["containment"][metric]


def test_answers_hold_their_floors(report):
    _, data, _ = report
    summary, floors = data["answers"]["summary"], FLOORS["answers"]
    assert summary["answer_contains_evidence"] >= floors["answer_contains_evidence"]
    assert summary["citation_precision"] >= floors["citation_precision"]
    assert summary["false_abstention_rate"] <= floors["max_false_abstention_rate"]
    assert summary["abstention_on_unanswerable"] >= floors["abstention_on_unanswerable"]
    assert summary["named_unit_cited_first"] >= floors["named_unit_cited_first"]


def test_answers_are_reported_on_a_split_nothing_was_fitted_on(report):
    _, data, _ = report
    splits = data["answers"]["splits"]
    assert data["answers"]["summary"] == splits["test"]
    assert splits["test"]["answerable"] >= 60 and splits["test"]["unanswerable"] >= 15


def test_the_report_is_written_as_markdown_json_and_a_chart(report):
    markdown, _, out = report
    assert "| hybrid |" in markdown and "recursive splitter" in markdown
    assert (out / "eval.md").read_text(encoding="utf-8") == markdown
    assert (out / "modes.png").stat().st_size > 10_000
