"""Retrieval and answers on documents a user adds, and on the shipped ones with those added beside them.

    python -m eval.added            # writes eval/results/added.md and added.json

The 13 real documents of tests/fixtures/documents/ are added (through the same code as
`assistant add`) to a temporary copy of the corpus, which is indexed; then:
  - the questions of eval/gold_new_added.jsonl, whose evidence names a fixture file and a
    verbatim quote, are scored (the relevant unit is the one holding the quote);
  - the shipped gold set (eval/gold.jsonl) is scored on the same index, to show whether the
    shipped documents' figures fall when other documents are in the index.
Figures are reported per split (fixed by the hash of each id, as for the shipped gold set);
nothing was fitted on these questions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from assistant.settings import PROJECT_ROOT, load_settings
from eval.evaluation import answer_contains_evidence, normalise, ranx_scores
from eval.gold import Evidence, GoldItem, split_of
from eval.machine import machine_info, machine_line

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "documents"
ADDED_GOLD = PROJECT_ROOT / "eval" / "gold_new_added.jsonl"
SHIPPED_GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
RESULTS = PROJECT_ROOT / "eval" / "results"


def build_corpus(root: Path) -> tuple[object, dict[str, str]]:
    """A copy of the shipped corpus with every fixture added, indexed; returns (settings, file -> doc id)."""
    from assistant.index import build_index
    from assistant.uploads import add_upload

    base = load_settings()
    corpus = root / "corpus"
    shutil.copytree(base.corpus_dir, corpus, ignore=shutil.ignore_patterns("uploads"))
    doc_of: dict[str, str] = {}
    sources = json.loads((FIXTURES / "SOURCES.json").read_text(encoding="utf-8"))
    for entry in sources:
        path = FIXTURES / entry["file"]
        added = add_upload(corpus, path.read_bytes(), path.name)
        doc_of[entry["file"]] = added.document.id
    settings = base.with_overrides(corpus_dir=corpus, index_dir=root / "index")
    build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    return settings, doc_of


def load_added_gold(path: Path, doc_of: dict[str, str], units: list) -> list[GoldItem]:
    """Gold items whose {file, quote} evidence is resolved to the unit that holds the quote."""
    by_doc: dict[str, list] = {}
    for unit in units:
        by_doc.setdefault(unit.doc_id, []).append(unit)
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        evidence = []
        for e in row["evidence"]:
            doc_id = doc_of.get(e["file"]) if "file" in e else e["doc_id"]
            quote = normalise(e["quote"])
            holder = next((u for u in by_doc.get(doc_id, []) if quote in normalise(u.text)), None)
            evidence.append(Evidence(doc_id or "", holder.locator if holder else "", e["quote"]))
        items.append(GoldItem(row["id"], row["question"], row["answer"], row["type"], tuple(evidence),
                              split=split_of(row["id"]), intent=row.get("intent", ""), style=row.get("style", ""),
                              unanswerable_kind=row.get("unanswerable_kind", "")))
    return items


def score(engine, items: list[GoldItem]) -> dict:
    """Unit recall and answer metrics for these items on this engine."""
    unit_of = {(u.doc_id, u.locator): u.unit_id for u in engine.index.units.values()}
    qrels, run, rows = {}, {}, []
    unresolved = 0
    for item in items:
        hits = engine.retriever.search(item.question, k=10)
        answer = engine.ask(item.question)
        relevant = {unit_of[(e.doc_id, e.locator)] for e in item.evidence if (e.doc_id, e.locator) in unit_of}
        if item.answerable and not relevant:
            unresolved += 1
        if item.answerable and relevant:
            qrels[item.id] = {u: 1 for u in relevant}
            ranked = list(dict.fromkeys(h.unit.unit_id for h in hits))
            run[item.id] = {u: float(len(ranked) - i) for i, u in enumerate(ranked)}
        rows.append({"id": item.id, "split": item.split, "answerable": item.answerable, "abstained": answer.abstained,
                     "evidence": (not answer.abstained) and item.answerable and answer_contains_evidence(answer.answer, item),
                     "unanswerable_kind": item.unanswerable_kind, "question": item.question, "answer": answer.answer})
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    share = lambda rs, key: sum(1 for r in rs if r[key]) / len(rs) if rs else 0.0  # noqa: E731
    return {"retrieval": ranx_scores(qrels, run) if qrels else {}, "questions": len(items),
            "answerable": len(answerable), "unanswerable": len(unanswerable), "unresolved_evidence": unresolved,
            "answer_contains_evidence": share(answerable, "evidence"), "false_abstention": share(answerable, "abstained"),
            "abstention_on_unanswerable": share(unanswerable, "abstained"), "rows": rows}


def by_split(engine, items: list[GoldItem]) -> dict:
    return {"all": score(engine, items), "test": score(engine, [i for i in items if i.split == "test"])}


def render(report: dict) -> str:
    lines = [f"Machine: {report['machine']}", f"Command: `{report['command']}`", "",
             f"Corpus: the two shipped documents plus the {report['added_documents']} fixture documents, added with "
             "the code behind `assistant add`.", "",
             "| questions | split | recall@1 | recall@5 | mrr@10 | evidence in answer | false abstention | "
             "abstention on unanswerable |", "|---|---|---|---|---|---|---|---|"]
    for name, title in (("added", "about the added documents"), ("shipped", "shipped gold set, added documents in the index")):
        for split in ("test", "all"):
            s = report[name][split]
            r = s["retrieval"]
            lines.append(f"| {title} | {split} ({s['answerable']} + {s['unanswerable']}) | {r.get('recall@1', 0):.3f} | "
                         f"{r.get('recall@5', 0):.3f} | {r.get('mrr@10', 0):.3f} | {s['answer_contains_evidence']:.3f} | "
                         f"{s['false_abstention']:.3f} | {s['abstention_on_unanswerable']:.3f} |")
    lines += ["", f"Evidence quotes not found in any unit (lost by ingestion): {report['added']['all']['unresolved_evidence']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from assistant.engine import load_engine
    from eval.gold import load_gold

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="added-eval-") as scratch:
        settings, doc_of = build_corpus(Path(scratch))
        engine = load_engine(settings)
        added = load_added_gold(ADDED_GOLD, doc_of, list(engine.index.units.values()))
        shipped = load_gold(SHIPPED_GOLD)
        report = {"machine": machine_line(machine_info()), "command": "python -m eval.added",
                  "added_documents": len(doc_of), "added": by_split(engine, added), "shipped": by_split(engine, shipped)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "added.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    (args.out / "added.md").write_text(render(report), encoding="utf-8")
    print(render(report))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
