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
      .venv/bin/python eval/load_test.py --changes             (while 20 sessions ask, two others add and
                                                                remove documents and one rebuilds, on a copy
                                                                of the corpus and index; writes load_test_changes.*)

Bounded: each thread stops asking at the deadline and the run stops at --max-requests;
a request still running --grace seconds after the deadline counts as an error ("hung").
The gold set has 90 questions, so in the default run most repeats reuse the engine's
query-embedding cache, as a repeated question does in the app; --vary shows the cost
without it. The HTTP variant loads the page and the health endpoint only: the questions
themselves go over Streamlit's websocket, which the browser tests drive.

With --changes the askers go through the engine that is served now: after each rebuild the
rebuilding session loads the new index and swaps it in, as the app does for every session.
At the end every document an uploader was told was added (and not removed since) must be in
the corpus once and in the final index, and every removed one gone: "lost documents" counts
those that are not.

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


WARM_UP = ("what is the status of returns cooperation with Bulgaria",
           "Quel est l'état de la coopération en matière de retour avec la Bulgarie ?")  # loads the language model


def warm_up(engine) -> None:
    """Build the engine's lazy state once, before the clock starts: a first English and a first foreign question.

    Without it the first foreign-looking question of twenty sessions at once has each of them load the language
    model (answering/language.py, an lru_cache without a lock): a 13 s tail seen by this test, once per process.
    """
    for question in WARM_UP:
        engine.ask(question)


def gold_questions(path: Path = GOLD) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


# --- asking while the corpus changes: two sessions upload and remove, one rebuilds ------------------


def _note(session: int, number: int) -> bytes:
    return (f"Liaison note {session}-{number}: the joint working group {session} met in Chisinau and agreed to deploy "
            f"{number + 2} officers at crossing point {session * 1000 + number} of the Moldova border.\n").encode("utf-8")


def run_with_changes(settings, questions: list[str], threads: int = 20, seconds: float = 60.0,
                     uploaders: int = 2, max_requests: int = 100_000, grace: float = 60.0, seed: int = 0,
                     vary: bool = False) -> dict[str, Any]:
    """`threads` askers for `seconds` while `uploaders` sessions add (and every third time remove) documents and one
    session rebuilds the index again and again, all on a copy of the corpus and the served index."""
    import shutil

    from assistant.engine import load_engine
    from assistant.index import GENERATIONS, POINTER, build_index, current_generation
    from assistant.ingest import load_documents
    from assistant.uploads import add_upload, remove_document

    work = Path(tempfile.mkdtemp(prefix="load-test-changes-"))
    corpus, index_dir = work / "corpus", work / "index"
    shutil.copytree(settings.corpus_dir, corpus, ignore=shutil.ignore_patterns("uploads"))
    served = current_generation(settings.index_dir)
    (index_dir / GENERATIONS).mkdir(parents=True)
    shutil.copytree(served, index_dir / GENERATIONS / served.name)
    (index_dir / POINTER).write_text(served.name + "\n", encoding="utf-8")
    local = settings.with_overrides(corpus_dir=corpus, index_dir=index_dir)
    build_index(index_dir, corpus, local.model, local.backend)  # this code's own manifest, a warm cache
    current = [load_engine(local)]
    warm_up(current[0])
    lock = threading.Lock()
    added: dict[str, int] = {}  # doc id -> session that was told it was added
    removed: set[str] = set()
    change_errors: list[str] = []
    builds: list[float] = []
    stale_answers = [0]
    deadline = time.perf_counter() + seconds

    def upload(session: int) -> None:
        number = 0
        mine: list[str] = []
        while time.perf_counter() < deadline:
            try:
                document = add_upload(corpus, _note(session, number), f"note-{session}-{number}.txt").document
                with lock:
                    added[document.id] = session
                mine.append(document.id)
                if number % 3 == 2:
                    gone = remove_document(corpus, mine.pop(0))
                    with lock:
                        removed.add(gone.id)
            except Exception as exc:  # noqa: BLE001 - every failure counts
                with lock:
                    change_errors.append(f"upload {session}-{number}: {type(exc).__name__}: {exc}")
            number += 1
            time.sleep(0.5)

    def rebuild() -> None:
        while time.perf_counter() < deadline:
            try:
                t0 = time.perf_counter()
                build_index(index_dir, corpus, local.model, local.backend)
                engine = load_engine(local)
                warm_up(engine)  # its lazy state built once here, not by twenty askers at once
                current[0] = engine  # every session moves to the new index, as the app's reload does
                builds.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001
                with lock:
                    change_errors.append(f"rebuild: {type(exc).__name__}: {exc}")
                time.sleep(1)

    def ask(question: str) -> object:
        answer = current[0].ask(question)
        if any(note.startswith("Stale index") for note in getattr(answer, "notes", [])):
            with lock:
                stale_answers[0] += 1
        return answer

    changers = [threading.Thread(target=upload, args=(n,), daemon=True) for n in range(uploaders)]
    changers.append(threading.Thread(target=rebuild, daemon=True))
    for thread in changers:
        thread.start()
    result = run_load(ask, questions, threads, seconds, max_requests, grace, seed, vary)
    for thread in changers:
        thread.join(timeout=grace + 120)
    final = build_index(index_dir, corpus, local.model, local.backend)
    in_corpus = [d.id for d in load_documents(corpus)]
    indexed = {u.doc_id for u in load_engine(local).index.units.values()}
    kept = [doc_id for doc_id in added if doc_id not in removed]
    lost = [doc_id for doc_id in kept if in_corpus.count(doc_id) != 1 or doc_id not in indexed]
    lost += [doc_id for doc_id in removed if doc_id in in_corpus or doc_id in indexed]
    shutil.rmtree(work, ignore_errors=True)
    ordered = sorted(builds)
    return {
        **result.summary(),
        "uploaders": uploaders,
        "documents_added": len(added),
        "documents_removed": len(removed),
        "change_errors": len(change_errors),
        "change_error_examples": change_errors[:10],
        "rebuilds": len(builds),
        "rebuild_seconds_median": round(statistics.median(ordered), 2) if ordered else None,
        "rebuild_seconds_max": round(ordered[-1], 2) if ordered else None,
        "stale_answers": stale_answers[0],
        "lost_documents": len(lost),
        "lost_examples": lost[:10],
        "final_chunks": final.chunks,
    }


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
        _row("engine.ask" + (f", while {r['uploaders']} sessions add and remove documents and one rebuilds"
                             if report.get("changes") else ""), r),
    ]
    http = report.get("http")
    if http and "skipped" not in http:
        lines.append(_row(f"HTTP {', '.join(http['paths'])}", {**http, "answered": "", "abstained": ""}))
    lines.append("")
    if r["errors"]:
        lines += ["Errors (first 10):", ""] + [f"- {e}" for e in r["error_examples"]] + [""]
    if report.get("changes"):
        lines += [f"While they asked: {r['documents_added']} documents added and {r['documents_removed']} removed by "
                  f"{r['uploaders']} sessions ({r['change_errors']} errors), {r['rebuilds']} rebuilds by a third "
                  f"(median {r['rebuild_seconds_median']} s, max {r['rebuild_seconds_max']} s, each served to every "
                  f"asker as soon as it was built); {r['stale_answers']} answers carried the stale-index notice "
                  f"(asked between a change and the rebuild that included it). Lost documents (added and not in the "
                  f"corpus once and in the final index, or removed and still there): **{r['lost_documents']}**.", ""]
        lines += [f"- {e}" for e in r["change_error_examples"]] + ([""] if r["change_error_examples"] else [])
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
    parser.add_argument("--changes", action="store_true",
                        help="two more sessions add and remove documents and one rebuilds while the askers ask")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to this long for the CPUs to be mostly idle")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from assistant.engine import load_engine
    from assistant.settings import load_settings

    settings = load_settings()
    engine = load_engine(settings)
    questions = gold_questions()
    warm_up(engine)  # not counted: the first calls build lazy state
    busy = wait_until_quiet(args.wait_quiet) if args.wait_quiet else None
    info = {**machine(), "cpu_busy_before_pct": busy}
    if args.changes:
        summary = run_with_changes(settings, questions, args.threads, args.seconds, 2, args.max_requests, args.grace,
                                   args.seed, args.vary)
        failed = bool(summary["errors"] or summary["change_errors"] or summary["lost_documents"])
    else:
        result = run_load(engine.ask, questions, args.threads, args.seconds, args.max_requests, args.grace, args.seed,
                          args.vary)
        summary, failed = result.summary(), bool(result.errors)
    report: dict[str, Any] = {
        "machine": info,
        "model": settings.model,
        "backend": settings.backend,
        "chunks": len(engine.index.chunks),
        "vary": args.vary,
        "changes": args.changes,
        "engine": summary,
    }
    if args.http:
        report["http"] = run_http(args.threads, args.seconds, args.max_requests)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "load_test_changes" if args.changes else "load_test"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
