"""Load test: many people asking at once, through the function the app calls (`engine.ask`).

Why this exists: the app keeps one engine per process (st.cache_resource) and Streamlit runs
every browser session's script in a thread of its own, so concurrent questions meet in one
`engine.ask`. This drives that function from N threads for T seconds with questions drawn
from eval/gold.jsonl, checks that every answer is well-formed (cited sentences quoted
verbatim from retrieved passages, or the fixed abstention sentence), and reports count,
errors, throughput and latency (median, p95, max) on this machine.

Run:  .venv/bin/python eval/load_test.py                      (20 threads x 60 s; about 1.5 minutes)
      .venv/bin/python eval/load_test.py --threads 5 --seconds 10
      .venv/bin/python eval/load_test.py --vary                (every request a new question text, so the
                                                                query-embedding cache never helps: the worst case)
      .venv/bin/python eval/load_test.py --http                (also `streamlit run app.py` on a free
                                                                127.0.0.1 port: health endpoint and page loads)

Bounded: each thread stops asking at the deadline and the run stops at --max-requests;
a request still running --grace seconds after the deadline counts as an error ("hung").
The gold set has 90 questions, so in the default run most repeats reuse the engine's
query-embedding cache, as a repeated question does in the app; --vary shows the cost
without it. The HTTP variant loads the page and the health endpoint only: the questions
themselves go over Streamlit's websocket, which the browser tests drive.

Writes eval/results/load_test.json and load_test.md (with the machine and the exact command).
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent

from assistant.offline import set_offline_flags  # noqa: E402

set_offline_flags()

from assistant.answering import NO_ANSWER  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from eval.machine import free_port, machine_info, wait_until_quiet  # noqa: E402
from assistant.search import clean_question  # noqa: E402
from assistant.records import Answer  # noqa: E402

RESULTS = ROOT / "eval" / "results"
GOLD = ROOT / "eval" / "gold.jsonl"


def problems_with(answer: object, question: str) -> list[str]:
    """What is wrong with an answer, if anything: the contract every caller relies on."""
    if not isinstance(answer, Answer):
        return [f"not an Answer but {type(answer).__name__}"]
    found = []
    if answer.question != clean_question(question):
        found.append("the answer is for another question")
    try:
        json.dumps(answer.to_dict(), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        found.append(f"the JSON form fails ({exc})")
    if answer.abstained:
        retrieved = {hit.unit.unit_id for hit in answer.hits}
        if not answer.answer.startswith(("The documents ", "Questions in ")) or not answer.abstention:
            found.append("an abstention that is neither the fixed sentence nor says what is missing")
        elif answer.answer == NO_ANSWER and answer.citations:
            found.append("the fixed sentence with a citation")
        elif any(c.unit.unit_id not in retrieved for c in answer.citations):
            found.append("an abstention citing a passage that was not retrieved")
        return found
    if not answer.citations or not answer.sentences:
        found.append("an answer without citations")
    retrieved = {hit.unit.unit_id for hit in answer.hits}
    by_n = {citation.n: citation for citation in answer.citations}
    for sentence in answer.sentences:
        citation = by_n.get(sentence.n)
        if citation is None or citation.unit.unit_id not in retrieved:
            found.append(f"[{sentence.n}] cites no retrieved passage")
        elif sentence.quote not in citation.quote:
            found.append(f"[{sentence.n}] is not verbatim in its passage")
    return found


@dataclass
class LoadResult:
    threads: int
    seconds: float  # the time asked for
    wall_seconds: float = 0.0  # from the first request to the last answer
    latencies: list[float] = field(default_factory=list)  # seconds, one per finished request
    errors: list[str] = field(default_factory=list)  # one line per failed or malformed request
    abstained: int = 0
    questions: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def ms(value: float) -> float:
            return round(value * 1000, 1)

        return {
            "threads": self.threads,
            "seconds": self.seconds,
            "wall_seconds": round(self.wall_seconds, 2),
            "requests": len(self.latencies) + sum(1 for e in self.errors if e.startswith("hung")),
            "answered": len(self.latencies) - self.abstained,
            "abstained": self.abstained,
            "errors": len(self.errors),
            "error_examples": self.errors[:10],
            "distinct_questions": len(self.questions),
            "throughput_per_second": round(len(self.latencies) / self.wall_seconds, 2) if self.wall_seconds else 0.0,
            "latency_ms": {
                "median": ms(statistics.median(ordered)) if ordered else None,
                "p95": ms(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]) if ordered else None,
                "max": ms(ordered[-1]) if ordered else None,
            },
        }


def run_load(ask: Callable[[str], object], questions: list[str], threads: int = 20, seconds: float = 60.0,
             max_requests: int = 100_000, grace: float = 60.0, seed: int = 0, vary: bool = False,
             check: Callable[[object, str], list[str]] = problems_with) -> LoadResult:
    """Ask from `threads` threads until `seconds` have passed or `max_requests` were started.

    `check` says what is wrong with a reply (nothing: an empty list); a reply with problems,
    an exception or a request still running after the grace period counts as an error.
    """
    result = LoadResult(threads, seconds)
    lock = threading.Lock()
    started = [0]
    rng = random.Random(seed)
    order = [rng.randrange(len(questions)) for _ in range(max_requests)]
    in_flight: dict[int, tuple[str, float]] = {}
    begin = time.perf_counter()
    deadline = begin + seconds

    def worker(number: int) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if started[0] >= max_requests:
                    return
                request = started[0]
                started[0] += 1
            question = questions[order[request]]
            if vary:
                question = f"{question} (request {request})"
            with lock:
                in_flight[number] = (question, time.perf_counter())
                result.questions.add(question)
            t0 = time.perf_counter()
            try:
                answer = ask(question)
                problems = check(answer, question)
            except AssistantError as exc:  # a gold question is never a bad question
                problems = [f"refused: {exc}"]
            except Exception as exc:  # noqa: BLE001 - the point is to count every kind of failure
                problems = [f"{type(exc).__name__}: {exc}"]
            elapsed = time.perf_counter() - t0
            with lock:
                del in_flight[number]
                if problems:
                    result.errors.append(f"{question[:60]!r}: {'; '.join(problems)}")
                else:
                    result.latencies.append(elapsed)
                    result.abstained += bool(getattr(answer, "abstained", False))

    workers = [threading.Thread(target=worker, args=(n,), daemon=True, name=f"load-{n}") for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=max(0.0, deadline + grace - time.perf_counter()))
    with lock:
        for question, since in in_flight.values():
            result.errors.append(f"hung: {question[:60]!r} still running {time.perf_counter() - since:.0f} s after it was asked")
    result.wall_seconds = time.perf_counter() - begin
    return result


def gold_questions(path: Path = GOLD) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


# --- the HTTP variant: a real `streamlit run app.py` on loopback --------------------------------




def run_http(threads: int, seconds: float, max_requests: int, startup_timeout: float = 180.0) -> dict[str, Any]:
    """Start the app on 127.0.0.1, wait for its health endpoint, then load / and the health check from threads."""
    import requests

    app = ROOT / "app.py"
    if not app.is_file():
        return {"skipped": "app.py does not exist yet"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="load-test-")) / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        ready = time.perf_counter()
        while True:
            if server.poll() is not None:
                return {"skipped": f"streamlit exited with {server.returncode}; see {log}"}
            try:
                if requests.get(f"{base}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except requests.RequestException:
                pass
            if time.perf_counter() - ready > startup_timeout:
                return {"skipped": f"no health answer within {startup_timeout:.0f} s"}
            time.sleep(0.5)
        startup = time.perf_counter() - ready
        paths = ["/", "/_stcore/health"]

        def fetch(path: str) -> object:
            response = requests.get(base + path, timeout=30)
            response.raise_for_status()
            if path == "/" and "<html" not in response.text.lower():
                raise ValueError("the page is not HTML")
            return response

        result = run_load(fetch, paths, threads=threads, seconds=seconds, max_requests=max_requests,
                          check=lambda response, path: [])  # fetch() raises on a bad status or page
        return {"port": port, "startup_seconds": round(startup, 1), "paths": paths, **result.summary()}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the report --------------------------------------------------------------------------------




def machine() -> dict[str, Any]:
    return {**machine_info(), "command": shlex.join([".venv/bin/python", "eval/load_test.py", *sys.argv[1:]])}


def markdown(report: dict[str, Any]) -> str:
    m, r = report["machine"], report["engine"]
    lines = [
        "# Load test",
        "",
        f"- Command: `{m['command']}`",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; Python {m['python']}; "
        f"load average before the run {m['load_average_before']}"
        + (f", CPUs {m['cpu_busy_before_pct']:.0f}% busy" if m.get("cpu_busy_before_pct") is not None else ""),
        f"- Engine: {report['model']} ({report['backend']}), {report['chunks']} chunks; "
        f"questions from eval/gold.jsonl{' (varied per request)' if report['vary'] else ''}",
        "",
        "| driver | threads | seconds | requests | errors | answered | abstained | throughput (req/s) | "
        "median ms | p95 ms | max ms |",
        "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
        _row("engine.ask", r),
    ]
    http = report.get("http")
    if http and "skipped" not in http:
        lines.append(_row(f"HTTP {', '.join(http['paths'])}", {**http, "answered": "", "abstained": ""}))
    lines.append("")
    if r["errors"]:
        lines += ["Errors (first 10):", ""] + [f"- {e}" for e in r["error_examples"]] + [""]
    if http:
        lines.append(f"HTTP variant: {http.get('skipped') or 'streamlit run app.py on 127.0.0.1, started in ' + str(http['startup_seconds']) + ' s'}.")
        lines.append("")
    lines.append(f"{r['distinct_questions']} distinct questions were asked"
                 + ("; every request had its own, so none reused the query-embedding cache."
                    if report["vary"] else "; repeats reuse the engine's query-embedding cache, as in the app."))
    lines.append("Latency is per request, from the call to the answer, with every thread asking again at once.")
    return "\n".join(lines) + "\n"


def _row(name: str, s: dict[str, Any]) -> str:
    lat = s["latency_ms"]
    return (f"| {name} | {s['threads']} | {s['seconds']:g} | {s['requests']} | {s['errors']} | {s['answered']} | "
            f"{s['abstained']} | {s['throughput_per_second']} | {lat['median']} | {lat['p95']} | {lat['max']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--grace", type=float, default=60.0, help="how long a request may still run after the deadline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vary", action="store_true", help="a new question text per request (no cache hits)")
    parser.add_argument("--http", action="store_true", help="also drive `streamlit run app.py` on 127.0.0.1")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to this long for the CPUs to be mostly idle")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from assistant.engine import load_engine
    from assistant.settings import load_settings

    settings = load_settings()
    engine = load_engine(settings)
    questions = gold_questions()
    engine.ask(questions[0])  # warm-up, not counted: the first call builds lazy state
    busy = wait_until_quiet(args.wait_quiet) if args.wait_quiet else None
    info = {**machine(), "cpu_busy_before_pct": busy}
    result = run_load(engine.ask, questions, args.threads, args.seconds, args.max_requests, args.grace, args.seed,
                      args.vary)
    report: dict[str, Any] = {
        "machine": info,
        "model": settings.model,
        "backend": settings.backend,
        "chunks": len(engine.index.chunks),
        "vary": args.vary,
        "engine": result.summary(),
    }
    if args.http:
        report["http"] = run_http(args.threads, args.seconds, args.max_requests)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load_test.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "load_test.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
