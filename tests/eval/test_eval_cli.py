"""`assistant eval` from the command line: a changed setting, saved as a run, compared with the others."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
RESULTS = PROJECT_ROOT / "eval" / "results"
GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"


@pytest.fixture(scope="module")
def experiment(evaluation, tmp_path_factory, engine):
    """`assistant eval --rrf-k 10 --modes hybrid --no-baseline --baseline` into a runs folder of its own."""
    runs = tmp_path_factory.mktemp("cli-runs")
    published = {p.name: p.read_bytes() for p in RESULTS.glob("eval.*")}
    result = CliRunner().invoke(cli, ["eval", "--rrf-k", "10", "--modes", "hybrid", "--no-baseline", "--baseline"],
                                env={"ASSISTANT_RUNS": str(runs)}, catch_exceptions=False)
    return result, runs, published


def test_a_changed_setting_is_saved_as_a_run_and_compared_with_the_reference(experiment):
    result, runs, _ = experiment
    assert result.exit_code == 0, result.output
    [saved] = list(runs.glob("*/run.json"))
    run = json.loads(saved.read_text(encoding="utf-8"))
    assert run["config"]["rrf_k"] == 10 and run["config"]["modes"] == ["hybrid"]
    assert run["command"] == "assistant eval --modes hybrid --rrf-k 10 --no-baseline"
    assert f"Saved the run as {saved.parent.name}" in result.output
    assert "A: reference (" in result.output and "Settings changed: " in result.output
    assert "rrf_k 60 -> 10" in result.output and "baseline True -> False" in result.output
    answerable = sum(1 for line in GOLD.read_text(encoding="utf-8").splitlines()
                     if line.strip() and json.loads(line)["type"] != "unanswerable")
    assert f"## Retrieval, hybrid ({answerable} answerable questions)" in result.output
    assert "Mode bm25 was run in A only." in result.output


def test_an_experiment_does_not_overwrite_the_published_report(experiment):
    _, _, published = experiment
    assert {p.name: p.read_bytes() for p in RESULTS.glob("eval.*")} == published


def test_two_saved_runs_are_compared_by_id_or_path(experiment, evaluation):
    _, runs, _ = experiment
    [saved] = list(runs.glob("*/run.json"))
    result = CliRunner().invoke(cli, ["eval", "--compare", str(evaluation.path), saved.parent.name[:15]],
                                env={"ASSISTANT_RUNS": str(runs)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Settings changed: baseline True -> False; modes ['bm25', 'dense', 'hybrid'] -> ['hybrid']; rrf_k 60 -> 10" in lines
    header = lines.index("| metric | A | B | B - A | p | 95% interval | verdict |")
    assert [line.split(" | ")[0] for line in lines[header + 2: header + 8]] == [
        "| recall@1", "| recall@3", "| recall@5", "| recall@10", "| mrr@10", "| ndcg@10"]
    as_json = CliRunner().invoke(cli, ["eval", "--compare", str(evaluation.path), str(saved), "--json", "--test", "student"],
                                 env={"ASSISTANT_RUNS": str(runs)}, catch_exceptions=False)
    comparison = json.loads(as_json.output)
    assert comparison["options"]["test"] == "student" and set(comparison["retrieval"]) == {"hybrid"}
    assert {"metric", "a", "b", "diff", "p", "low", "high", "verdict"} <= set(comparison["answers"]["groups"][0]["metrics"][0])


@pytest.mark.parametrize("args, sentence", [
    (["eval", "--compare", "no-such-run", "reference"], "Error: There is no run 'no-such-run' in "),
    (["eval", "--rrf-k", "10", "--save-reference"], "Error: The reference run is made with the default settings"),
    (["eval", "--compare", "reference", "reference", "--baseline"], "Error: Use --compare RUN_A RUN_B on its own"),
    (["eval", "--modes", "hybrid,sparse"], "Error: Unknown retrieval mode 'sparse'; choose from bm25, dense and hybrid."),
])
def test_eval_mistakes_are_one_sentence(args, sentence, tmp_path):
    result = CliRunner().invoke(cli, args, env={"ASSISTANT_RUNS": str(tmp_path)})
    assert result.exit_code == 1 and result.output.startswith(sentence), result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
