"""Offline evaluation on the gold set: retrieval per mode, a plain baseline, answers, latency.

Retrieval metrics come from ranx (Recall@1/3/5/10, MRR@10, nDCG@10), on unit ids
(deduplicated; a unit is relevant when the gold evidence names it). The baseline is the
plain recipe: LangChain's recursive character splitter (1,000 characters, 200 overlap)
over each document's cleaned text, the same model and a flat FAISS index; it and our
units are also scored by evidence-quote containment, so the two are measured alike.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError
from assistant.settings import Settings
from eval.gold import TRANSLATIONS, UNANSWERABLE, Evidence, GoldItem, load_gold, load_translations  # noqa: F401  (load_gold is part of this module's face)

METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10")
ANSWERABLE_TYPES = ("lookup", "status", "number", "paraphrase", "multi")
SPLITTER_CHUNK_SIZE, SPLITTER_OVERLAP = 1000, 200


def normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def relevant_units(item: GoldItem, unit_ids_by_locator: dict[tuple[str, str], str]) -> set[str]:
    return {unit_ids_by_locator[(e.doc_id, e.locator)] for e in item.evidence if (e.doc_id, e.locator) in unit_ids_by_locator}


def ranx_scores(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    """ranx metrics, each checked to lie in [0, 1]."""
    from ranx import Qrels, Run, evaluate

    if not qrels:
        return {m: 0.0 for m in METRICS}
    padded_run = {q: (run.get(q) or {"__none__": 0.0}) for q in qrels}
    scores = evaluate(Qrels(qrels), Run(padded_run), list(METRICS), make_comparable=True)
    scores = {m: float(scores[m]) for m in METRICS}
    for name, value in scores.items():
        if not 0.0 <= value <= 1.0:
            raise AssistantError(f"The metric {name} came out as {value}, outside [0, 1].")
    return scores


def _run_from_ids(ranked_ids: list[str]) -> dict[str, float]:
    """Scores that encode the rank, so ties cannot reorder results; ids deduplicated."""
    unique = list(dict.fromkeys(ranked_ids))
    return {doc_id: float(len(unique) - position) for position, doc_id in enumerate(unique)}


@dataclass
class ModeResult:
    mode: str
    overall: dict[str, float]
    by_type: dict[str, dict[str, float]]
    containment: dict[str, float]
    latency_ms: dict[str, float]
    per_question: list[dict] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def evaluate_mode(engine, gold: list[GoldItem], mode: str, unit_ids: dict[tuple[str, str], str]) -> ModeResult:
    answerable = [g for g in gold if g.answerable]
    qrels = {g.id: {u: 1 for u in relevant_units(g, unit_ids)} for g in answerable}
    run: dict[str, dict[str, float]] = {}
    containment_run: dict[str, dict[str, float]] = {}
    containment_qrels: dict[str, dict[str, int]] = {}
    latencies = []
    rows = []
    engine.retriever.clear_cache()
    for item in answerable:
        started = time.perf_counter()
        hits = engine.retriever.search(item.question, k=10, mode=mode)
        ms = (time.perf_counter() - started) * 1000
        latencies.append(ms)
        ranked = [h.unit.unit_id for h in hits]
        run[item.id] = _run_from_ids(ranked)
        quotes = [normalise(e.quote) for e in item.evidence]
        contained = [h.unit.unit_id for h in hits if any(q in normalise(h.unit.text) for q in quotes)]
        containment_qrels[item.id] = {u: 1 for u in contained} or {"__none__": 1}
        containment_run[item.id] = _run_from_ids(ranked)
        rows.append({"id": item.id, "type": item.type, "question": item.question, "relevant": sorted(qrels[item.id]),
                     "retrieved": ranked, "first_relevant_rank": next(
                         (i for i, u in enumerate(ranked, start=1) if u in qrels[item.id]), None), "ms": round(ms, 2)})
    overall = ranx_scores(qrels, run)
    by_type = {}
    for kind in ANSWERABLE_TYPES:
        ids = [g.id for g in answerable if g.type == kind]
        if ids:
            by_type[kind] = ranx_scores({i: qrels[i] for i in ids}, {i: run[i] for i in ids})
    containment = _containment_recall(answerable, containment_run, lambda qid, uid: uid in containment_qrels[qid])
    latency = {"median": statistics.median(latencies) if latencies else 0.0, "p95": _percentile(latencies, 95)}
    return ModeResult(mode, overall, by_type, containment, latency, rows)


def _containment_recall(items: list[GoldItem], run: dict[str, dict[str, float]], relevant) -> dict[str, float]:
    """Share of questions with an evidence-containing passage in the top k; MRR@10 alike."""
    result = {}
    for k in (1, 3, 5, 10):
        hits = sum(1 for g in items if any(relevant(g.id, u) for u in list(run[g.id])[:k]))
        result[f"recall@{k}"] = hits / len(items) if items else 0.0
    reciprocal = []
    for g in items:
        ranks = [i for i, u in enumerate(list(run[g.id])[:10], start=1) if relevant(g.id, u)]
        reciprocal.append(1.0 / ranks[0] if ranks else 0.0)
    result["mrr@10"] = float(np.mean(reciprocal)) if reciprocal else 0.0
    return result


# --- the plain recipe -----------------------------------------------------------------


def baseline_texts(settings: Settings) -> list[tuple[str, str]]:
    """(doc_id, chunk text) from a recursive character splitter over each document's clean text."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.ingest import document_path, html_to_text, load_documents, load_lines, markdown_to_text

    splitter = RecursiveCharacterTextSplitter(chunk_size=SPLITTER_CHUNK_SIZE, chunk_overlap=SPLITTER_OVERLAP)
    pieces = []
    for document in load_documents(settings.corpus_dir):
        lines = load_lines(document_path(settings.corpus_dir, document))
        text = "\n".join(
            "\n".join(markdown_to_text(t) for t in html_to_text(line.text.replace("\t", "\n")).split("\n"))
            for line in lines
        )
        pieces.extend((document.id, chunk) for chunk in splitter.split_text(text))
    return pieces


@dataclass
class Baseline:
    texts: list[tuple[str, str]]
    vectors: np.ndarray
    index: object

    def search(self, encoder, question: str, k: int = 10) -> tuple[list[int], float]:
        started = time.perf_counter()
        vector = encoder.encode([question])
        _, ids = self.index.search(vector, k)
        return [int(i) for i in ids[0] if i >= 0], (time.perf_counter() - started) * 1000


def build_baseline(settings: Settings, encoder) -> Baseline:
    import faiss

    texts = baseline_texts(settings)
    vectors = encoder.encode([t for _, t in texts])
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return Baseline(texts, vectors, index)


def evaluate_baseline(baseline: Baseline, encoder, gold: list[GoldItem]) -> dict:
    answerable = [g for g in gold if g.answerable]
    run, latencies = {}, []
    for item in answerable:
        ids, ms = baseline.search(encoder, item.question)
        latencies.append(ms)
        run[item.id] = {str(i): float(10 - n) for n, i in enumerate(ids)}
    quotes = {g.id: [normalise(e.quote) for e in g.evidence] for g in answerable}
    texts = [normalise(t) for _, t in baseline.texts]
    containment = _containment_recall(answerable, run, lambda qid, cid: any(q in texts[int(cid)] for q in quotes[qid]))
    return {"chunks": len(baseline.texts), "containment": containment,
            "latency_ms": {"median": statistics.median(latencies), "p95": _percentile(latencies, 95)}}


# --- answers --------------------------------------------------------------------------


def _tokens(text: str) -> set[str]:
    from assistant.index.bm25 import tokenize

    return set(tokenize([text])[0])


def answer_contains_evidence(answer_text: str, item: GoldItem) -> bool:
    """The answer quotes the gold evidence: at least 80% of an evidence quote's terms appear in it."""
    answer_terms = _tokens(answer_text)
    for evidence in item.evidence:
        terms = _tokens(evidence.quote)
        if terms and len(terms & answer_terms) / len(terms) >= 0.8:
            return True
    return False


def citation_precision(answer, item: GoldItem) -> float | None:
    """The share of the answer's cited passages that hold a gold evidence quote (None when nothing is cited)."""
    quotes = [normalise(e.quote) for e in item.evidence]
    cited = list(answer.citations)
    if not cited or answer.abstained:
        return None
    return sum(1 for c in cited if any(q in normalise(c.quote) for q in quotes)) / len(cited)


def _named_units(item: GoldItem, engine) -> list[str]:
    """Ids of the existing units the question names by locator ("action 12"), for the cited-first check."""
    return engine.retriever.locators.named(item.question)


def evaluate_answers(engine, gold: list[GoldItem]) -> dict:
    """Answer metrics per split (the test split is the one reported), with per-question rows."""
    rows = []
    engine.retriever.clear_cache()
    for item in gold:
        started = time.perf_counter()
        answer = engine.ask(item.question)
        ms = (time.perf_counter() - started) * 1000
        named = _named_units(item, engine)
        first = answer.citations[0].unit.unit_id if answer.citations else (answer.hits[0].unit.unit_id if answer.hits else "")
        rows.append({
            "id": item.id, "split": item.split, "type": item.type, "intent": item.intent, "style": item.style,
            "unanswerable_kind": item.unanswerable_kind, "question": item.question, "abstained": answer.abstained,
            "abstention": answer.abstention,
            "contains_evidence": (not answer.abstained) and answer_contains_evidence(answer.answer, item),
            "citation_precision": citation_precision(answer, item),
            "names_unit": bool(named), "named_unit_first": (first in named) if named else None,
            "answerable_probability": answer.analysis.get("answerable"), "ms": round(ms, 2),
            "answer": answer.answer, "notes": answer.notes, "analysis": answer.analysis,
            "cited": [c.unit.unit_id for c in answer.citations], "passages": [h.unit.unit_id for h in answer.hits],
        })
    splits = {split: summarise([r for r in rows if r["split"] == split]) for split in ("fit", "calibrate", "test")}
    splits["all"] = summarise(rows)
    test = [r for r in rows if r["split"] == "test"]
    slices = {}
    for key in ("type", "intent", "style", "unanswerable_kind"):
        values = sorted({r[key] for r in test if r[key]})
        slices[key] = {v: summarise([r for r in test if r[key] == v]) for v in values}
    return {"summary": splits["test"], "splits": splits, "slices": slices, "rows": rows,
            "calibration": calibration([r for r in rows if r["split"] == "test"],
                                       engine.answerer.model.answer_threshold)}


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["type"] != UNANSWERABLE]
    unanswerable = [r for r in rows if r["type"] == UNANSWERABLE]
    precisions = [r["citation_precision"] for r in answerable if r["citation_precision"] is not None]
    naming = [r for r in rows if r["names_unit"]]
    latencies = [r["ms"] for r in rows]
    return {
        "answer_contains_evidence": _share(answerable, "contains_evidence"),
        "citation_precision": float(np.mean(precisions)) if precisions else 0.0,
        "false_abstention_rate": _share(answerable, "abstained"),
        "abstention_on_unanswerable": _share(unanswerable, "abstained"),
        "named_unit_cited_first": _share(naming, "named_unit_first") if naming else None,
        "latency_ms": {"median": statistics.median(latencies) if latencies else 0.0, "p95": _percentile(latencies, 95)},
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "naming_a_unit": len(naming),
    }


def _share(rows: list[dict], key: str) -> float:
    return sum(1 for r in rows if r[key]) / len(rows) if rows else 0.0


def calibration(rows: list[dict], current: float) -> dict:
    """False abstention vs abstention on unanswerable questions, over thresholds on P(answerable) (test split).

    Questions abstained on by a rule (a missing action, a name the corpus never mentions, a redacted
    best passage, a figure not given, ...) abstain at every threshold.
    """
    def abstains(r: dict, threshold: float) -> bool:
        p = r["answerable_probability"]
        forced = r["abstained"] and (p is None or p >= current)
        return forced or p is None or p < threshold

    answerable = [r for r in rows if r["type"] != UNANSWERABLE]
    unanswerable = [r for r in rows if r["type"] == UNANSWERABLE]
    table = []
    for threshold in np.round(np.arange(0.0, 0.61, 0.05), 2):
        table.append({
            "threshold": float(threshold),
            "false_abstention_rate": sum(abstains(r, threshold) for r in answerable) / len(answerable) if answerable else 0.0,
            "abstention_on_unanswerable": sum(abstains(r, threshold) for r in unanswerable) / len(unanswerable)
            if unanswerable else 0.0,
        })
    return {"current_threshold": current, "table": table}


# --- the whole run --------------------------------------------------------------------


def run_evaluation(settings: Settings, gold_path: Path, out_dir: Path, modes: tuple[str, ...] = ("bm25", "dense", "hybrid"),
                   baseline: bool = True) -> str:
    report, _ = build_report(settings, gold_path, modes, baseline)
    return write_report(report, out_dir)


def build_report(settings: Settings, gold_path: Path, modes: tuple[str, ...] = ("bm25", "dense", "hybrid"),
                 baseline: bool = True, engine=None) -> tuple[dict, object]:
    """The evaluation report (what eval.json holds) and the engine it was measured on (loaded unless given)."""
    from assistant.engine import load_engine
    from assistant.index import build_index, index_status

    if engine is None:
        status = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
        if not status.fresh:
            build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
        engine = load_engine(settings)
    settings = engine.settings
    gold = load_gold(gold_path)
    unit_ids = {(u.doc_id, u.locator): u.unit_id for u in engine.index.units.values()}
    missing = [e for g in gold for e in g.evidence if (e.doc_id, e.locator) not in unit_ids]
    if missing:
        raise AssistantError(f"Gold evidence names {missing[0].locator!r} of {missing[0].doc_id!r}, which is not a unit.")
    mode_results = [evaluate_mode(engine, gold, mode, unit_ids) for mode in modes]
    baseline_result = evaluate_baseline(build_baseline(settings, engine.retriever.encoder), engine.retriever.encoder,
                                        gold) if baseline else None
    answers = evaluate_answers(engine, gold)
    translations = gold_path.with_name(TRANSLATIONS.name)
    languages = evaluate_languages(engine, load_translations(translations, gold)) if translations.is_file() else None
    report = {
        "command": "assistant eval",
        "model": engine.index.model,
        "backend": engine.index.backend,
        "gold": {"path": str(gold_path.name), "questions": len(gold),
                 "by_type": {t: sum(1 for g in gold if g.type == t) for t in (*ANSWERABLE_TYPES, UNANSWERABLE)}},
        "rrf_k": settings.retrieval.rrf_k,
        "modes": {r.mode: {"overall": r.overall, "by_type": r.by_type, "containment": r.containment,
                           "latency_ms": r.latency_ms, "per_question": r.per_question} for r in mode_results},
        "rerank": "not available: no cross-encoder with weights is carried by a PyPI package",
        "baseline": baseline_result,
        "answers": answers,
        "languages": languages,
    }
    return report, engine


def evaluate_languages(engine, translated: list[GoldItem]) -> dict:
    """The translated gold questions answered like the English ones: by split, and the test split by language."""
    result = evaluate_answers(engine, translated)
    rows = result["rows"]
    for row in rows:
        row["language"] = row["analysis"].get("language", "")
    test = [r for r in rows if r["split"] == "test"]
    by_language = {code: summarise([r for r in test if r["language"] == code])
                   for code in sorted({r["language"] for r in test})}
    return {"questions": len(translated), "splits": result["splits"], "by_language": by_language, "rows": rows}


def write_report(report: dict, out_dir: Path) -> str:
    """eval.json, eval.md and modes.png in `out_dir`; returns the Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    markdown = render_markdown(report)
    (out_dir / "eval.md").write_text(markdown, encoding="utf-8")
    plot_modes(report, out_dir / "modes.png")
    return markdown


def _row(values: dict[str, float], keys: tuple[str, ...]) -> str:
    return " | ".join(f"{values.get(k, 0.0):.3f}" for k in keys)


def render_markdown(report: dict) -> str:
    lines = [f"Model: {report['model']} ({report['backend']}); gold set: {report['gold']['questions']} questions "
             f"({', '.join(f'{k} {v}' for k, v in report['gold']['by_type'].items())}); hybrid = RRF, k = {report['rrf_k']}.", ""]
    lines.append("Retrieval (units; relevance = the unit named by the gold evidence)")
    lines.append("")
    lines.append("| mode | " + " | ".join(METRICS) + " | median ms | p95 ms |")
    lines.append("|---|" + "---|" * (len(METRICS) + 2))
    for mode, result in report["modes"].items():
        lines.append(f"| {mode} | {_row(result['overall'], METRICS)} | {result['latency_ms']['median']:.1f} | "
                     f"{result['latency_ms']['p95']:.1f} |")
    lines.append(f"| rerank | {report['rerank']} |")
    lines.append("")
    lines.append("By question type (hybrid if run, else the last mode): Recall@5 / MRR@10")
    lines.append("")
    chosen = report["modes"].get("hybrid") or list(report["modes"].values())[-1]
    lines.append("| type | recall@5 | mrr@10 |")
    lines.append("|---|---|---|")
    for kind, values in chosen["by_type"].items():
        lines.append(f"| {kind} | {values['recall@5']:.3f} | {values['mrr@10']:.3f} |")
    lines.append("")
    lines.append("Structure-aware units vs the plain recipe (relevance = passage contains a gold evidence quote)")
    lines.append("")
    keys = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10")
    lines.append("| system | passages | " + " | ".join(keys) + " | median ms |")
    lines.append("|---|---|" + "---|" * (len(keys) + 1))
    for mode, result in report["modes"].items():
        lines.append(f"| units, {mode} | units | {_row(result['containment'], keys)} | {result['latency_ms']['median']:.1f} |")
    if report["baseline"]:
        b = report["baseline"]
        lines.append(f"| recursive splitter 1000/200, dense | {b['chunks']} chunks | {_row(b['containment'], keys)} | "
                     f"{b['latency_ms']['median']:.1f} |")
    lines.append("")
    answers = report["answers"]
    lines.append("Answers (extractive, default settings), by split. The ranker is fitted on `fit`, the abstention "
                 "threshold calibrated on `calibrate`; `test` is the split reported.")
    lines.append("")
    lines += _split_table(answers["splits"], named=True)
    for key, title in (("intent", "intent"), ("style", "style"), ("unanswerable_kind", "unanswerable kind")):
        lines += ["", f"Test split by {title} (items that carry the label)", ""]
        lines += _slice_table(title, answers["slices"][key])
    languages = report.get("languages")
    if languages:
        lines += ["", f"Questions in other languages ({languages['questions']} gold questions translated into Greek, "
                  "Bulgarian, German, French and Arabic, eval/gold_languages.jsonl; each in its source's split), "
                  "answered from the English documents through the multilingual encoder", ""]
        lines += _split_table(languages["splits"], named=False)
        lines.append("")
        lines += _slice_table("language (test split)", {code or "read as English": s
                                                        for code, s in languages["by_language"].items()})
    lines.append("")
    cal = answers["calibration"]
    lines.append(f"Abstention threshold on P(answerable) (current: {cal['current_threshold']:.2f}, calibrated on the "
                 "calibrate split; the curve below is the test split)")
    lines.append("")
    lines.append("| threshold | false abstention | abstention on unanswerable |")
    lines.append("|---|---|---|")
    for row in cal["table"]:
        lines.append(f"| {row['threshold']:.2f} | {row['false_abstention_rate']:.3f} | {row['abstention_on_unanswerable']:.3f} |")
    return "\n".join(lines) + "\n"


def _split_table(splits: dict, named: bool) -> list[str]:
    """Answer figures by split; with `named`, the named-unit-first column too."""
    lines = ["| split | answer contains gold evidence | citation precision | false abstention | abstention on "
             "unanswerable |" + (" named unit cited first |" if named else "") + " median ms | p95 ms |",
             "|---|---|---|---|---|" + ("---|" if named else "") + "---|---|"]
    for split in ("test", "calibrate", "fit", "all"):
        s = splits[split]
        first = ""
        if named:
            first = " — |" if s["named_unit_cited_first"] is None else \
                f" {s['named_unit_cited_first']:.3f} ({s['naming_a_unit']}) |"
        lines.append(f"| {split} | {s['answer_contains_evidence']:.3f} ({s['answerable']}) | {s['citation_precision']:.3f} | "
                     f"{s['false_abstention_rate']:.3f} | {s['abstention_on_unanswerable']:.3f} ({s['unanswerable']}) |"
                     f"{first} {s['latency_ms']['median']:.1f} | {s['latency_ms']['p95']:.1f} |")
    return lines


def _slice_table(title: str, slices: dict) -> list[str]:
    lines = [f"| {title} | answerable: evidence in answer | unanswerable: abstained |", "|---|---|---|"]
    for value, s in slices.items():
        evidence = f"{s['answer_contains_evidence']:.3f} ({s['answerable']})" if s["answerable"] else "—"
        abstained = f"{s['abstention_on_unanswerable']:.3f} ({s['unanswerable']})" if s["unanswerable"] else "—"
        lines.append(f"| {value} | {evidence} | {abstained} |")
    return lines


def plot_modes(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(report["modes"])
    metrics = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    width = 0.8 / max(len(modes), 1)
    figure, axis = plt.subplots(figsize=(8, 4))
    for i, mode in enumerate(modes):
        values = [report["modes"][mode]["overall"][m] for m in metrics]
        axis.bar(np.arange(len(metrics)) + i * width, values, width, label=mode)
    axis.set_xticks(np.arange(len(metrics)) + width * (len(modes) - 1) / 2, metrics)
    axis.set_ylim(0, 1)
    axis.set_ylabel("score")
    axis.set_title(f"Retrieval on the gold set ({report['model']}, {report['backend']})")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
