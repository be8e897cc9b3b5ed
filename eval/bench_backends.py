"""FAISS vs Milvus as the vector store: the same evaluation side by side, then speed at scale.

1. Quality on the gold set: `evaluation.evaluate_mode` (ranx metrics) for dense and hybrid
   retrieval, once with the default FAISS store and once with the real index synced into the
   Milvus engine (milvus-lite 2.5's native engine, a local database in a temporary folder).
   The metrics must match; end-to-end latency per question (query embedding included) and
   store-only latency (one k=50 search, with and without a filter) are reported per store.
2. Scale: N random unit vectors (384-d) with random metadata in each store: ingest
   throughput (upserts of 1,000), single-query latency without a filter and with a filter
   evaluated in the store (a kind, ~1/3 of the rows; a country, ~2%), and batch throughput.
   Exact search in both (FAISS flat; Milvus FLAT, the local engine's exact index), so the
   results are the same and only the time differs.
3. Embedding a large ingest on several processes (sentence-transformers' pool) against one
   process: start-up, texts per second and the largest difference between the vectors.

Run: .venv/bin/python eval/bench_backends.py [--sizes 20000 100000] [--queries 200]
     [--embedding-texts 218] [--workers 2]
Writes eval/results/backends.json and eval/results/backends.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from assistant.offline import set_offline_flags  # noqa: E402

set_offline_flags()

from eval.machine import machine_info  # noqa: E402
from assistant.embedding import encode_in_processes
from assistant.search import FaissStore, Filters, StoreEntry, entry_key  # noqa: E402

DIMENSION = 384
K = 50  # candidates the retriever takes from the dense side (RetrievalSettings.candidates)
BATCH = 1000
MODES = ("dense", "hybrid")
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
KINDS = ("action", "annex_item", "letter_section")
COUNTRIES = tuple(f"Country {i:02d}" for i in range(50))


def machine(argv: list[str]) -> dict[str, Any]:
    """What the numbers were measured on: they mean little without it."""
    packages = ("faiss-cpu", "pymilvus", "milvus-lite", "torch", "sentence-transformers", "numpy")
    command = ".venv/bin/python eval/bench_backends.py " + " ".join(shlex.quote(a) for a in argv)
    return {**machine_info(packages), "command": command}


def _ms(samples: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(samples) * 1000, 3),
            "p95": round(float(np.percentile(samples, 95)) * 1000, 3)}


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


# --- 1. quality on the gold set ---------------------------------------------------------------


def gold_comparison(milvus_dir: Path) -> dict[str, Any]:
    from assistant.engine import load_engine
    from eval.evaluation import evaluate_mode, load_gold
    from assistant.index import build_index, index_status
    from assistant.search.milvus import MilvusSettings, open_for_index, sync_milvus
    from assistant.search import Filters, Retriever
    from assistant.settings import PROJECT_ROOT, load_settings

    settings = load_settings()
    if not index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend).fresh:
        build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    engine = load_engine(settings)
    milvus_settings = MilvusSettings(uri=str(milvus_dir / "gold.db"), collection="gold")
    started = time.perf_counter()
    sync = sync_milvus(engine.index, milvus_settings)
    sync_s = time.perf_counter() - started
    store = open_for_index(engine.index, milvus_settings, engine.retriever.entries)
    retriever = Retriever(engine.index, engine.retriever.encoder, engine.glossary, engine.retriever.settings, store=store)
    engines = {"faiss": engine, "milvus": dataclasses.replace(engine, retriever=retriever)}
    gold = load_gold(PROJECT_ROOT / "eval" / "gold.jsonl")
    unit_ids = {(u.doc_id, u.locator): u.unit_id for u in engine.index.units.values()}
    evaluate_mode(engine, gold[:5], "dense", unit_ids)  # warm-up: the first encode is slow
    result: dict[str, Any] = {"questions": len(gold), "chunks": len(engine.index.chunks),
                              "milvus_sync_s": round(sync_s, 2), "milvus_sync": dataclasses.asdict(sync), "modes": {}}
    for mode in MODES:
        for name, chosen in engines.items():
            run = evaluate_mode(chosen, gold, mode, unit_ids)
            result["modes"].setdefault(mode, {})[name] = {
                "overall": {m: round(run.overall[m], 4) for m in METRICS}, "latency_ms": run.latency_ms,
                "ranked": {row["id"]: row["retrieved"] for row in run.per_question}}
    for mode in MODES:
        ranked = result["modes"][mode]
        same = sum(ranked["faiss"]["ranked"][q] == ranked["milvus"]["ranked"][q] for q in ranked["faiss"]["ranked"])
        result["modes"][mode]["identical_rankings"] = same
        result["modes"][mode]["answerable"] = len(ranked["faiss"]["ranked"])
        for name in ("faiss", "milvus"):
            del ranked[name]["ranked"]
    # Store-only latency: one k=50 search per gold question, as the retriever calls it.
    queries = np.stack([engine.retriever.embed_query(engine.glossary.expand_query(g.question)) for g in gold])
    filters = {"none": None, "country Bulgaria": engine.retriever.resolve(Filters(countries=("BG",))),
               "kind action, 2024": engine.retriever.resolve(Filters(kinds=("action",), date_from="2024-01-01"))}
    result["store_latency_ms"] = {}
    for name, chosen in engines.items():
        target = chosen.retriever.store
        for label, where in filters.items():
            for q in queries[:5]:
                target.search(q[None, :], K, where)
            samples = [s for q in queries for s in _timed(lambda q=q: target.search(q[None, :], K, where), 1)]
            result["store_latency_ms"].setdefault(name, {})[label] = _ms(samples)
    store.close()
    return result


# --- 2. scale ---------------------------------------------------------------------------------


def synthetic(n: int, seed: int = 0) -> tuple[list[StoreEntry], np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    entries = []
    for i in range(n):
        fields = dict(chunk_id=f"c{i}", unit_id=f"u{i // 3}", content_hash=f"{i:020x}", doc_id=f"doc-{i % 40}",
                      kind=KINDS[i % 3], section=f"Section {i % 17}", doc_date=f"20{20 + i % 6}-01-01",
                      countries=(COUNTRIES[i % 50],), embedding="synthetic")
        entries.append(StoreEntry(key=entry_key(**fields), **fields))
    return entries, vectors


def scale_run(n: int, n_queries: int, milvus_dir: Path) -> dict[str, Any]:
    from assistant.search.milvus import MilvusSettings, MilvusStore

    entries, vectors = synthetic(n)
    queries = np.random.default_rng(1).normal(size=(n_queries, DIMENSION)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    filters = {"none": None, "kind (1/3 of rows)": Filters(kinds=("annex_item",)),
               "country (2% of rows)": Filters(countries=(COUNTRIES[7],))}
    makers = {"faiss": lambda: FaissStore.empty(DIMENSION, kind="flat"),
              "milvus": lambda: MilvusStore(MilvusSettings(uri=str(milvus_dir / f"s{n}.db"), collection="scale"),
                                            DIMENSION)}
    out: dict[str, Any] = {"n": n, "queries": n_queries, "k": K, "stores": {}}
    results: dict[str, list[list[str]]] = {}
    for name, make in makers.items():
        store = make()
        started = time.perf_counter()
        for start in range(0, n, BATCH):
            store.upsert(entries[start:start + BATCH], vectors[start:start + BATCH])
        if hasattr(store, "flush"):
            store.flush()
        ingest_s = time.perf_counter() - started
        row: dict[str, Any] = {"ingest_s": round(ingest_s, 2), "ingest_per_s": round(n / ingest_s, 1),
                               "latency_ms": {}}
        for label, where in filters.items():
            for q in queries[:5]:
                store.search(q[None, :], K, where)
            row["latency_ms"][label] = _ms([t for q in queries for t in _timed(
                lambda q=q, where=where: store.search(q[None, :], K, where), 1)])
        batch_s = min(_timed(lambda: store.search(queries, K), 3))
        row["batch_queries_per_s"] = round(n_queries / batch_s, 1)
        if name == "milvus":  # what each consistency level costs a reader, no filter
            configured = store.settings
            row["latency_by_consistency_ms"] = {}
            for level in ("Strong", "Session", "Bounded", "Eventually"):
                store.settings = dataclasses.replace(configured, consistency=level)
                row["latency_by_consistency_ms"][level] = _ms([t for q in queries[:50] for t in _timed(
                    lambda q=q: store.search(q[None, :], K), 1)])
            store.settings = configured
        results[name] = [[h.key for h in hits] for hits in store.search(queries[:50], 10)]
        started = time.perf_counter()
        store.delete([e.key for e in entries[:BATCH]])
        row["delete_1000_s"] = round(time.perf_counter() - started, 3)
        out["stores"][name] = row
        if hasattr(store, "drop"):
            store.drop()
        store.close()
    overlap = [len(set(a) & set(b)) / 10 for a, b in zip(results["faiss"], results["milvus"])]
    out["top10_overlap_faiss_milvus"] = round(float(np.mean(overlap)), 4)
    return out


# --- 3. embedding on several processes --------------------------------------------------------


def embedding_run(n_texts: int, workers: int) -> dict[str, Any]:
    from assistant.embedding import load_encoder
    from assistant.settings import DEFAULT_MODEL
    from assistant.chunking import chunk_corpus
    from assistant.settings import load_settings

    chunks = [c.index_text for c in chunk_corpus(load_settings().corpus_dir, DEFAULT_MODEL).chunks]
    texts = (chunks * (n_texts // len(chunks) + 1))[:n_texts]
    encoder = load_encoder(DEFAULT_MODEL, "torch")
    encoder.encode(texts[:8])
    started = time.perf_counter()
    single = encoder.encode(texts)
    single_s = time.perf_counter() - started
    started = time.perf_counter()
    pooled = encode_in_processes(DEFAULT_MODEL, texts, workers=workers)
    pooled_s = time.perf_counter() - started
    return {"texts": n_texts, "workers": workers, "model": DEFAULT_MODEL,
            "single_process_s": round(single_s, 2), "single_texts_per_s": round(n_texts / single_s, 2),
            "pool_total_s": round(pooled_s, 2), "pool_texts_per_s_with_startup": round(n_texts / pooled_s, 2),
            "max_abs_difference": float(np.max(np.abs(pooled - single)))}


# --- report -----------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = ["# Vector stores: FAISS (embedded) vs Milvus (milvus-lite 2.5 engine, local)", "",
             f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; Python {m['python']}; "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
             f"- Load average before the run: {m['load_average_before']} (a shared machine: latencies are noisy)",
             f"- Command: `{m['command']}` ({report['total_s'] / 60:.1f} min)", ""]
    gold = report["gold"]
    lines += [f"## Same evaluation, both stores ({gold['questions']} gold questions, {gold['chunks']} chunks)", "",
              f"Milvus sync of the real index: {gold['milvus_sync']['added']} entries in {gold['milvus_sync_s']:.2f} s.",
              "", "| mode | store | " + " | ".join(METRICS) + " | median ms | p95 ms | identical rankings |",
              "|---|---|" + "---|" * (len(METRICS) + 3)]
    for mode in MODES:
        for name in ("faiss", "milvus"):
            r = gold["modes"][mode][name]
            lines.append(f"| {mode} | {name} | " + " | ".join(f"{r['overall'][k]:.3f}" for k in METRICS)
                         + f" | {r['latency_ms']['median']:.1f} | {r['latency_ms']['p95']:.1f} | "
                         + f"{gold['modes'][mode]['identical_rankings']}/{gold['modes'][mode]['answerable']} |")
    lines += ["", "Latency above is end to end per question (query embedding, both retrievers, fusion).",
              f"Store only, one k={K} search per gold question (ms, median / p95):", "",
              "| store | " + " | ".join(gold["store_latency_ms"]["faiss"]) + " |",
              "|---|" + "---|" * len(gold["store_latency_ms"]["faiss"])]
    for name, row in gold["store_latency_ms"].items():
        lines.append(f"| {name} | " + " | ".join(f"{v['median']:.2f} / {v['p95']:.2f}" for v in row.values()) + " |")
    for run in report["scale"]:
        lines += ["", f"## Scale: {run['n']:,} random 384-d vectors, {run['queries']} queries, k={run['k']}, exact search", "",
                  "| store | ingest vectors/s | no filter ms | kind filter ms | country filter ms | batch queries/s | "
                  "delete 1,000 s |", "|---|---|---|---|---|---|---|"]
        for name, row in run["stores"].items():
            lat = list(row["latency_ms"].values())
            lines.append(f"| {name} | {row['ingest_per_s']:,.0f} | " + " | ".join(
                f"{v['median']:.2f} (p95 {v['p95']:.2f})" for v in lat)
                + f" | {row['batch_queries_per_s']:,.0f} | {row['delete_1000_s']:.3f} |")
        lines.append(f"\nTop-10 overlap FAISS vs Milvus on 50 queries: {run['top10_overlap_faiss_milvus']:.3f}. "
                     "Milvus search latency by consistency level, no filter (ms, median / p95): "
                     + ", ".join(f"{level} {v['median']:.2f} / {v['p95']:.2f}" for level, v in
                                 run["stores"]["milvus"]["latency_by_consistency_ms"].items()) + ".")
    e = report.get("embedding")
    if e:
        lines += ["", f"## Embedding a large ingest: {e['texts']} chunk texts, {e['model']}", "",
                  "| how | seconds | texts/s | max abs difference vs one process |", "|---|---|---|---|",
                  f"| one process (torch threads = cores) | {e['single_process_s']:.1f} | {e['single_texts_per_s']:.1f} | — |",
                  f"| pool of {e['workers']} processes (start-up included) | {e['pool_total_s']:.1f} | "
                  f"{e['pool_texts_per_s_with_startup']:.1f} | {e['max_abs_difference']:.2e} |"]
    lines += ["", "Reading: the quality columns must be equal (same vectors, exact search in both). FAISS answers",
              "in-process, filters as an id selector built from column arrays; Milvus pays a gRPC round trip per",
              "call and a Python conversion of every row on ingest, and evaluates filters natively inside its",
              "search. What it buys is a server that many app processes share and that scales out",
              "(docs/distributed.md), not speed on one machine.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedding-texts", type=int, default=218, help="0 skips the embedding comparison")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report: dict[str, Any] = {"machine": machine(argv)}
    milvus_dir = Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    try:
        report["gold"] = gold_comparison(milvus_dir)
        print(json.dumps(report["gold"]["modes"], indent=1), flush=True)
        report["scale"] = []
        for n in args.sizes:
            report["scale"].append(scale_run(n, args.queries, milvus_dir))
            print(json.dumps(report["scale"][-1], indent=1), flush=True)
    finally:
        shutil.rmtree(milvus_dir, ignore_errors=True)
    if args.embedding_texts:
        report["embedding"] = embedding_run(args.embedding_texts, args.workers)
        print(json.dumps(report["embedding"], indent=1), flush=True)
    report["total_s"] = time.perf_counter() - started
    report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "backends.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (args.out / "backends.md").write_text(render(report), encoding="utf-8")
    print(render(report))


if __name__ == "__main__":
    main()
