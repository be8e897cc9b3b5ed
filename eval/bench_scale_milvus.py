"""The Milvus store at a million vectors: `python -m eval.bench_scale_milvus --scale-dir DIR --vectors 1000000`.

DIR is a size's folder kept by `python -m eval.bench_scale --sizes 1000000 --keep` (its corpus/ and index/).
The first VECTORS chunks of that index are written into a collection of the local Milvus engine
(milvus-lite 2.5.1's native engine) with an IVF_FLAT index (nlist 128 per sealed segment, nprobe 16),
then, in a fresh process, the same figures as for FAISS: cold start to first answer, RSS (ours and
the engine's), warm search and ask p50/p95 for dense and hybrid, with and without filters (filters
evaluated inside Milvus' search). BM25 stays ours, so bm25 mode is not repeated here.

Results: eval/results/scale_milvus.json and scale_milvus.md. When VECTORS is below the index's chunk
count, dense candidates come only from the chunks in the collection (the serving process builds the
retriever on the collection directly: the collection's keys are not the whole index's, and
`--store milvus` would rightly refuse it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "eval" / "results"
COLLECTION = "scale_chunks"
FILTERS = {"none": {}, "kind=action": {"kinds": ("action",)}, "country=Bulgaria": {"countries": ("Bulgaria",)},
           "dates 2023": {"date_from": "2023-01-01", "date_to": "2023-12-31"}}

from eval.bench_scale import load_now, percentiles, questions, timed_search_and_ask  # noqa: E402
from eval.machine import machine_info, machine_line  # noqa: E402


def _settings(db: Path):
    from assistant.search.milvus import MilvusSettings

    return MilvusSettings(uri=str(db), collection=COLLECTION, index_type="IVF_FLAT", consistency="Session")


def ingest(scale_dir: Path, db: Path, vectors: int, batch: int = 10_000) -> dict[str, Any]:
    from assistant.index import load_index
    from assistant.search import StoreEntry
    from assistant.search.milvus import MilvusStore

    index = load_index(scale_dir / "index")
    total = min(vectors, len(index.chunks))
    embedding = f"{index.model}/{index.backend}"
    result: dict[str, Any] = {"vectors": total, "index_chunks": len(index.chunks), "index_units": len(index.units),
                              "load_average_before": load_now()}
    with MilvusStore(_settings(db), 384, replace_other_schema=True) as store:
        store.drop()
    written, started = 0, time.perf_counter()
    with MilvusStore(_settings(db), 384) as store:
        for start in range(0, total, batch):
            rows = list(range(start, min(start + batch, total)))
            entries = [StoreEntry.of(index.chunks[r], index.unit_of_chunk(r), embedding) for r in rows]
            store.upsert(entries, index.vectors[rows])
            written += len(rows)
            if written % 100_000 < batch:
                print(f"  {written:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        result["ingest_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        store.flush()
        result["flush_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            described = store._client.describe_index(COLLECTION, index_name="vector")
            # the local engine reports state Finished with no row counts; a server counts pending rows down
            if int(described.get("pending_index_rows", 0) or 0) == 0 and described.get("state") == "Finished":
                break
            time.sleep(5)
        result["index_build_s"] = round(time.perf_counter() - started, 1)
        result["index"] = {k: str(v) for k, v in described.items()}
        result["count"] = store.count()
    result["ingest_rows_per_s"] = round(total / result["ingest_s"], 1)
    result["disk_bytes"] = sum(p.stat().st_size for p in db.parent.rglob("*") if p.is_file())
    index.close()
    return result


def serve(spec: dict[str, Any]) -> dict[str, Any]:
    """A fresh process: the index, the encoder and the Milvus collection opened, one answer, then warm figures."""
    import psutil

    from assistant.answering import Answerer
    from assistant.embedding import load_encoder
    from assistant.index import load_index
    from assistant.ingest import load_glossary
    from assistant.search import Filters, Query, Retriever
    from assistant.search.milvus import MilvusStore

    scale_dir = Path(spec["scale_dir"])
    index = load_index(scale_dir / "index", scale_dir / "corpus", spec["model"], spec["backend"])
    encoder = load_encoder(index.model, index.backend)
    glossary = load_glossary(scale_dir / "corpus")
    store = MilvusStore(_settings(Path(spec["db"])), 384)
    retriever = Retriever(index, encoder, glossary, store=store)
    answerer = Answerer(retriever)
    loaded = time.time()
    asked = questions(spec["questions"])
    answerer.ask(Query(asked[0]))
    answered = time.time()
    process = psutil.Process()
    engines = [c for c in process.children(recursive=True) if "milvus" in " ".join(c.cmdline())]
    out: dict[str, Any] = {"cold_start_s": round(answered - spec["started"], 2),
                           "open_s": round(loaded - spec["started"], 2),
                           "rss_after_load_mib": round(process.memory_info().rss / 2**20, 1),
                           "engine_rss_mib": round(sum(e.memory_info().rss for e in engines) / 2**20, 1)}
    latency: dict[str, Any] = {}
    for mode in ("dense", "hybrid"):
        for name, kwargs in FILTERS.items():
            filters = Filters(**kwargs)
            for q in asked[:3]:
                answerer.ask(Query(q, filters=filters, mode=mode))
            latency[f"{mode} | {name}"] = timed_search_and_ask(
                retriever, lambda q, f=filters, m=mode: retriever.search(q, mode=m, filters=f),
                lambda q, f=filters, m=mode: answerer.ask(Query(q, filters=f, mode=m)), asked)
        # the store alone: one k=50 search, the question already embedded
        vector = retriever.embed_query(asked[0])[None, :]
        times = []
        for _ in range(30):
            started = time.perf_counter()
            store.search(vector, 50)
            times.append((time.perf_counter() - started) * 1000)
        out["store_search_ms"] = percentiles(times)
    out["latency"] = latency
    out["engine_rss_after_mib"] = round(sum(e.memory_info().rss for e in engines) / 2**20, 1)
    store.close()
    return out


def markdown(data: dict[str, Any]) -> str:
    ingest_, serving = data["ingest"], data["serving"]
    lines = [
        "# The Milvus store at scale (local engine: milvus-lite 2.5.1's native Milvus)",
        "",
        f"Machine: {machine_line(data['machine'])}; shared (load average {ingest_['load_average_before']} before "
        f"the ingest, {data['load_average_serving']} before serving).",
        f"Command: `{data['command']}`",
        f"Collection: the first {ingest_['vectors']:,} chunk vectors of the {ingest_['index_units']:,}-unit scale index "
        f"({ingest_['index_chunks']:,} chunks), IVF_FLAT (nlist 128 per sealed segment, nprobe 16), inner product. "
        "BM25 is ours (hybrid = Milvus dense + our BM25, fused).",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| ingest (upserts of 1,000 rows from one client) | {ingest_['ingest_s'] / 60:.1f} min "
        f"({ingest_['ingest_rows_per_s']:,.0f} rows/s) |",
        f"| flush / index built on sealed segments | {ingest_['flush_s']} s / {ingest_['index_build_s']} s |",
        f"| collection on disk | {ingest_['disk_bytes'] / 2**30:.2f} GiB |",
        f"| cold start to first answer (fresh process: index, encoder, engine, collection load) | "
        f"{serving['cold_start_s']} s |",
        f"| RSS after loading: our process / the Milvus engine | {serving['rss_after_load_mib']:,.0f} / "
        f"{serving['engine_rss_mib']:,.0f} MiB |",
        f"| one k=50 search in the store, p50 / p95 | {serving['store_search_ms']['p50']} / "
        f"{serving['store_search_ms']['p95']} ms |",
    ]
    for key, value in serving["latency"].items():
        key = key.replace(" | ", ", ")
        lines.append(f"| search {key}, p50 / p95 | {value['search_ms']['p50']} / {value['search_ms']['p95']} ms |")
        lines.append(f"| ask {key}, p50 / p95 | {value['ask_ms']['p50']} / {value['ask_ms']['p95']} ms |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale-dir", type=Path, default=Path("/tmp/assistant-scale/1000000"))
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--skip-ingest", action="store_true", help="Serve the collection already written.")
    args = parser.parse_args(argv)
    from assistant.offline import set_offline_flags

    set_offline_flags()
    if args.serve:
        print(json.dumps(serve(json.loads(args.serve))))
        return
    from assistant.settings import DEFAULT_BACKEND, DEFAULT_MODEL

    db = args.scale_dir / "milvus" / "scale.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    path = args.out / "scale_milvus.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data.update({"machine": machine_info(["pymilvus", "milvus-lite"]),
                 "command": f"python -m eval.bench_scale_milvus --vectors {args.vectors}"})
    if not args.skip_ingest or "ingest" not in data:
        print(f"Writing {args.vectors:,} vectors into the local Milvus engine ...", flush=True)
        data["ingest"] = ingest(args.scale_dir, db, args.vectors)
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    data["load_average_serving"] = load_now()
    spec = {"scale_dir": str(args.scale_dir), "db": str(db), "questions": args.questions, "started": time.time(),
            "model": DEFAULT_MODEL, "backend": DEFAULT_BACKEND}
    run = subprocess.run([sys.executable, "-m", "eval.bench_scale_milvus", "--serve", json.dumps(spec)],
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, cwd=ROOT,
                         timeout=7200)
    if run.returncode != 0:
        raise RuntimeError(f"the serving process failed:\n{run.stderr[-3000:]}")
    data["serving"] = json.loads(run.stdout.strip().splitlines()[-1])
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    (args.out / "scale_milvus.md").write_text(markdown(data), encoding="utf-8")
    print(f"Wrote {args.out / 'scale_milvus.md'}")


if __name__ == "__main__":
    main()
