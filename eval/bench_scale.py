"""End to end at scale: `python -m eval.bench_scale --sizes 10000 100000 1000000` (`make bench-scale`,
`assistant bench --scale N`).

Per size N (units), on a corpus generated from the real units (eval/scale_corpus.py):
  - ingest + chunking throughput: the real pipeline (loaders, units, chunks, sentences) on the real
    template documents, projected to N (it is per document, so linear by construction);
  - embedding throughput: the real ONNX int8 encoder on a sample of the generated chunk texts, with
    1 and 2 worker processes, projected to the size's chunks and sentences; the index itself is
    built from vectors derived from real sentence vectors (see eval/scale_corpus.py), not the encoder;
  - index build time (the streaming writer: SQLite stores, vectors, FAISS flat <= 30k / IVF above,
    BM25, row and filter tables), and the index's size on disk by file;
  - in a fresh process: cold start to first answer (process start, imports, staleness check, open,
    first `ask`), RSS after loading, then warm search and ask p50/p95 for each mode (dense, bm25,
    hybrid), with and without filters (kind, country, date range), query embedding included;
  - the cost of adding one document (a real fixture file) with `assistant add`'s code path: the
    file checks and the incremental index build (a delta segment).
Results: eval/results/scale_bench.json (merged per size, so sizes can be run separately),
scale_bench.md and scale_bench.png (log-log, each figure against N). The load average is
recorded before and after each size: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "eval" / "results"
ADD_FILE = ROOT / "tests" / "fixtures" / "documents" / "frontex-eu-external-borders-august-2022.txt"
ADD_QUESTION = "How many irregular border crossings did Frontex report for August 2022?"
MODES = ("dense", "bm25", "hybrid")
FILTERS = {  # name -> Filters keyword arguments
    "none": {},
    "kind=action": {"kinds": ("action",)},
    "country=Bulgaria": {"countries": ("Bulgaria",)},
    "dates 2023": {"date_from": "2023-01-01", "date_to": "2023-12-31"},
}
TARGETS = {1_000_000: {"hybrid ask p50 ms": 50, "cold start s": 10, "rss GiB": 4, "add document s": 30},
           100_000: {"hybrid ask p50 ms": 20}}

from eval.machine import machine_info, machine_line  # noqa: E402


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(float(np.percentile(values, 95)), 2),
            "n": len(values)}


def timed_search_and_ask(retriever, search, ask, asked: list[str]) -> dict[str, dict[str, float]]:
    """p50/p95 of `search(q)` and `ask(q)` over the questions, each timed with the query cache cleared first."""
    search_ms, ask_ms = [], []
    for q in asked:
        for call, times in ((search, search_ms), (ask, ask_ms)):
            retriever.clear_cache()
            started = time.perf_counter()
            call(q)
            times.append((time.perf_counter() - started) * 1000)
    return {"search_ms": percentiles(search_ms), "ask_ms": percentiles(ask_ms)}


def questions(limit: int) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    answerable = [r["question"] for r in rows if r.get("type") != "unanswerable" and r.get("split", "") != "x"]
    return answerable[:limit]


def load_now() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- pipeline throughput (not per size) ------------------------------------------------------------


def measure_ingest(templates_corpus: Path, model: str, repeat: int = 3) -> dict[str, Any]:
    """The real loaders, chunker and sentence splitter on the real template documents."""
    from assistant.chunking import chunk_settings_for, chunks_for_unit, unit_sentences, units_for_document
    from assistant.chunking.tokens import TokenCounter
    from assistant.ingest import document_path, load_documents, load_glossary, load_lines
    from assistant.models import model_path

    documents = load_documents(templates_corpus)
    glossary = load_glossary(templates_corpus)
    settings, counter = chunk_settings_for(model), TokenCounter(model_path(model))
    units = chunks = sentences = size = 0
    started = time.perf_counter()
    for _ in range(repeat):
        for document in documents:
            path = document_path(templates_corpus, document)
            size += path.stat().st_size
            own = units_for_document(document, load_lines(path), glossary, model)
            units += len(own)
            chunks += sum(len(chunks_for_unit(u, document, settings, counter, glossary)) for u in own)
            sentences += sum(len(unit_sentences(u)) for u in own)
    seconds = time.perf_counter() - started
    return {"documents": len(documents) * repeat, "units": units, "chunks": chunks, "sentences": sentences,
            "seconds": round(seconds, 2), "units_per_s": round(units / seconds, 1),
            "mb_per_s": round(size / seconds / 1e6, 3)}


def measure_embedding(texts: list[str], model: str) -> dict[str, Any]:
    """ONNX int8 on one process (2 threads) and on two worker processes (1 thread each)."""
    from assistant.embedding import OnnxProcessPool
    from assistant.embedding.onnx import OnnxEncoder

    result: dict[str, Any] = {"sample_texts": len(texts),
                              "mean_chars": round(sum(map(len, texts)) / max(len(texts), 1))}
    started = time.perf_counter()
    encoder = OnnxEncoder(model, quantized=True)
    encoder.encode(texts[:32])
    start_up = time.perf_counter() - started
    started = time.perf_counter()
    encoder.encode(texts)
    seconds = time.perf_counter() - started
    result["1 worker"] = {"start_s": round(start_up, 2), "texts_per_s": round(len(texts) / seconds, 1)}
    started = time.perf_counter()
    with OnnxProcessPool(model, workers=2, quantized=True) as pool:
        start_up = time.perf_counter() - started
        started = time.perf_counter()
        pool.encode(texts)
        seconds = time.perf_counter() - started
    result["2 workers"] = {"start_s": round(start_up, 2), "texts_per_s": round(len(texts) / seconds, 1)}
    return result


# --- one size --------------------------------------------------------------------------------------


def disk_usage(generation: Path) -> dict[str, int]:
    groups: dict[str, int] = {}
    for path in generation.rglob("*"):
        if path.is_file():
            name = path.relative_to(generation).as_posix()
            key = name.split("/")[0] if name.startswith("bm25/") else name.split("/")[-1]
            key = "bm25/" if name.startswith("bm25/") or "/bm25/" in name else key
            groups[key] = groups.get(key, 0) + path.stat().st_size
    groups["total"] = sum(groups.values())
    return groups


def run_size(units: int, work: Path, templates, model: str, backend: str, seed: int, question_count: int,
             keep: bool) -> dict[str, Any]:
    from assistant.index import write_generation
    from assistant.index.manifest import HASH_CACHE, corpus_fingerprint
    from eval.scale_corpus import VECTORS_FROM, generate

    folder = work / str(units)
    shutil.rmtree(folder, ignore_errors=True)
    corpus, index_dir = folder / "corpus", folder / "index"
    corpus.mkdir(parents=True)
    result: dict[str, Any] = {"units": units, "load_average_before": load_now(),
                              "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    generating = [0.0]
    fingerprinting = [0.0]

    def timed_records():
        records = generate(templates, units, seed, corpus)
        while True:
            started = time.perf_counter()
            try:
                item = next(records)
            except StopIteration:
                generating[0] += time.perf_counter() - started
                return
            generating[0] += time.perf_counter() - started
            yield item

    def fingerprint():
        started = time.perf_counter()
        value = corpus_fingerprint(corpus, index_dir / HASH_CACHE)
        fingerprinting[0] = time.perf_counter() - started
        return value

    started = time.perf_counter()
    report = write_generation(index_dir, timed_records(), model, backend, fingerprint, VECTORS_FROM)
    total = time.perf_counter() - started
    from assistant.index import read_manifest

    manifest = read_manifest(report.generation)
    result.update({
        "documents": manifest.counts["documents"], "chunks": manifest.counts["chunks"],
        "sentences": manifest.counts["sentences"], "vector_index": manifest.vector_index,
        "generate_s": round(generating[0], 1), "fingerprint_s": round(fingerprinting[0], 1),
        "index_build_s": round(total - generating[0] - fingerprinting[0], 1),
        "disk_bytes": disk_usage(report.generation),
        "corpus_bytes": sum(p.stat().st_size for p in (corpus / "docs").iterdir()),
    })
    print(f"  {units:,} units: generated in {generating[0]:.0f} s, index built in {result['index_build_s']:.0f} s",
          flush=True)
    result["serving"] = serve_in_fresh_process(corpus, index_dir, question_count)
    print(f"  served: cold start {result['serving']['cold_start_s']} s, RSS {result['serving']['rss_after_load_mib']} MiB",
          flush=True)
    result["add_document"] = add_one_document(corpus, index_dir, model, backend)
    print(f"  add one document: {result['add_document']['total_s']} s", flush=True)
    result["load_average_after"] = load_now()
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def serve_in_fresh_process(corpus: Path, index_dir: Path, question_count: int) -> dict[str, Any]:
    env = {**os.environ, "ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir),
           "PYTHONPATH": str(ROOT)}
    spec = json.dumps({"questions": question_count, "started": time.time()})
    run = subprocess.run([sys.executable, "-m", "eval.bench_scale", "--serve", spec], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=7200)
    if run.returncode != 0:
        raise RuntimeError(f"the serving process failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def serve(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: load the engine, answer once (cold), then time warm searches and asks."""
    import psutil

    from assistant.engine import load_engine
    from assistant.search import Filters, Query
    from assistant.settings import load_settings

    process = psutil.Process()
    imported = time.time()
    engine = load_engine(load_settings())
    loaded = time.time()
    rss_after_load = process.memory_info().rss
    asked = questions(spec["questions"])
    first = engine.ask(asked[0])
    answered = time.time()
    out: dict[str, Any] = {
        "cold_start_s": round(answered - spec["started"], 2),
        "imports_s": round(imported - spec["started"], 2), "load_s": round(loaded - imported, 2),
        "first_answer_s": round(answered - loaded, 2), "first_answer_abstained": first.abstained,
        "rss_after_load_mib": round(rss_after_load / 2**20, 1),
    }
    latency: dict[str, Any] = {}
    retriever = engine.retriever
    for mode in MODES:  # one pass over every question first: the index's pages are read once, before any timing
        for q in asked:
            engine.ask(Query(q, mode=mode))
    for mode in MODES:
        for name, kwargs in FILTERS.items():
            filters = Filters(**kwargs)
            for q in asked[:3]:  # warm-up of this combination
                engine.ask(Query(q, filters=filters, mode=mode))
            latency[f"{mode} | {name}"] = timed_search_and_ask(
                retriever, lambda q, f=filters, m=mode: engine.search(Query(q, filters=f, mode=m)),
                lambda q, f=filters, m=mode: engine.ask(Query(q, filters=f, mode=m)), asked)
    out["latency"] = latency
    info = process.memory_full_info()
    out["rss_after_queries_mib"] = round(info.rss / 2**20, 1)
    out["uss_after_queries_mib"] = round(info.uss / 2**20, 1)
    out["filter_share"] = {name: round(float(len(retriever.allowed_rows(Filters(**kw)))) / len(engine.index.chunks), 4)
                           for name, kw in FILTERS.items() if kw}
    return out


def add_one_document(corpus: Path, index_dir: Path, model: str, backend: str) -> dict[str, Any]:
    """`assistant add FILE`'s code path: the file's checks and its metadata entry, then the index update."""
    from assistant.index import build_index, load_index
    from assistant.uploads import add_paths

    started = time.perf_counter()
    report = add_paths(corpus, [str(ADD_FILE)])
    checked = time.perf_counter() - started
    if report.failed or not report.added:
        raise RuntimeError(f"adding {ADD_FILE.name} failed: {report.failed or report.skipped}")
    started = time.perf_counter()
    built = build_index(index_dir, corpus, model, backend)
    indexed = time.perf_counter() - started
    index = load_index(index_dir, corpus, model, backend)
    doc_id = report.added[0].document.id
    found = len(index.document_units(doc_id))
    segments = len(index.manifest.segments)
    index.close()
    return {"file": ADD_FILE.name, "add_checks_s": round(checked, 2), "index_update_s": round(indexed, 2),
            "total_s": round(checked + indexed, 2), "incremental": built.incremental, "units_added": found,
            "embedded_texts": built.embedded_texts, "segments_after": segments}


# --- report ----------------------------------------------------------------------------------------


def write_report(data: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale_bench.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    (out / "scale_bench.md").write_text(markdown(data), encoding="utf-8")
    chart(data, out / "scale_bench.png")


def _figures(size: dict[str, Any]) -> dict[str, float]:
    serving = size["serving"]
    lat = serving["latency"]
    figures = {
        "index build s": size["index_build_s"],
        "index on disk GiB": size["disk_bytes"]["total"] / 2**30,
        "rss GiB": serving["rss_after_load_mib"] / 1024,
        "cold start s": serving["cold_start_s"],
        "add document s": size["add_document"]["total_s"],
    }
    for mode in MODES:
        figures[f"{mode} ask p50 ms"] = lat[f"{mode} | none"]["ask_ms"]["p50"]
        figures[f"{mode} search p50 ms"] = lat[f"{mode} | none"]["search_ms"]["p50"]
    return figures


def markdown(data: dict[str, Any]) -> str:
    info = data["machine"]
    sizes = sorted(data["sizes"].values(), key=lambda s: s["units"])
    pipeline = data.get("pipeline", {})
    lines = [
        "# End to end at scale",
        "",
        f"Machine: {machine_line(info)}; shared with other developers' work (load average recorded per size).",
        f"Command: `{data['command']}`",
        f"Model: {data['model']} ({data['backend']}). Corpus: generated from the real units by eval/scale_corpus.py "
        f"(seed {data['seed']}); vectors of the index derived from the real sentence vectors (a generated sentence "
        "has the vector of the template sentence it copies, a chunk the normalised mean of its sentences'), "
        "questions embedded by the real encoder. Page cache warm (the index was just written); a fresh process "
        "for the cold start.",
        "",
    ]
    if pipeline:
        ingest, embed = pipeline["ingest"], pipeline["embedding"]
        lines += [
            "## Throughput of the stages that are linear by construction (measured on samples)",
            "",
            f"- Ingest + chunking (real loaders, units, chunks, sentences on the {ingest['documents']} real template "
            f"documents): {ingest['units_per_s']} units/s ({ingest['mb_per_s']} MB/s of source files).",
            f"- Embedding, ONNX int8, {embed['sample_texts']} generated chunk texts (mean {embed['mean_chars']} "
            f"characters): 1 worker (2 threads) {embed['1 worker']['texts_per_s']} texts/s; 2 worker processes "
            f"(1 thread each) {embed['2 workers']['texts_per_s']} texts/s (start-up {embed['2 workers']['start_s']} s).",
            "",
        ]
    header = "| figure | " + " | ".join(f"{s['units']:,} units" for s in sizes) + " |"
    lines += ["## Per size", "", header, "|---|" + "---:|" * len(sizes)]

    def row(name: str, values: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(values) + " |")

    rate = pipeline.get("ingest", {}).get("units_per_s")
    one = pipeline.get("embedding", {}).get("1 worker", {}).get("texts_per_s")
    two = pipeline.get("embedding", {}).get("2 workers", {}).get("texts_per_s")
    row("documents / chunks / sentences", [f"{s['documents']:,} / {s['chunks']:,} / {s['sentences']:,}" for s in sizes])
    row("load average before / after", [f"{s['load_average_before'][0]} / {s['load_average_after'][0]}" for s in sizes])
    if rate:
        row("ingest + chunking, projected (real pipeline rate)", [_duration(s["units"] / rate) for s in sizes])
    if one and two:
        row("embedding chunks + sentences, projected, 1 / 2 workers",
            [f"{_duration((s['chunks'] + s['sentences']) / one)} / {_duration((s['chunks'] + s['sentences']) / two)}"
             for s in sizes])
    row("corpus generated (scale_corpus.py)", [_duration(s["generate_s"]) for s in sizes])
    row("index build (stores, vectors, ANN, BM25, tables)", [_duration(s["index_build_s"]) for s in sizes])
    row("ANN index", [_ann(s["vector_index"]) for s in sizes])
    row("index on disk", [_bytes(s["disk_bytes"]["total"]) for s in sizes])
    row("  of which store.sqlite / vectors / sentence vectors / faiss / bm25",
        [" / ".join(_bytes(s["disk_bytes"].get(k, 0)) for k in ("store.sqlite", "vectors.npy", "sentence_vectors.npy",
                                                                 "faiss.index", "bm25/")) for s in sizes])
    row("cold start to first answer (fresh process)", [f"{s['serving']['cold_start_s']} s" for s in sizes])
    row("  imports / open index + encoder / first ask",
        [f"{s['serving']['imports_s']} / {s['serving']['load_s']} / {s['serving']['first_answer_s']} s" for s in sizes])
    row("RSS after loading", [f"{s['serving']['rss_after_load_mib']:,.0f} MiB" for s in sizes])
    row("RSS / private (USS) after all queries",
        [f"{s['serving']['rss_after_queries_mib']:,.0f} / {s['serving']['uss_after_queries_mib']:,.0f} MiB"
         for s in sizes])
    for mode in MODES:
        for name in FILTERS:
            key = f"{mode} | {name}"
            shown = key.replace(" | ", ", ")
            row(f"search {shown}, p50 / p95 ms",
                [f"{s['serving']['latency'][key]['search_ms']['p50']} / {s['serving']['latency'][key]['search_ms']['p95']}"
                 for s in sizes])
            row(f"ask {shown}, p50 / p95 ms",
                [f"{s['serving']['latency'][key]['ask_ms']['p50']} / {s['serving']['latency'][key]['ask_ms']['p95']}"
                 for s in sizes])
    row("add one document: checks + metadata / index update (s)",
        [f"{s['add_document']['add_checks_s']} / {s['add_document']['index_update_s']}"
         f"{' (delta segment)' if s['add_document']['incremental'] else ' (full rebuild)'}" for s in sizes])
    lines += ["", "## Targets", ""]
    for size in sizes:
        targets = TARGETS.get(size["units"])
        if not targets:
            continue
        figures = _figures(size)
        for name, limit in targets.items():
            value = figures[name]
            verdict = "met" if value <= limit else f"missed by {value - limit:.2f} ({value / limit:.1f}x)"
            lines.append(f"- {size['units']:,} units, {name}: {value:.2f} (target <= {limit}): {verdict}")
    lines += ["", "Filter shares (of the chunks a filter lets through), largest size: "
              + ", ".join(f"{k} {v:.1%}" for k, v in sizes[-1]["serving"]["filter_share"].items()), ""]
    notes = data.get("notes", [])
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _bytes(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _ann(params: dict[str, Any]) -> str:
    if params.get("kind") == "ivf":
        return f"IVF nlist {params['nlist']}, nprobe {params['nprobe']}"
    return params.get("kind", "?")


def chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(data["sizes"].values(), key=lambda s: s["units"])
    if not sizes:
        return
    n = [s["units"] for s in sizes]
    figures = [_figures(s) for s in sizes]
    names = list(figures[0])
    columns = 3
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows))
    for ax, name in zip(axes.flat, names):
        values = [max(f[name], 1e-3) for f in figures]
        ax.loglog(n, values, "o-")
        for size, targets in TARGETS.items():
            if name in targets:  # the target at the size it is set for
                ax.plot([size], [targets[name]], "rv", markersize=7)
                ax.annotate(f"target at {size:,}", (size, targets[name]), fontsize=7, color="red",
                            textcoords="offset points", xytext=(-60, 6))
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("units")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("assistant end to end at scale, 2 shared cores (red triangles: targets)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "assistant-scale")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", action="store_true", help="Keep the generated corpus and index of each size.")
    parser.add_argument("--fresh", action="store_true", help="Forget earlier sizes in scale_bench.json.")
    parser.add_argument("--report-only", action="store_true", help="Rewrite the Markdown and the chart from the JSON.")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from assistant.offline import set_offline_flags

    set_offline_flags()
    if args.serve:
        print(json.dumps(serve(json.loads(args.serve))))
        return
    if args.report_only:
        write_report(json.loads((args.out / "scale_bench.json").read_text(encoding="utf-8")), args.out)
        return
    from assistant.settings import DEFAULT_BACKEND, DEFAULT_MODEL
    from eval.scale_corpus import load_templates

    model, backend = DEFAULT_MODEL, DEFAULT_BACKEND
    free = shutil.disk_usage(args.work.parent if not args.work.exists() else args.work).free
    print(f"{free / 2**30:.0f} GiB free under {args.work}", flush=True)
    path = args.out / "scale_bench.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() and not args.fresh else {}
    data.update({"machine": machine_info(["faiss-cpu", "bm25s", "onnxruntime", "numpy"]), "model": model,
                 "backend": backend, "seed": args.seed,
                 "command": "python -m eval.bench_scale --sizes " + " ".join(str(s) for s in args.sizes)})
    data.setdefault("sizes", {})
    templates = load_templates(args.work / "templates", model, backend)
    if "pipeline" not in data or args.fresh:
        from eval.scale_corpus import generate

        sample = [c.index_text for record in generate(templates, 400, args.seed + 1) for c in record[2]][:512]
        data["pipeline"] = {"ingest": measure_ingest(args.work / "templates" / "corpus", model),
                            "embedding": measure_embedding(sample, model),
                            "load_average": load_now()}
        write_report(data, args.out) if data["sizes"] else None
    for units in args.sizes:
        print(f"{units:,} units ...", flush=True)
        data["sizes"][str(units)] = run_size(units, args.work, templates, model, backend, args.seed, args.questions,
                                             args.keep)
        write_report(data, args.out)
    print(f"Wrote {args.out / 'scale_bench.md'}")


if __name__ == "__main__":
    main()
