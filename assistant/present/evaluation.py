"""Evaluation runs and comparisons for people: table rows, the terminal report, answer diffs, evidence highlights.

Works on the plain records that `eval/runs.py` saves and `eval/compare.py` returns (this package
never imports `eval`). Rows are dicts of plain values for `st.dataframe`, which shows text as
text; Markdown is built here only around escaped text.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.present.markdown import passage_markdown

RETRIEVAL_METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10")
ANSWER_METRIC_LABELS = {
    "answer_contains_evidence": "evidence in answer",
    "citation_precision": "citation precision",
    "false_abstention_rate": "false abstention",
    "abstention_on_unanswerable": "abstention on unanswerable",
    "named_unit_cited_first": "named unit cited first",
}
SPLITS = ("test", "calibrate", "fit", "all")


# --- numbers -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_diff(value: float) -> str:
    return f"{value:+.3f}" if round(value, 3) != 0 else "0.000"


def fmt_p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_interval(low: float, high: float) -> str:
    return f"[{low:+.3f}, {high:+.3f}]"


def fmt_ranks(ranks: list[int]) -> str:
    """Ranks of the relevant units in the top 10, or a dash when none is there."""
    return ", ".join(str(r) for r in ranks) if ranks else "—"


def run_label(run: dict) -> str:
    """One line naming a run by what was measured: id, modes, the settings that differ most often."""
    config = run.get("config", {})
    parts = [run.get("id", "?"), ", ".join(config.get("modes", [])) or "no retrieval modes",
             f"rrf_k {config.get('rrf_k', '?')}", f"answers: {config.get('answer_mode', '?')}",
             f"{run.get('gold', {}).get('questions', '?')} questions"]
    return " · ".join(str(p) for p in parts)


# --- one run ---------------------------------------------------------------------------------


def run_mode_rows(run: dict) -> list[dict]:
    rows = []
    for mode, summary in run["summary"]["modes"].items():
        row = {"mode": mode, **{m: round(summary["overall"][m], 3) for m in RETRIEVAL_METRICS}}
        row["median ms"] = round(summary["latency_ms"]["median"], 1)
        row["p95 ms"] = round(summary["latency_ms"]["p95"], 1)
        rows.append(row)
    return rows


def run_group_rows(run: dict, mode: str, key: str = "by_type") -> list[dict]:
    """Retrieval of one mode by question type (`by_type`) or split (`by_split`)."""
    groups = run["summary"]["modes"].get(mode, {}).get(key, {})
    label = "type" if key == "by_type" else "split"
    return [{label: name, **{m: round(values[m], 3) for m in RETRIEVAL_METRICS}} for name, values in groups.items()]


def answer_split_rows(run: dict) -> list[dict]:
    splits = run["summary"]["answers"]["splits"]
    rows = []
    for split in SPLITS:
        s = splits.get(split)
        if not s:
            continue
        rows.append({"split": split, "answerable": s["answerable"], "unanswerable": s["unanswerable"],
                     **{label: None if s.get(m) is None else round(s[m], 3) for m, label in ANSWER_METRIC_LABELS.items()},
                     "median ms": round(s["latency_ms"]["median"], 1)})
    return rows


def calibration_rows(run: dict) -> list[dict]:
    """The abstention trade-off from the run: false abstention and abstention on unanswerable per threshold."""
    return [{"threshold": r["threshold"], "false abstention": round(r["false_abstention_rate"], 3),
             "abstention on unanswerable": round(r["abstention_on_unanswerable"], 3)}
            for r in run["summary"]["answers"]["calibration"]["table"]]


def question_options(run: dict) -> dict[str, str]:
    """Question id -> a one-line label, in gold order."""
    return {q: f"{q} · {item['type']} · {item['split']} · {' '.join(item['question'].split())[:110]}"
            for q, item in run["questions"].items()}


def retrieved_passages(run: dict, question_id: str, mode: str, units: dict | None = None) -> list[dict]:
    """The passages one mode retrieved for a question (or, when it has no ranking there, those its answer read).

    Each: rank, unit id, locator, title, text (from the run, else from `units`: unit id -> object with
    .text, e.g. the corpus' units), whether it is relevant and the gold quotes it holds.
    """
    question = run["questions"][question_id]
    ranking = run["retrieval"].get(mode, {}).get(question_id)
    ranked = ranking["ranked"] if ranking else run["answers"].get(question_id, {}).get("passages", [])
    quotes = [e.get("quote", "") for e in question.get("evidence", []) if e.get("quote")]
    passages = []
    for rank, unit_id in enumerate(ranked, start=1):
        info = run["units"].get(unit_id, {})
        text = info.get("text")
        if text is None and units and unit_id in units:
            text = getattr(units[unit_id], "text", None)
        passages.append({"rank": rank, "unit_id": unit_id, "locator": info.get("locator", unit_id),
                         "doc_title": info.get("doc_title", ""), "text": text,
                         "relevant": unit_id in question.get("relevant", []),
                         "quotes": [q for q in quotes if text and q in text]})
    return passages


def evidence_markdown(text: str, quotes: Iterable[str]) -> str:
    """A passage with the gold evidence quotes highlighted (the same marking as cited sentences)."""
    return passage_markdown(text, [q for q in quotes if q])


# --- a comparison ------------------------------------------------------------------------------


def comparison_rows(tables: list[dict], only_changed: bool = False, labels: dict[str, str] | None = None) -> list[dict]:
    """One row per (group, metric): both runs, B - A, the p-value, the interval, the verdict."""
    rows = []
    for table in tables:
        for r in table["metrics"]:
            if only_changed and round(r["diff"], 6) == 0:
                continue
            rows.append({"group": table["value"] if table["group"] == "all" else f"{table['group']} {table['value']}",
                         "n": r["n"], "metric": (labels or {}).get(r["metric"], r["metric"]),
                         "A": round(r["a"], 3), "B": round(r["b"], 3), "B - A": fmt_diff(r["diff"]),
                         "p": fmt_p(r["p"]), "95% interval": fmt_interval(r["low"], r["high"]),
                         "verdict": r["verdict"] or ("" if round(r["diff"], 6) == 0 else "not significant")})
    return rows


def changed_retrieval_rows(changed: list[dict]) -> list[dict]:
    return [{"change": c["change"], "id": c["id"], "type": c["type"], "split": c["split"],
             "ranks A": fmt_ranks(c["ranks_a"]), "ranks B": fmt_ranks(c["ranks_b"]),
             "question": " ".join(c["question"].split())} for c in changed]


def _flags(answer: dict) -> str:
    if answer.get("abstained"):
        return f"abstained ({answer.get('abstention') or 'no reason'})"
    parts = ["evidence" if answer.get("contains_evidence") else "no evidence"]
    if answer.get("citation_precision") is not None:
        parts.append(f"precision {answer['citation_precision']:.2f}")
    return ", ".join(parts)


def changed_answer_rows(changed: list[dict]) -> list[dict]:
    return [{"change": c["change"], "id": c["id"], "type": c["type"], "split": c["split"], "A": _flags(c["a"]),
             "B": _flags(c["b"]), "question": " ".join(c["question"].split())} for c in changed]


def diff_text(lines: list[str] | None) -> str:
    """A diff for a code block; a note when a run kept no answer text (the committed reference)."""
    if lines is None:
        return "(one of the runs did not keep its answer texts: the reference keeps only a hash of each answer)"
    return "\n".join(lines) if lines else "(the same text; only its flags changed)"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r[c]) for c in columns) + " |" for r in rows]
    return lines


def _changed_lists(rows: list[dict], limit: int) -> list[str]:
    lines = []
    for change in ("worse", "better", "moved", "changed"):
        picked = [{k: v for k, v in r.items() if k != "change"} for r in rows if r["change"] == change]
        if not picked:
            continue
        lines += ["", f"Questions {'that got ' + change if change in ('worse', 'better') else change} ({len(picked)}):", ""]
        lines += markdown_table(picked[:limit])
        if len(picked) > limit:
            lines.append(f"... and {len(picked) - limit} more (`--json` lists them all).")
    return lines


def comparison_markdown(comparison: dict, limit: int = 15) -> str:
    """The comparison for the terminal: settings, per-metric differences with p-values, changed questions."""
    a, b = comparison["a"], comparison["b"]
    lines = ["# Run B against run A", ""]
    for name, run in (("A", a), ("B", b)):
        lines.append(f"{name}: {run['id']} ({run['created_at'] or 'committed reference'}), modes "
                     f"{', '.join(run['modes'])}, rrf_k {run['rrf_k']}, {run['model']} ({run['backend']}); "
                     f"`{run['command']}`")
    changes = comparison["config_changes"]
    lines.append("Settings changed: " + ("; ".join(f"{c['setting']} {c['a']} -> {c['b']}" for c in changes)
                                         if changes else "none"))
    index = comparison["index"]
    if index["same"]:
        lines.append(f"Index: the same corpus (fingerprint {index['b']}).")
    else:
        what = [f"{label}: {', '.join(index[key])}" for key, label in (
            ("documents_added", "documents added"), ("documents_removed", "documents removed"),
            ("documents_changed", "documents changed")) if index[key]]
        if index["glossary_changed"]:
            what.append("glossary changed")
        lines.append(f"Index: a different corpus ({'; '.join(what) or 'fingerprints differ'}).")
    q = comparison["questions"]
    lines.append(f"Questions compared: {q['compared']} ({len(q['only_a'])} only in A, {len(q['only_b'])} only in B, "
                 f"{len(q['gold_changed'])} with a changed gold item, left out).")
    lines.append(f"Test: {comparison['options']['description']}")
    for mode, result in comparison["retrieval"].items():
        lines += ["", f"## Retrieval, {mode} ({result['questions']} answerable questions)", ""]
        overall = [t for t in result["groups"] if t["group"] == "all"]
        lines += markdown_table([{k: v for k, v in r.items() if k not in ("group", "n")} for r in comparison_rows(overall)])
        others = [t for t in result["groups"] if t["group"] != "all"]
        changed_rows = comparison_rows(others, only_changed=True)
        if changed_rows:
            lines += ["", "By type and split, the metrics that changed:", "", *markdown_table(changed_rows)]
        else:
            lines += ["", "By type and split: no metric changed."]
        lines += _changed_lists(changed_retrieval_rows(result["changed"]), limit)
        if not result["changed"]:
            lines += ["", "No question's relevant units moved."]
    for mode in comparison["modes_only_in_a"]:
        lines += ["", f"Mode {mode} was run in A only."]
    for mode in comparison["modes_only_in_b"]:
        lines += ["", f"Mode {mode} was run in B only."]
    answers = comparison["answers"]
    lines += ["", f"## Answers ({answers['questions']} questions; the test split is the one reported)", ""]
    test = [t for t in answers["groups"] if t["group"] == "split" and t["value"] == "test"]
    lines += markdown_table([{k: v for k, v in r.items() if k != "group"}
                             for r in comparison_rows(test, labels=ANSWER_METRIC_LABELS)])
    others = [t for t in answers["groups"] if not (t["group"] == "split" and t["value"] == "test")]
    changed_rows = comparison_rows(others, only_changed=True, labels=ANSWER_METRIC_LABELS)
    if changed_rows:
        lines += ["", "Other splits and types, the metrics that changed:", "", *markdown_table(changed_rows)]
    else:
        lines += ["", "Other splits and types: no metric changed."]
    changed = answers["changed"]
    lines += _changed_lists(changed_answer_rows(changed), limit)
    shown = [c for c in changed if c["change"] != "changed"][:limit] or changed[:limit]
    if shown:
        lines += ["", "Answer diffs:"]
        for c in shown:
            lines += ["", f"{c['id']} ({c['change']}): {' '.join(c['question'].split())}", "```diff",
                      diff_text(c["diff"]), "```"]
    elif not changed:
        lines += ["", "No answer changed."]
    latency = [f"{mode} {fmt(r['latency_ms']['a']['median'], 1)} -> {fmt(r['latency_ms']['b']['median'], 1)} ms"
               for mode, r in comparison["retrieval"].items() if r["latency_ms"]["a"] and r["latency_ms"]["b"]]
    latency.append(f"answers {fmt(answers['latency_ms']['a']['median'], 1)} -> "
                   f"{fmt(answers['latency_ms']['b']['median'], 1)} ms")
    lines += ["", "Median latency (timings are not tested; they vary with the machine's load): " + "; ".join(latency)]
    return "\n".join(lines) + "\n"
