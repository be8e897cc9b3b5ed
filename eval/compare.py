"""Did a change help? Two saved runs compared question by question, with paired significance tests.

Retrieval, per mode and for all questions, each question type and each split: every ranx metric
of both runs, the difference (B - A), the p-value of a paired test from ranx `compare` (Fisher's
randomization test by default, or the paired Student's t-test) and a paired bootstrap 95%
interval of the mean difference (scipy). A difference counts as significant when p < 0.05 AND
the interval excludes 0; then it is "better" or "worse". The questions whose relevant units
moved are listed with their ranks before and after.

Answers are compared the same way (the same tests from ranx, on the per-question 0/1 flags or
citation precision): evidence in the answer, abstention on unanswerable questions, false
abstention, citation precision, named unit cited first; with the questions whose answer changed
and a diff of the two answers (difflib).

Both runs are compared on the questions they share whose gold item is unchanged; the others are
counted and left out.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from assistant.errors import AssistantError
from eval.evaluation import ANSWERABLE_TYPES, METRICS
from eval.gold import SPLITS, UNANSWERABLE

TESTS = {"fisher": "Fisher's randomization test", "student": "paired Student's t-test"}
# name: (which questions, per-question field, which way is better)
ANSWER_METRICS = {
    "answer_contains_evidence": ("answerable", "contains_evidence", "higher"),
    "citation_precision": ("answerable", "citation_precision", "higher"),
    "false_abstention_rate": ("answerable", "abstained", "lower"),
    "abstention_on_unanswerable": ("unanswerable", "abstained", "higher"),
    "named_unit_cited_first": ("naming", "named_unit_first", "higher"),
}


@dataclass(frozen=True)
class Options:
    test: str = "fisher"  # or "student"
    permutations: int = 10_000  # Fisher's randomization test (a Monte Carlo estimate: p +- about 0.005 near 0.05)
    alpha: float = 0.05
    resamples: int = 10_000  # paired bootstrap
    confidence: float = 0.95
    seed: int = 42

    def describe(self) -> str:
        test = TESTS[self.test] + (f" ({self.permutations:,} permutations)" if self.test == "fisher" else "")
        return (f"{test} from ranx; paired bootstrap {self.confidence:.0%} interval of the mean difference "
                f"(scipy, {self.resamples:,} resamples, percentile); significant = p < {self.alpha} and the "
                "interval excludes 0.")


# --- statistics ---------------------------------------------------------------------------


def paired_interval(a: np.ndarray, b: np.ndarray, options: Options) -> tuple[float, float]:
    """The paired bootstrap interval of mean(b - a)."""
    from scipy.stats import bootstrap

    difference = b - a
    if len(difference) < 2 or np.all(difference == difference[0]):
        value = float(difference[0]) if len(difference) else 0.0
        return value, value
    result = bootstrap((a, b), lambda x, y, axis=-1: np.mean(y - x, axis=axis), paired=True, vectorized=True,
                       n_resamples=options.resamples, confidence_level=options.confidence, method="percentile",
                       rng=np.random.default_rng(options.seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _exact(values: np.ndarray) -> np.ndarray:
    """Values rounded to multiples of 2^-20 (a change below 1e-6), so that any sum of them is exact in float64."""
    return np.round(np.asarray(values, dtype=np.float64) * 2.0**20) / 2.0**20


def paired_p(a: np.ndarray, b: np.ndarray, options: Options) -> float:
    """The p-value of ranx's paired test (the function `compare` calls) on per-question values; 1.0 if none differs.

    ranx's Fisher test counts the permutations whose |mean difference| is >= the observed one;
    on fractional scores (nDCG, MRR, citation precision) the permutation that reproduces the
    observed signs can come out a rounding error below it, which drove p to 0 for four small
    gains among 24 questions (exact p = 2/16). On values with exact sums that tie is exact.
    """
    from ranx.statistical_tests import fisher_randomization_test, paired_student_t_test

    a, b = _exact(a), _exact(b)
    if len(a) < 2 or np.array_equal(a, b):
        return 1.0
    if options.test == "fisher":
        p, _ = fisher_randomization_test(a, b, options.permutations, options.alpha, options.seed)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all differences equal: no variance, p is nan
            p, _ = paired_student_t_test(a, b, options.alpha)
    return 1.0 if p is None or np.isnan(p) else float(p)


def metric_row(metric: str, a: np.ndarray, b: np.ndarray, p: float, options: Options, better: str = "higher") -> dict:
    low, high = paired_interval(a, b, options)
    difference = float(np.mean(b) - np.mean(a)) if len(a) else 0.0
    significant = p < options.alpha and (low > 0 or high < 0)
    improved = difference > 0 if better == "higher" else difference < 0
    verdict = ("better" if improved else "worse") if significant and difference != 0 else ""
    return {"metric": metric, "n": len(a), "a": float(np.mean(a)) if len(a) else 0.0,
            "b": float(np.mean(b)) if len(b) else 0.0, "diff": difference, "p": p, "low": low, "high": high,
            "better": better, "significant": bool(significant), "verdict": verdict}


# --- retrieval -------------------------------------------------------------------------------


def _ranx_run(rankings: dict[str, list[str]], name: str):
    from ranx import Run

    return Run({q: {u: float(len(r) - i) for i, u in enumerate(dict.fromkeys(r))} or {"__none__": 0.0}
                for q, r in rankings.items()}, name=name)


def retrieval_group(qrels: dict[str, dict[str, int]], ranked_a: dict[str, list[str]], ranked_b: dict[str, list[str]],
                    options: Options) -> tuple[list[dict], dict[str, dict[str, tuple[float, float]]]]:
    """Metric rows for one group of questions (ranx `compare`), and the per-question scores (a, b) by metric."""
    from ranx import Qrels, compare

    ids = sorted(qrels)
    if all(ranked_a[q][:10] == ranked_b[q][:10] for q in ids):
        run = _ranx_run({q: ranked_a[q] for q in ids}, "A")
        from ranx import evaluate

        evaluate(Qrels({q: qrels[q] for q in ids}), run, list(METRICS))
        per_question = {m: {q: (float(run.scores[m][q]),) * 2 for q in ids} for m in METRICS}
        rows = [metric_row(m, np.array([per_question[m][q][0] for q in ids]),
                           np.array([per_question[m][q][1] for q in ids]), 1.0, options) for m in METRICS]
        return rows, per_question
    run_a, run_b = _ranx_run({q: ranked_a[q] for q in ids}, "A"), _ranx_run({q: ranked_b[q] for q in ids}, "B")
    # `compare` scores both runs per question (kept in run.scores) and tests them; the p-value reported is
    # its test's, run by `paired_p` on those same scores (see there why Fisher's needs exact sums).
    report = compare(Qrels({q: qrels[q] for q in ids}), [run_a, run_b], list(METRICS), stat_test="student",
                     max_p=options.alpha)
    rows, per_question = [], {}
    for m in METRICS:
        a = np.array([run_a.scores[m][q] for q in ids], dtype=float)
        b = np.array([run_b.scores[m][q] for q in ids], dtype=float)
        per_question[m] = {q: (float(x), float(y)) for q, x, y in zip(ids, a, b)}
        row = metric_row(m, a, b, paired_p(a, b, options), options)
        row["a"], row["b"] = float(report.results["A"][m]), float(report.results["B"][m])
        rows.append(row)
    return rows, per_question


def relevant_ranks(ranked: list[str], relevant: list[str]) -> list[int]:
    """1-based ranks of the relevant units within the top 10, best first."""
    return sorted(i for i, u in enumerate(ranked[:10], start=1) if u in set(relevant))


def compare_retrieval(a: dict, b: dict, ids: list[str], options: Options) -> dict:
    result = {}
    for mode in [m for m in b["retrieval"] if m in a["retrieval"]]:
        rows_a, rows_b = a["retrieval"][mode], b["retrieval"][mode]
        common = [q for q in ids if q in rows_a and q in rows_b and b["questions"][q]["relevant"]]
        qrels = {q: {u: 1 for u in b["questions"][q]["relevant"]} for q in common}
        ranked_a = {q: rows_a[q]["ranked"] for q in common}
        ranked_b = {q: rows_b[q]["ranked"] for q in common}
        groups = [("all", "all", common)]
        groups += [("type", t, [q for q in common if b["questions"][q]["type"] == t]) for t in ANSWERABLE_TYPES]
        groups += [("split", s, [q for q in common if b["questions"][q]["split"] == s]) for s in SPLITS]
        tables, per_question = [], {}
        for group, value, members in groups:
            if not members:
                continue
            rows, scores = retrieval_group({q: qrels[q] for q in members}, ranked_a, ranked_b, options)
            tables.append({"group": group, "value": value, "n": len(members), "metrics": rows})
            if group == "all":
                per_question = scores
        changed = []
        for q in common:
            before = relevant_ranks(ranked_a[q], b["questions"][q]["relevant"])
            after = relevant_ranks(ranked_b[q], b["questions"][q]["relevant"])
            if before == after:
                continue
            ndcg_a, ndcg_b = per_question["ndcg@10"][q]
            change = "better" if ndcg_b > ndcg_a else "worse" if ndcg_b < ndcg_a else "moved"
            changed.append({"id": q, "question": b["questions"][q]["question"], "type": b["questions"][q]["type"],
                            "split": b["questions"][q]["split"], "ranks_a": before, "ranks_b": after,
                            "ndcg_a": ndcg_a, "ndcg_b": ndcg_b, "change": change})
        changed.sort(key=lambda c: (c["ndcg_b"] - c["ndcg_a"], c["id"]))
        result[mode] = {"questions": len(common), "groups": tables, "changed": changed,
                        "latency_ms": {"a": a["summary"]["modes"].get(mode, {}).get("latency_ms"),
                                       "b": b["summary"]["modes"].get(mode, {}).get("latency_ms")}}
    return result


# --- answers -----------------------------------------------------------------------------------


def _population(kind: str, question: dict, answer_a: dict, answer_b: dict, field: str) -> bool:
    if kind == "answerable" and question["type"] == UNANSWERABLE:
        return False
    if kind == "unanswerable" and question["type"] != UNANSWERABLE:
        return False
    if kind == "naming" and not (answer_b.get("names_unit") and answer_a.get("names_unit")):
        return False
    return answer_a.get(field) is not None and answer_b.get(field) is not None


def answer_group(a: dict, b: dict, members: list[str], options: Options) -> list[dict]:
    rows = []
    for metric, (kind, field, better) in ANSWER_METRICS.items():
        ids = [q for q in members if _population(kind, b["questions"][q], a["answers"][q], b["answers"][q], field)]
        x = np.array([float(a["answers"][q][field]) for q in ids], dtype=float)
        y = np.array([float(b["answers"][q][field]) for q in ids], dtype=float)
        rows.append(metric_row(metric, x, y, paired_p(x, y, options), options, better))
    return rows


def _answer_score(question: dict, answer: dict) -> tuple:
    """How good one answer is, for 'better' or 'worse': abstaining when it should, then evidence, then precision."""
    if question["type"] == UNANSWERABLE:
        return (bool(answer["abstained"]),)
    return (not answer["abstained"], bool(answer["contains_evidence"]), answer["citation_precision"] or 0.0)


def answer_diff(text_a: str | None, text_b: str | None) -> list[str] | None:
    """A unified diff of two answers, line by line (None when a run did not keep its answer text)."""
    if text_a is None or text_b is None:
        return None
    return list(difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), "A", "B", lineterm="", n=2))


def compare_answers(a: dict, b: dict, ids: list[str], options: Options) -> dict:
    common = [q for q in ids if q in a["answers"] and q in b["answers"]]
    groups = [("split", s, [q for q in common if b["questions"][q]["split"] == s]) for s in ("test", "calibrate", "fit")]
    groups += [("all", "all", common)]
    groups += [("type", t, [q for q in common if b["questions"][q]["type"] == t]) for t in (*ANSWERABLE_TYPES, UNANSWERABLE)]
    tables = [{"group": g, "value": v, "n": len(m), "metrics": answer_group(a, b, m, options)} for g, v, m in groups if m]
    flags = ("abstained", "abstention", "contains_evidence", "citation_precision", "named_unit_first")
    changed = []
    for q in common:
        x, y = a["answers"][q], b["answers"][q]
        if x.get("answer_sha") == y.get("answer_sha") and all(x.get(f) == y.get(f) for f in flags):
            continue
        question = b["questions"][q]
        before, after = _answer_score(question, x), _answer_score(question, y)
        changed.append({"id": q, "question": question["question"], "type": question["type"], "split": question["split"],
                        "a": {f: x.get(f) for f in flags}, "b": {f: y.get(f) for f in flags},
                        "change": "better" if after > before else "worse" if after < before else "changed",
                        "diff": answer_diff(x.get("answer"), y.get("answer"))})
    order = {"worse": 0, "better": 1, "changed": 2}
    changed.sort(key=lambda c: (order[c["change"]], c["id"]))
    return {"questions": len(common), "groups": tables, "changed": changed,
            "latency_ms": {"a": a["summary"]["answers"]["summary"]["latency_ms"],
                           "b": b["summary"]["answers"]["summary"]["latency_ms"]}}


# --- the whole comparison ------------------------------------------------------------------------


def _flat(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_changes(a: dict, b: dict) -> list[dict]:
    """Settings that differ (the modes as a set: their order is only the order they were run in)."""
    x, y = _flat(a["config"]), _flat(b["config"])
    for flat in (x, y):
        flat["modes"] = sorted(flat.get("modes", []))
    return [{"setting": k, "a": x.get(k), "b": y.get(k)} for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]


def index_changes(a: dict, b: dict) -> dict:
    docs_a, docs_b = a["index"]["corpus"].get("documents", {}), b["index"]["corpus"].get("documents", {})
    return {"same": a["index"]["fingerprint"] == b["index"]["fingerprint"],
            "a": a["index"]["fingerprint"], "b": b["index"]["fingerprint"],
            "documents_added": sorted(set(docs_b) - set(docs_a)), "documents_removed": sorted(set(docs_a) - set(docs_b)),
            "documents_changed": sorted(d for d in set(docs_a) & set(docs_b) if docs_a[d] != docs_b[d]),
            "glossary_changed": a["index"]["corpus"].get("glossary") != b["index"]["corpus"].get("glossary")}


def _same_item(x: dict, y: dict) -> bool:
    return all(x.get(k) == y.get(k) for k in ("question", "type", "split")) and \
        sorted(x.get("relevant", [])) == sorted(y.get("relevant", []))


def compare_runs(a: dict, b: dict, options: Options = Options()) -> dict:
    """Run B against run A: the comparison as a JSON-ready dict (see the module's docstring)."""
    if options.test not in TESTS:
        raise AssistantError(f"Unknown test {options.test!r}; choose {' or '.join(TESTS)}.")
    shared = [q for q in b["questions"] if q in a["questions"]]
    changed_gold = [q for q in shared if not _same_item(a["questions"][q], b["questions"][q])]
    ids = [q for q in shared if q not in changed_gold]
    if not ids:
        raise AssistantError(f"The runs {a['id']} and {b['id']} share no gold question; there is nothing to compare.")
    return {
        "a": _about(a), "b": _about(b),
        "options": {**asdict(options), "description": options.describe()},
        "config_changes": config_changes(a, b),
        "index": index_changes(a, b),
        "questions": {"compared": len(ids), "only_a": sorted(set(a["questions"]) - set(b["questions"])),
                      "only_b": sorted(set(b["questions"]) - set(a["questions"])), "gold_changed": changed_gold},
        "retrieval": compare_retrieval(a, b, ids, options),
        "modes_only_in_a": [m for m in a["retrieval"] if m not in b["retrieval"]],
        "modes_only_in_b": [m for m in b["retrieval"] if m not in a["retrieval"]],
        "answers": compare_answers(a, b, ids, options),
    }


def _about(run: dict) -> dict:
    config = run["config"]
    return {"id": run["id"], "created_at": run["created_at"], "command": run.get("command", ""),
            "modes": config["modes"], "rrf_k": config["rrf_k"], "model": config["model"], "backend": config["backend"],
            "code": run.get("code", {})}


def significant_drops(comparison: dict, modes: tuple[str, ...] = ("hybrid",), split: str = "test") -> list[str]:
    """One line per significant drop: the modes' retrieval over all questions, and the answers on `split`."""
    drops = []
    for mode in modes:
        for table in comparison["retrieval"].get(mode, {}).get("groups", []):
            if table["group"] == "all":
                drops += [f"{mode} {r['metric']}: {r['a']:.3f} -> {r['b']:.3f} (p = {r['p']:.3f}, "
                          f"interval [{r['low']:+.3f}, {r['high']:+.3f}])" for r in table["metrics"] if r["verdict"] == "worse"]
    for table in comparison["answers"]["groups"]:
        if table["group"] == "split" and table["value"] == split:
            drops += [f"answers ({split}) {r['metric']}: {r['a']:.3f} -> {r['b']:.3f} (p = {r['p']:.3f}, "
                      f"interval [{r['low']:+.3f}, {r['high']:+.3f}])" for r in table["metrics"] if r["verdict"] == "worse"]
    return drops


def render_comparison(comparison: dict, limit: int = 15) -> str:
    """The comparison as Markdown for the terminal."""
    from assistant.present.evaluation import comparison_markdown

    return comparison_markdown(comparison, limit)
