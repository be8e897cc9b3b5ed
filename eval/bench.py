"""Benchmark of the real pipeline on this machine: `assistant bench` or `python eval/bench.py`.

Measures ingestion (pages/s, text and PDF), chunking (units/s), embedding throughput,
index build cold and with the content-hash cache warm, warm query latency per mode for
search and ask, cold start (process start to first answer), the peak RSS of the app
process, and the ratio of our warm query latency to the plain recipe (recursive splitter
+ same model + flat FAISS) measured in the same run. Scale figures (10k-1M vectors) come
from eval/bench_ann.py, embedding backends from eval/bench_embedding.py, load from
eval/load_test.py; this report links their latest results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent

from eval.machine import free_port, machine_info, machine_line  # noqa: E402
from assistant.offline import set_offline_flags  # noqa: E402

set_offline_flags()


def machine() -> str:
    return machine_line(machine_info())


def timed(function, repeat: int = 1) -> tuple[float, object]:
    started = time.perf_counter()
    result = None
    for _ in range(repeat):
        result = function()
    return (time.perf_counter() - started) / repeat, result


def percentiles(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p95": float(np.percentile(values, 95)), "n": len(values)}


def bench_ingestion(settings) -> dict:
    from assistant.chunking import units_for_document
    from assistant.ingest import document_path, load_documents
    from assistant.ingest import load_lines

    documents = load_documents(settings.corpus_dir)
    pages, seconds, units, chunk_seconds = 0, 0.0, 0, 0.0
    for document in documents:
        path = document_path(settings.corpus_dir, document)
        elapsed, lines = timed(lambda: load_lines(path), repeat=20)
        pages += max(line.page for line in lines)
        seconds += elapsed
        elapsed, result = timed(lambda: units_for_document(document, lines), repeat=20)
        units += len(result)
        chunk_seconds += elapsed
    result = {"text_pages_per_s": pages / seconds, "text_pages": pages, "units_per_s": units / chunk_seconds}
    result.update(bench_pdf(settings))
    return result


def bench_pdf(settings) -> dict:
    """A PDF of the real action file laid out as a multi-page table (the test suite's builder)."""
    from assistant.ingest import load_lines
    from assistant.chunking import load_units

    if str(ROOT) not in sys.path:  # the builder lives in the checkout's tests/, which `assistant bench` has not on its path
        sys.path.insert(0, str(ROOT))
    from tests.ingest.test_pdf import action_file_pdf

    _, units = load_units(settings.corpus_dir)
    actions = [u for u in units if u.doc_kind == "action_file"]  # cover note and actions
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "action-file.pdf"
        path.write_bytes(action_file_pdf(actions))
        elapsed, lines = timed(lambda: load_lines(path), repeat=3)
        pages = max(line.page for line in lines)
    return {"pdf_pages_per_s": pages / elapsed, "pdf_pages": pages}


def bench_index(settings) -> dict:
    from assistant.index import build_index

    with tempfile.TemporaryDirectory() as folder:
        index_dir = Path(folder) / "index"
        cold = build_index(index_dir, settings.corpus_dir, settings.model, settings.backend)
        warm = build_index(index_dir, settings.corpus_dir, settings.model, settings.backend)
    return {
        "cold_build_s": cold.seconds, "cold_embedded_texts": cold.embedded_texts,
        "embedding_texts_per_s": cold.embedded_texts / cold.seconds if cold.seconds else None,
        "warm_build_s": warm.seconds, "warm_embedded_texts": warm.embedded_texts,
    }


def bench_queries(engine, questions: list[str]) -> dict:
    results = {}
    for mode in ("bm25", "dense", "hybrid"):
        engine.retriever.clear_cache()
        for q in questions[:5]:
            engine.retriever.search(q, mode=mode)  # warm-up
        engine.retriever.clear_cache()
        search_ms, ask_ms = [], []
        for q in questions:
            engine.retriever.clear_cache()
            started = time.perf_counter()
            engine.retriever.search(q, mode=mode)
            search_ms.append((time.perf_counter() - started) * 1000)
            engine.retriever.clear_cache()
            started = time.perf_counter()
            engine.ask(q, mode=mode)
            ask_ms.append((time.perf_counter() - started) * 1000)
        results[mode] = {"search_ms": percentiles(search_ms), "ask_ms": percentiles(ask_ms)}
    results["rerank"] = "not available (no cross-encoder weights on PyPI)"
    return results


def bench_plain_recipe(settings, engine, questions: list[str]) -> dict:
    from eval.evaluation import build_baseline

    baseline = build_baseline(settings, engine.retriever.encoder)
    latencies = [baseline.search(engine.retriever.encoder, q)[1] for q in questions]
    return {"search_ms": percentiles(latencies), "chunks": len(baseline.texts)}




def bench_cold_start(settings) -> dict:
    """Process start to first answer, with the CLI (the same engine the app loads)."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "What is the status of Action 21?", "--json"],
                       cwd=ROOT, check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
    return {"cold_start_to_first_answer_s": statistics.median(runs), "runs": runs}


def bench_app_memory(settings) -> dict:
    """Peak RSS of `streamlit run app.py` while a real browser session asks a question."""
    if not (ROOT / "app.py").is_file() or not Path("/usr/bin/chromium").exists():
        return {"app_peak_rss_mb": None, "note": "needs app.py and Debian's chromium"}
    from playwright.sync_api import sync_playwright

    port = free_port()
    data = tempfile.mkdtemp()  # the session's conversation goes there, not into the user's data/
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "ASSISTANT_DATA": data})
    peak = 0.0
    server = psutil.Process(process.pid)

    def sample() -> None:
        nonlocal peak
        rss = server.memory_info().rss + sum(c.memory_info().rss for c in server.children(recursive=True))
        peak = max(peak, rss)

    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
            from eval.bench_app import ask

            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
            for question in ("what is the status of returns cooperation with Bulgaria",
                             "Who leads the support to Cyprus for returns?"):
                ask(page, question)  # the app's own latency benchmark's way of telling that the answer is shown
                sample()
            browser.close()
        for _ in range(5):
            sample()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {"app_peak_rss_mb": peak / 2**20,
            "note": "RSS of the streamlit server (and children) after a browser session asked two questions"}




def render(report: dict) -> str:
    q = report["queries"]
    lines = [f"Machine: {report['machine']}", f"Command: `{report['command']}`", f"Model: {report['model']} ({report['backend']})", ""]
    lines += ["| figure | value |", "|---|---|"]
    ing = report["ingestion"]
    lines.append(f"| ingestion, text rendering | {ing['text_pages_per_s']:.0f} pages/s ({ing['text_pages']} pages) |")
    if ing.get("pdf_pages_per_s"):
        lines.append(f"| ingestion, PDF (pypdf, layout-aware) | {ing['pdf_pages_per_s']:.1f} pages/s ({ing['pdf_pages']} pages) |")
    lines.append(f"| chunking | {ing['units_per_s']:.0f} units/s |")
    idx = report["index"]
    lines.append(f"| index build, cold | {idx['cold_build_s']:.1f} s ({idx['cold_embedded_texts']} chunks and sentences embedded, "
                 f"{idx['embedding_texts_per_s']:.1f} texts/s) |")
    lines.append(f"| index build, content-hash cache warm | {idx['warm_build_s']:.1f} s ({idx['warm_embedded_texts']} embedded) |")
    for mode in ("bm25", "dense", "hybrid"):
        lines.append(f"| search, {mode}, warm (median / p95) | {q[mode]['search_ms']['median']:.1f} / {q[mode]['search_ms']['p95']:.1f} ms |")
    for mode in ("bm25", "dense", "hybrid"):
        lines.append(f"| ask (retrieve + answer), {mode}, warm (median / p95) | {q[mode]['ask_ms']['median']:.1f} / {q[mode]['ask_ms']['p95']:.1f} ms |")
    lines.append(f"| rerank | {q['rerank']} |")
    plain = report["plain_recipe"]["search_ms"]
    ours = q["hybrid"]["search_ms"]
    lines.append(f"| plain recipe search (splitter + same model + flat FAISS), median / p95 | {plain['median']:.1f} / {plain['p95']:.1f} ms |")
    lines.append(f"| ratio, our hybrid search / plain recipe (median) | {ours['median'] / plain['median']:.2f} |")
    lines.append(f"| cold start, process start to first answer (CLI, median of 3) | {report['cold_start']['cold_start_to_first_answer_s']:.2f} s |")
    if report["app"].get("app_peak_rss_mb"):
        lines.append(f"| app process peak RSS | {report['app']['app_peak_rss_mb']:.0f} MB |")
    for name, label in (("ann_bench.md", "scale (10k-1M vectors)"), ("embedding_bench.md", "embedding backends"),
                        ("load_test.md", "load (concurrent sessions)"), ("bench_app.md", "answer latency in the app")):
        if (ROOT / "eval" / "results" / name).is_file():
            lines.append(f"| {label} | see eval/results/{name} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--skip-app", action="store_true")
    args = parser.parse_args(argv)
    from assistant.engine import load_engine
    from eval.evaluation import load_gold
    from assistant.settings import load_settings

    settings = load_settings()
    questions = [g.question for g in load_gold(ROOT / "eval" / "gold.jsonl")][: args.questions]
    report = {"machine": machine(), "command": "assistant bench" + (" --skip-app" if args.skip_app else ""),
              "model": settings.model, "backend": settings.backend}
    report["ingestion"] = bench_ingestion(settings)
    report["index"] = bench_index(settings)
    engine = load_engine(settings)
    report["queries"] = bench_queries(engine, questions)
    report["plain_recipe"] = bench_plain_recipe(settings, engine, questions)
    report["cold_start"] = bench_cold_start(settings)
    report["app"] = {} if args.skip_app else bench_app_memory(settings)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    markdown = render(report)
    (args.out / "bench.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return markdown


if __name__ == "__main__":
    main()
