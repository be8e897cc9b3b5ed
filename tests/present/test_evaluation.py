"""Showing runs and comparisons: rows, the terminal tables, answer diffs and evidence highlights, escaped."""

from __future__ import annotations

import re
from types import SimpleNamespace

from assistant.present import evaluation as ev
from eval.compare import answer_diff

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) | pipe :red[red]"


def test_evidence_quotes_are_highlighted_and_every_other_character_escaped():
    text = f"Action 9. Title\nComments: {HOSTILE} and the quote we want."
    markdown = ev.evidence_markdown(text, ["the quote we want.", "", "not in the text"])
    assert ":orange-background[**the quote we want\\.**]" in markdown
    assert not re.search(r"(?<!\\)[<\[\]|]", markdown.replace(":orange-background[**", "").replace("**]", ""))


def test_an_answer_diff_is_unified_by_line_and_says_when_a_run_kept_no_text():
    lines = answer_diff("Heading:\n- one [1]\n- two [2]", "Heading:\n- one [1]\n- three [2]")
    assert lines[:2] == ["--- A", "+++ B"] and "-- two [2]" in lines and "+- three [2]" in lines
    assert "reference keeps only a hash" in ev.diff_text(answer_diff(None, "x"))
    assert ev.diff_text([]) == "(the same text; only its flags changed)"


def test_markdown_tables_keep_one_cell_per_column():
    rows = [{"id": "q1", "question": "a | b\nc", "A": 0.5}]
    assert ev.markdown_table(rows) == ["| id | question | A |", "|---|---|---|", "| q1 | a \\| b c | 0.500 |"]


def test_ranks_and_p_values_read_plainly():
    assert ev.fmt_ranks([1, 4]) == "1, 4" and ev.fmt_ranks([]) == "—"
    assert ev.fmt_p(0.0001) == "<0.001" and ev.fmt_p(0.0312) == "0.031" and ev.fmt_diff(-0.00001) == "0.000"


def test_comparison_rows_name_the_group_and_can_keep_only_what_changed():
    metric = {"metric": "recall@5", "n": 10, "a": 0.9, "b": 0.8, "diff": -0.1, "p": 0.01, "low": -0.2, "high": -0.05,
              "verdict": "worse"}
    same = {**metric, "metric": "recall@1", "b": 0.9, "diff": 0.0, "p": 1.0, "low": 0.0, "high": 0.0, "verdict": ""}
    tables = [{"group": "type", "value": "lookup", "n": 10, "metrics": [metric, same]}]
    assert [r["metric"] for r in ev.comparison_rows(tables)] == ["recall@5", "recall@1"]
    [row] = ev.comparison_rows(tables, only_changed=True)
    assert row == {"group": "type lookup", "n": 10, "metric": "recall@5", "A": 0.9, "B": 0.8, "B - A": "-0.100",
                   "p": "0.010", "95% interval": "[-0.200, -0.050]", "verdict": "worse"}


def test_passages_come_from_the_run_or_else_from_the_corpus():
    run = {"questions": {"q1": {"question": "?", "type": "lookup", "split": "test", "relevant": ["u2"],
                                "evidence": [{"doc_id": "d", "locator": "L", "quote": "quoted"}]}},
           "retrieval": {"hybrid": {"q1": {"ranked": ["u1", "u2"]}}},
           "answers": {"q1": {"passages": ["u2"]}},
           "units": {"u1": {"locator": "Action 1", "text": "nothing here"}, "u2": {"locator": "Action 2"}}}
    units = {"u2": SimpleNamespace(text="the text quoted here")}
    first, second = ev.retrieved_passages(run, "q1", "hybrid", units)
    assert (first["rank"], first["relevant"], first["quotes"], first["text"]) == (1, False, [], "nothing here")
    assert (second["rank"], second["relevant"], second["quotes"]) == (2, True, ["quoted"])
    assert second["text"] == "the text quoted here"
    [only] = ev.retrieved_passages(run, "q1", "dense")  # no ranking in that mode: the passages the answer read
    assert only["unit_id"] == "u2" and only["text"] is None
