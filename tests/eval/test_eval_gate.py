"""The regression gate: the default configuration on the real index holds its floors, and nothing drops
significantly against the committed reference run (eval/runs/reference/run.json).

A change fails here only when a drop is significant (paired test p < 0.05 and the bootstrap
interval excludes 0) or a figure crosses a floor of eval/floors.json, not on noise. Refresh the
reference on purpose with `assistant eval --save-reference` (README, Evaluation).
"""

from __future__ import annotations

import json

import pytest

from assistant.settings import PROJECT_ROOT
from eval.evaluation import METRICS, load_gold

pytestmark = pytest.mark.slow
FLOORS = json.loads((PROJECT_ROOT / "eval" / "floors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(evaluation):
    data = json.loads((evaluation.out / "eval.json").read_text(encoding="utf-8"))
    return evaluation.markdown, data, evaluation.out


@pytest.fixture(scope="module")
def against_reference(evaluation):
    from eval.compare import compare_runs
    from eval.runs import REFERENCE, load_run

    return compare_runs(load_run(REFERENCE), evaluation.run)


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


def test_nothing_drops_significantly_against_the_reference_run(against_reference):
    """Hybrid retrieval over all questions, and the answers on the test split (the reported figures)."""
    from eval.compare import significant_drops
    from eval.runs import REFRESH_REFERENCE

    drops = significant_drops(against_reference)
    assert drops == [], (f"Significant drops against eval/runs/reference (if intended, refresh it with "
                         f"`{REFRESH_REFERENCE}` and commit it): " + "; ".join(drops))


def test_the_reference_run_covers_the_gold_set_and_every_mode(against_reference):
    """A reference that misses questions or modes would let a change through unseen on them."""
    questions = against_reference["questions"]
    assert questions["compared"] >= 0.95 * (questions["compared"] + len(questions["only_b"])), (
        f"{len(questions['only_b'])} gold questions are not in the reference run; refresh it.")
    assert set(against_reference["retrieval"]) == {"bm25", "dense", "hybrid"}
    assert against_reference["modes_only_in_b"] == []
