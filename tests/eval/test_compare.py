"""Comparing two runs: real drops are significant and listed with their ranks, noise is not, answers diff.

Run A is the session's evaluation of the default configuration on the real index; run B is a
copy of it with known changes made to its rankings or answers, so each test knows the answer.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.stats import ttest_rel

from assistant.errors import AssistantError
from eval.compare import Options, compare_runs, paired_interval, paired_p, render_comparison, significant_drops

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(evaluation):
    return evaluation.run


def hybrid(comparison, group="all", value="all") -> dict[str, dict]:
    table = next(t for t in comparison["retrieval"]["hybrid"]["groups"] if t["group"] == group and t["value"] == value)
    return {r["metric"]: r for r in table["metrics"]}


def answers_on(comparison, split="test") -> dict[str, dict]:
    table = next(t for t in comparison["answers"]["groups"] if t["group"] == "split" and t["value"] == split)
    return {r["metric"]: r for r in table["metrics"]}


def first_hits(run, n: int, split: str | None = None) -> list[str]:
    """Answerable questions whose relevant unit hybrid ranks first."""
    found = []
    for q, row in run["retrieval"]["hybrid"].items():
        if row["ranked"][0] in run["questions"][q]["relevant"] and (split is None or run["questions"][q]["split"] == split):
            found.append(q)
    return found[:n]


def demote(run, ids: list[str]) -> dict:
    """B: the relevant units of these questions pushed out of hybrid's top 10."""
    changed = copy.deepcopy(run)
    filler = [u for u in run["units"]]
    for q in ids:
        relevant = set(run["questions"][q]["relevant"])
        changed["retrieval"]["hybrid"][q]["ranked"] = [u for u in filler if u not in relevant][:10]
    changed["id"] = "B"
    return changed


def test_a_run_against_itself_changes_nothing(run):
    comparison = compare_runs(run, run)
    for result in comparison["retrieval"].values():
        assert result["changed"] == []
        for table in result["groups"]:
            assert all(r["diff"] == 0 and r["p"] == 1.0 and r["verdict"] == "" for r in table["metrics"])
    assert comparison["answers"]["changed"] == [] and comparison["config_changes"] == []
    assert comparison["index"]["same"] and significant_drops(comparison) == []
    assert comparison["questions"]["compared"] == len(run["questions"])


def test_the_figures_of_both_runs_are_ranx_means_of_what_each_run_reported(run):
    comparison = compare_runs(run, demote(run, first_hits(run, 3)))
    for metric, row in hybrid(comparison).items():
        assert row["a"] == pytest.approx(run["summary"]["modes"]["hybrid"]["overall"][metric])
    for metric, row in answers_on(comparison).items():
        expected = run["summary"]["answers"]["splits"]["test"][metric]
        assert row["a"] == pytest.approx(expected if expected is not None else 0.0)


def test_a_real_drop_is_significant_and_its_questions_are_listed_with_their_ranks(run):
    ids = first_hits(run, 14)
    comparison = compare_runs(run, demote(run, ids))
    recall = hybrid(comparison)["recall@10"]
    assert recall["diff"] == pytest.approx(-len(ids) / comparison["retrieval"]["hybrid"]["questions"])
    assert recall["p"] < 0.05 and recall["high"] < 0 and recall["verdict"] == "worse" and recall["significant"]
    changed = comparison["retrieval"]["hybrid"]["changed"]
    assert sorted(c["id"] for c in changed) == sorted(ids)
    assert all(c["change"] == "worse" and c["ranks_a"][0] == 1 and c["ranks_b"] == [] for c in changed)
    assert any(d.startswith("hybrid recall@10: ") for d in significant_drops(comparison))
    assert comparison["retrieval"]["dense"]["changed"] == []  # the other modes are untouched


def test_one_question_that_moves_is_noise_not_a_regression(run):
    comparison = compare_runs(run, demote(run, first_hits(run, 1)))
    recall = hybrid(comparison)["recall@1"]
    assert recall["diff"] < 0 and recall["p"] > 0.05 and recall["verdict"] == "" and not recall["significant"]
    assert significant_drops(comparison) == []
    assert len(comparison["retrieval"]["hybrid"]["changed"]) == 1


def test_four_questions_that_move_are_not_yet_significant_though_the_interval_excludes_zero(run):
    """Both conditions are needed: the bootstrap interval alone would call four of some 250 questions a drop."""
    comparison = compare_runs(run, demote(run, first_hits(run, 4)))
    recall = hybrid(comparison)["recall@10"]
    assert recall["high"] < 0 and 0.05 < recall["p"] < 0.25  # exactly 2/16 = 0.125 for four losses, no gain
    assert recall["verdict"] == "" and significant_drops(comparison) == []


def test_groups_by_type_and_split_hold_their_own_questions(run):
    ids = first_hits(run, 8, split="test")
    comparison = compare_runs(run, demote(run, ids))
    test_split, fit_split = hybrid(comparison, "split", "test"), hybrid(comparison, "split", "fit")
    assert test_split["recall@1"]["diff"] < 0 and fit_split["recall@1"]["diff"] == 0
    n_test = sum(1 for q in run["retrieval"]["hybrid"] if run["questions"][q]["split"] == "test")
    assert test_split["recall@1"]["n"] == n_test
    types = {run["questions"][q]["type"] for q in ids}
    for kind in types:
        assert hybrid(comparison, "type", kind)["recall@1"]["diff"] < 0


def test_answers_that_lose_their_evidence_are_a_significant_drop_with_diffs(run):
    changed = copy.deepcopy(run)
    ids = [q for q, a in run["answers"].items() if a["contains_evidence"] and run["questions"][q]["split"] == "test"][:12]
    for q in ids:
        answer = changed["answers"][q]
        answer["contains_evidence"] = False
        answer["answer"] = answer["answer"] + "\n- An extra line that quotes nothing. [9]"
        answer["answer_sha"] = "changed"
    comparison = compare_runs(run, changed)
    evidence = answers_on(comparison)["answer_contains_evidence"]
    assert evidence["verdict"] == "worse" and evidence["p"] < 0.05 and evidence["high"] < 0
    listed = {c["id"]: c for c in comparison["answers"]["changed"]}
    assert set(listed) == set(ids) and all(c["change"] == "worse" for c in listed.values())
    diff = listed[ids[0]]["diff"]
    assert diff[:2] == ["--- A", "+++ B"] and "+- An extra line that quotes nothing. [9]" in diff
    assert any(d.startswith("answers (test) answer_contains_evidence: ") for d in significant_drops(comparison))


def test_an_unanswerable_question_answered_once_is_not_significant(run):
    changed = copy.deepcopy(run)
    q = next(q for q, a in run["answers"].items() if a["abstained"] and run["questions"][q]["type"] == "unanswerable"
             and run["questions"][q]["split"] == "test")
    changed["answers"][q]["abstained"] = False
    comparison = compare_runs(run, changed)
    row = answers_on(comparison)["abstention_on_unanswerable"]
    assert row["diff"] < 0 and row["verdict"] == "" and significant_drops(comparison) == []
    assert [c["id"] for c in comparison["answers"]["changed"]] == [q]


def test_the_student_test_is_the_paired_t_test(run):
    ids = first_hits(run, 10)
    comparison = compare_runs(run, demote(run, ids), Options(test="student"))
    def reciprocal_rank(q: str) -> float:
        ranks = [i for i, u in enumerate(run["retrieval"]["hybrid"][q]["ranked"], 1) if u in run["questions"][q]["relevant"]]
        return 1.0 / ranks[0] if ranks else 0.0

    a = [reciprocal_rank(q) for q in comparison_ids(run)]
    b = [0.0 if q in ids else x for q, x in zip(comparison_ids(run), a)]
    assert hybrid(comparison)["mrr@10"]["p"] == pytest.approx(ttest_rel(a, b).pvalue)
    assert "paired Student's t-test" in comparison["options"]["description"]


def comparison_ids(run) -> list[str]:
    return sorted(run["retrieval"]["hybrid"])


def test_fishers_test_counts_ties_on_fractional_scores_exactly():
    """Four small gains among 24 questions: 2 of the 16 sign patterns are as extreme, p = 0.125."""
    a = np.array([0.9543] * 20 + [0.8, 0.7, 0.6, 0.5])
    b = a.copy()
    b[-4:] += [0.02687041, 0.02687041, 0.04250547, 0.00838529]
    assert 0.10 < paired_p(a, b, Options()) < 0.15


def test_the_bootstrap_interval_holds_the_mean_difference():
    rng = np.random.default_rng(0)
    a = rng.random(200)
    b = a + rng.normal(0.05, 0.1, 200)
    low, high = paired_interval(a, b, Options())
    assert low < np.mean(b - a) < high and low > 0
    assert paired_interval(a, a, Options()) == (0.0, 0.0)


def test_settings_index_and_changed_gold_items_are_reported(run):
    changed = copy.deepcopy(run)
    changed["config"]["rrf_k"] = 10
    changed["config"]["modes"] = list(reversed(run["config"]["modes"]))  # order is not a change
    changed["index"] = {**run["index"], "fingerprint": "other",
                        "corpus": {**run["index"]["corpus"], "documents": {**run["index"]["corpus"]["documents"],
                                                                           "new-document": "abc"}}}
    q = next(iter(run["retrieval"]["hybrid"]))
    changed["questions"][q] = {**run["questions"][q], "question": "Another question entirely?"}
    changed["retrieval"]["hybrid"][q]["ranked"] = []
    comparison = compare_runs(run, changed)
    assert comparison["config_changes"] == [{"setting": "rrf_k", "a": 60, "b": 10}]
    assert not comparison["index"]["same"] and comparison["index"]["documents_added"] == ["new-document"]
    assert comparison["questions"]["gold_changed"] == [q]
    assert q not in [c["id"] for c in comparison["retrieval"]["hybrid"]["changed"]]
    text = render_comparison(comparison)
    assert "Settings changed: rrf_k 60 -> 10" in text and "documents added: new-document" in text


def test_runs_without_a_shared_question_are_one_sentence(run):
    other = copy.deepcopy(run)
    other["questions"] = {f"x{q}": v for q, v in run["questions"].items()}
    with pytest.raises(AssistantError, match=r"^The runs .* share no gold question; there is nothing to compare\.$"):
        compare_runs(run, other)


def test_the_terminal_report_has_each_metric_with_its_p_value_and_the_changed_questions(run):
    ids = first_hits(run, 14)
    text = render_comparison(compare_runs(run, demote(run, ids)))
    answerable = sum(1 for q in run["questions"].values() if q["type"] != "unanswerable")
    assert f"## Retrieval, hybrid ({answerable} answerable questions)" in text
    assert "| metric | A | B | B - A | p | 95% interval | verdict |" in text
    recall_line = next(line for line in text.splitlines() if line.startswith("| recall@10 |") and "worse" in line)
    assert recall_line.endswith("| worse |")
    assert f"Questions that got worse ({len(ids)}):" in text
    assert "| id | type | split | ranks A | ranks B | question |" in text
    first = ids[0]
    assert any(line.startswith(f"| {first} |") and "| 1 | — |" in line for line in text.splitlines())
    assert f"## Answers ({len(run['questions'])} questions; the test split is the one reported)" in text
