"""Embedding backends side by side: cold start, throughput, query latency, agreement with PyTorch.

Why this exists: the "onnx" / "onnx-int8" backends are only worth their extra install step if
they start faster, embed faster and still give (nearly) the PyTorch vectors. This measures all
three on the real corpus and the real gold questions, on this machine, and writes
eval/results/embedding_bench.json and .md.

Run:  .venv/bin/python eval/bench_embedding.py            (about 6-8 minutes on 2 cores)
      .venv/bin/python eval/bench_embedding.py --no-mpnet  (MiniLM only, about 3 minutes)

- load: a fresh `python -c` per run, timed from before the process is spawned to the moment it
  reports its first vector, so interpreter start and every import count. One unmeasured warm-up
  run fills the page cache first; the median of the measured runs is reported.
- throughput: the corpus's chunk index texts, repeated up to --passages, batch 32, after a
  warm-up batch, timed in ROUNDS equal slices; the best and the median slice are reported. The
  2 cores are shared with other jobs that come and go: the best slice estimates the speed on a
  quiet machine, the median what a busy one gives. mpnet gets a subset (--mpnet-passages).
- latency: one gold question per call, median and p95.
- agreement: cosine between a backend's vectors and PyTorch's for the same texts (the unique
  chunks inside the throughput run, and the single queries), plus how many of PyTorch's top-10
  chunks per gold question the backend's vectors also rank in their top 10.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from assistant.offline import set_offline_flags  # noqa: E402

set_offline_flags()

from assistant.embedding import Encoder, load_encoder  # noqa: E402
from assistant.settings import DEFAULT_MODEL  # noqa: E402
from assistant.embedding import ensure_onnx, onnx_path  # noqa: E402
from assistant.chunking import chunk_corpus  # noqa: E402
from eval.machine import machine_info, wait_until_quiet  # noqa: E402

RESULTS = ROOT / "eval" / "results"
MPNET = "all-mpnet-base-v2"
CASES = [(DEFAULT_MODEL, "torch"), (DEFAULT_MODEL, "onnx"), (DEFAULT_MODEL, "onnx-int8"), (MPNET, "torch"), (MPNET, "onnx-int8")]
BATCH_SIZE = 32
ROUNDS = 5
TOP_K = 10

# The child reports on one line as soon as its first vector exists; teardown is not timed.
# Peak RSS comes from VmHWM, which exec resets (ru_maxrss would inherit this parent's peak).
COLD_START = """
import json, sys, time
started = time.perf_counter()
def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

from assistant.embedding import load_encoder
imported = time.perf_counter()
encoder = load_encoder({model!r}, {backend!r})
loaded = time.perf_counter()
encoder.encode(["Who are the lead actors for the toolbox on transport operators?"])
done = time.perf_counter()
print("FIRST-VECTOR " + json.dumps({{
    "import_s": imported - started, "encoder_s": loaded - imported, "first_encode_s": done - loaded,
    "peak_rss_mb": peak_rss_mb(),
    "torch_imported": "torch" in sys.modules,
}}), flush=True)
"""


def machine() -> dict[str, Any]:
    """What the numbers were measured on: they mean little without it."""
    info = machine_info(("torch", "sentence-transformers", "onnxruntime", "tokenizers", "numpy"))
    info.pop("load_average_before", None)
    return {**info, "command": " ".join([".venv/bin/python", "eval/bench_embedding.py", *sys.argv[1:]])}


def cold_start(model: str, backend: str, runs: int) -> dict[str, Any]:
    """Median seconds from spawning a fresh interpreter to its first vector (after one warm-up run)."""
    code = COLD_START.format(model=model, backend=backend)
    totals: list[float] = []
    report: dict[str, Any] = {}
    for run in range(runs + 1):
        began = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("FIRST-VECTOR "):
                elapsed = time.perf_counter() - began
                report = json.loads(line.split(" ", 1)[1])
                break
        else:
            child.wait()
            raise RuntimeError(f"The cold-start child for {model}/{backend} exited without a vector.")
        child.stdout.read()
        child.wait()
        if run:  # run 0 warms the page cache
            totals.append(elapsed)
    return {"load_s": float(np.median(totals)), "load_runs_s": totals, **report}


def throughput(encoder: Encoder, passages: list[str]) -> tuple[dict[str, Any], np.ndarray]:
    """Passages per second over ROUNDS slices of the passages (best, median, each), and the vectors."""
    encoder.encode(passages[:BATCH_SIZE], batch_size=BATCH_SIZE)  # warm-up: allocators, caches, lazy init
    size = -(-len(passages) // ROUNDS)
    rates, parts = [], []
    for start in range(0, len(passages), size):
        piece = passages[start : start + size]
        began = time.perf_counter()
        parts.append(encoder.encode(piece, batch_size=BATCH_SIZE))
        rates.append(len(piece) / (time.perf_counter() - began))
    speed = {"best": max(rates), "median": float(np.median(rates)), "rounds": rates}
    return speed, np.vstack(parts)


def latency(encoder: Encoder, queries: list[str]) -> tuple[dict[str, float], np.ndarray]:
    for query in queries[:5]:
        encoder.encode([query])
    times, vectors = [], []
    for query in queries:
        began = time.perf_counter()
        vectors.append(encoder.encode([query])[0])
        times.append((time.perf_counter() - began) * 1000)
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}, np.vstack(vectors)


def agreement(vectors: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    cosines = (vectors * reference).sum(axis=1)
    return {"mean": float(cosines.mean()), "min": float(cosines.min())}


def top_k_overlap(queries: np.ndarray, chunks: np.ndarray, ref_queries: np.ndarray, ref_chunks: np.ndarray) -> float:
    """Mean share of PyTorch's top-k chunks per query that this backend also puts in its top k."""
    k = min(TOP_K, len(chunks))
    ours = np.argsort(-(queries @ chunks.T), axis=1)[:, :k]
    theirs = np.argsort(-(ref_queries @ ref_chunks.T), axis=1)[:, :k]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, theirs)]))


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


class OtherLoad:
    """How much CPU everything but this benchmark used while a row was measured, in % of all cores.

    Waiting for quiet is not enough on a shared machine: a test suite can start mid-row. This
    says afterwards how clean each row's figures are.
    """

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._began = time.perf_counter()
        self._system, self._own = self._busy_system(), self._busy_own()

    def _busy_system(self) -> float:
        times = self._psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def _busy_own(self) -> float:
        own = self._psutil.Process().cpu_times()
        return own.user + own.system + own.children_user + own.children_system

    def percent(self) -> float:
        others = (self._busy_system() - self._system) - (self._busy_own() - self._own)
        capacity = (time.perf_counter() - self._began) * (os.cpu_count() or 1)
        return round(max(others, 0.0) / capacity * 100, 1)




def run(args: argparse.Namespace) -> dict[str, Any]:
    chunks = [c.index_text for c in chunk_corpus(ROOT / "corpus", DEFAULT_MODEL).chunks]
    passages = [chunks[i % len(chunks)] for i in range(args.passages)]
    gold = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text().splitlines() if line.strip()]
    questions = [g["question"] for g in gold]
    queries = [questions[i % len(questions)] for i in range(args.queries)]
    cases = [c for c in CASES if not (args.no_mpnet and c[0] == MPNET)]

    exports: dict[str, float] = {}
    for model, backend in cases:  # build step first, so no cold start includes an export
        if backend != "torch" and not onnx_path(model, backend == "onnx-int8").is_file():
            began = time.perf_counter()
            ensure_onnx(model, backend == "onnx-int8")
            exports[f"{model}/{backend}"] = time.perf_counter() - began

    results: list[dict[str, Any]] = []
    reference: dict[str, dict[str, np.ndarray]] = {}
    for model, backend in cases:
        subset = passages if model == DEFAULT_MODEL else passages[: args.mpnet_passages]
        unique = min(len(chunks), len(subset))
        n_queries = len(queries) if model == DEFAULT_MODEL else min(len(queries), args.mpnet_queries)
        row: dict[str, Any] = {"model": model, "backend": backend, "passages": len(subset), "queries": n_queries}
        row["cpu_busy_before_pct"] = wait_until_quiet(args.wait_quiet)
        row["loadavg_before"] = load_average()
        others = OtherLoad()
        print(f"{model} / {backend}: cold start x{args.load_runs}", flush=True)
        row["cold_start"] = cold_start(model, backend, args.load_runs)
        encoder = load_encoder(model, backend)
        print(f"{model} / {backend}: {len(subset)} passages", flush=True)
        row["passages_per_s"], vectors = throughput(encoder, subset)
        row["latency"], query_vectors = latency(encoder, queries[:n_queries])
        if backend == "torch":
            reference[model] = {"chunks": vectors[:unique], "queries": query_vectors}
        elif model in reference:
            ref = reference[model]
            row["cosine_vs_torch_passages"] = agreement(vectors[:unique], ref["chunks"])
            row["cosine_vs_torch_queries"] = agreement(query_vectors, ref["queries"])
            row["top10_overlap_vs_torch"] = top_k_overlap(query_vectors, vectors[:unique], ref["queries"], ref["chunks"])
        row["loadavg_after"] = load_average()
        row["other_cpu_pct_during"] = others.percent()
        results.append(row)
        print(json.dumps(row, default=float), flush=True)
        del encoder, vectors
        load_encoder.cache_clear()
        gc.collect()

    return {
        "machine": machine(),
        "workload": {
            "chunks": len(chunks),
            "mean_words_per_chunk": round(float(np.mean([len(c.split()) for c in chunks])), 1),
            "passages": args.passages,
            "mpnet_passages": args.mpnet_passages,
            "queries": args.queries,
            "batch_size": BATCH_SIZE,
            "rounds": ROUNDS,
            "load_runs": args.load_runs,
        },
        "exports_s": exports,
        "results": results,
    }


def markdown(report: dict[str, Any]) -> str:
    m, w = report["machine"], report["workload"]
    lines = [
        "# Embedding backends: cold start, speed, agreement with PyTorch",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- Command: `{m['command']}`",
        f"- Workload: the corpus's {w['chunks']} chunk index texts (mean {w['mean_words_per_chunk']} words), "
        f"repeated to {w['passages']} passages (mpnet: the first {w['mpnet_passages']}), batch {w['batch_size']}, timed in {w['rounds']} slices; "
        f"single-query latency on the gold questions ({w['queries']} calls, mpnet fewer).",
        f"- Cold start: fresh process to first vector, median of {w['load_runs']} runs after a warm-up run "
        "(imports count; page cache warm).",
        "- Cold start columns: total from spawn; in brackets `import assistant.embedding`, building the encoder "
        "(torch is imported here), first encode. The rest is interpreter start-up.",
        "- The machine is shared: each row waits (bounded) for idle CPUs, and the last column says how much of "
        "the 2 cores other jobs took while the row ran (0 = clean figures).",
        "",
        "| model | backend | cold start s (import + load + 1st) | passages/s best (median) | passages | query ms (median / p95) "
        "| cos vs torch, passages (mean / min) | cos vs torch, queries (mean / min) | top-10 overlap | peak RSS MB "
        "| other jobs' CPU % during |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        cs, lat = r["cold_start"], r["latency"]
        passages = r.get("cosine_vs_torch_passages")
        queries = r.get("cosine_vs_torch_queries")
        cos_p = f"{passages['mean']:.4f} / {passages['min']:.4f}" if passages else "—"
        cos_q = f"{queries['mean']:.4f} / {queries['min']:.4f}" if queries else "—"
        overlap = f"{r['top10_overlap_vs_torch']:.3f}" if "top10_overlap_vs_torch" in r else "—"
        lines.append(
            f"| {r['model']} | {r['backend']} | {cs['load_s']:.2f} ({cs['import_s']:.2f} + {cs['encoder_s']:.2f} + "
            f"{cs['first_encode_s']:.2f}) | {r['passages_per_s']['best']:.1f} ({r['passages_per_s']['median']:.1f}) "
            f"| {r['passages']} | {lat['median_ms']:.1f} / {lat['p95_ms']:.1f} | {cos_p} | {cos_q} | {overlap} "
            f"| {cs['peak_rss_mb']:.0f} | {r['other_cpu_pct_during']:.0f} |"
        )
    if report["exports_s"]:
        lines += ["", "One-off export times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in report["exports_s"].items())]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=500, help="passages for the MiniLM throughput run")
    parser.add_argument("--mpnet-passages", type=int, default=160, help="passages for mpnet (slow)")
    parser.add_argument("--queries", type=int, default=100, help="single-query calls for MiniLM")
    parser.add_argument("--mpnet-queries", type=int, default=40, help="single-query calls for mpnet")
    parser.add_argument("--load-runs", type=int, default=3, help="measured cold starts per backend")
    parser.add_argument("--wait-quiet", type=float, default=180, help="max seconds to wait for idle CPUs per row")
    parser.add_argument("--no-mpnet", action="store_true", help="skip all-mpnet-base-v2")
    report = run(parser.parse_args(argv))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embedding_bench.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    (RESULTS / "embedding_bench.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
