"""Saved runs: what a run records, that it loads back as measured, the committed reference, and finding runs by name."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT
from eval.evaluation import ANSWERABLE_TYPES, ranx_scores
from eval.gold import load_gold
from eval.runs import REFERENCE, index_fingerprint, list_runs, load_run, resolve_run, save_run, slim

pytestmark = pytest.mark.slow
GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"


def test_a_saved_run_loads_back_as_it_was_measured(evaluation):
    expected = json.loads(json.dumps({**evaluation.record, "id": evaluation.path.parent.name}))
    assert load_run(evaluation.path) == expected
    assert (evaluation.path.parent / "report.md").read_text(encoding="utf-8") == evaluation.markdown


def test_a_run_records_its_configuration_index_and_every_question(evaluation, engine):
    run = evaluation.run
    config = run["config"]
    assert config["modes"] == ["bm25", "dense", "hybrid"] and config["rrf_k"] == 60 and config["answer_mode"] == "hybrid"
    assert (config["model"], config["backend"]) == (engine.index.model, engine.index.backend)
    ranker = PROJECT_ROOT / config["ranker"]["file"]
    assert config["ranker"]["sha256"] == hashlib.sha256(ranker.read_bytes()).hexdigest()
    assert run["index"]["corpus"] == engine.index.manifest.corpus
    assert run["index"]["fingerprint"] == index_fingerprint(engine.index.manifest.corpus)
    gold = load_gold(GOLD)
    assert list(run["questions"]) == [g.id for g in gold] and set(run["answers"]) == {g.id for g in gold}
    for mode in config["modes"]:
        assert set(run["retrieval"][mode]) == {g.id for g in gold if g.answerable}
        assert all(1 <= len(r["ranked"]) <= 10 and r["ms"] > 0 for r in run["retrieval"][mode].values())
    for answer in run["answers"].values():
        assert {"abstained", "abstention", "contains_evidence", "citation_precision", "answer_sha", "answer"} <= set(answer)
    assert run["timings"]["total_s"] > 0 and run["id"] == evaluation.path.parent.name


def test_the_saved_ranks_give_back_the_reported_metrics(evaluation):
    """What --compare reads (the ranks) and what eval reported (the metrics) agree, per mode and type."""
    run = evaluation.run
    for mode, rows in run["retrieval"].items():
        qrels = {q: {u: 1 for u in run["questions"][q]["relevant"]} for q in rows}
        ranked = {q: {u: float(10 - i) for i, u in enumerate(r["ranked"])} for q, r in rows.items()}
        assert ranx_scores(qrels, ranked) == pytest.approx(run["summary"]["modes"][mode]["overall"])
        for kind in ANSWERABLE_TYPES:
            ids = [q for q in rows if run["questions"][q]["type"] == kind]
            assert ranx_scores({q: qrels[q] for q in ids}, {q: ranked[q] for q in ids}) == pytest.approx(
                run["summary"]["modes"][mode]["by_type"][kind])


def test_the_committed_reference_is_small_slim_and_covers_the_gold_set():
    # Small per question (some 600 bytes: ranks, flags and hashes), so the bound grows with the gold set.
    assert REFERENCE.stat().st_size < 700 * len(load_gold(GOLD))
    reference = load_run(REFERENCE)
    assert reference["slim"] and reference["id"] == "reference"
    assert not any("answer" in a for a in reference["answers"].values())
    assert not any("text" in u for u in reference["units"].values())
    assert set(reference["questions"]) == {g.id for g in load_gold(GOLD)}
    assert reference["config"]["modes"] == ["bm25", "dense", "hybrid"] and reference["config"]["baseline"]


def test_runs_are_ignored_by_git_except_the_reference():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT, check=False).returncode == 0

    assert ignored("eval/runs/20250101T000000-abcdef/run.json")
    assert not ignored("eval/runs/reference/run.json")
    tracked = subprocess.run(["git", "ls-files", "eval/runs"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False).stdout
    assert tracked.split() == ["eval/runs/reference/run.json"]


def test_the_reference_copy_drops_texts_but_keeps_what_compare_needs(evaluation):
    copy = slim(evaluation.record)
    assert set(copy["retrieval"]) == set(evaluation.record["retrieval"])
    assert all(set(a) >= {"abstained", "contains_evidence", "answer_sha"} and "answer" not in a
               for a in copy["answers"].values())
    assert all("relevant" in q and "question" in q and "evidence" not in q for q in copy["questions"].values())


def test_runs_are_found_by_id_start_latest_previous_reference_or_path(evaluation, tmp_path):
    runs_dir = tmp_path / "runs"
    first = save_run({**evaluation.record, "id": "20250101T000000-aaaaaa"}, runs_dir)
    second = save_run({**evaluation.record, "id": "20250102T000000-bbbbbb"}, runs_dir)
    again = save_run({**evaluation.record, "id": "20250102T000000-bbbbbb"}, runs_dir)
    assert again.parent.name == "20250102T000000-bbbbbb-2"
    assert resolve_run("latest", runs_dir) == again and resolve_run("previous", runs_dir) == second
    assert resolve_run("20250101", runs_dir) == first and resolve_run(str(first.parent), runs_dir) == first
    assert resolve_run("reference", runs_dir) == REFERENCE == resolve_run("baseline", runs_dir)
    assert [r.id for r in list_runs(runs_dir)][-1] == "reference"
    with pytest.raises(AssistantError, match=r"^'20250102' names 2 runs in .*; give more of the id\.$"):
        resolve_run("20250102", runs_dir)
    with pytest.raises(AssistantError, match=r"^There is no run 'nope' in .* \(latest: 20250102T000000-bbbbbb-2, "):
        resolve_run("nope", runs_dir)
    with pytest.raises(AssistantError, match=r"^There is no latest run in .*; run `assistant eval` first\.$"):
        resolve_run("latest", tmp_path / "empty")


def test_a_damaged_run_file_is_one_sentence(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{"format_version": 1, "units": [', encoding="utf-8")
    with pytest.raises(AssistantError, match=r"is not a saved evaluation run this version can read; run `assistant eval` again\.$"):
        load_run(path)
