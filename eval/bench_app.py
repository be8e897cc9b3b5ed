"""Answer latency in the app, as an analyst sees it: from pressing Enter to the answer on the page.

A real Chromium (Debian's, at 1400x1000) drives `streamlit run app.py` on loopback:
- every turn of the 8 scripted conversations (eval/conversations.jsonl), each conversation
  in a fresh conversation, follow-ups read against the earlier turns as the app does;
- the same few questions asked at the start of a conversation and at turns 201-205 of a
  conversation whose first 200 turns (real answers) are already stored, to show that a
  question costs the same however long the conversation is.
A question's latency is the time from Enter until its answer view is on the page and the
script run has finished. Figures: median, p95, max. Target: median under 1 s here.

    .venv/bin/python eval/bench_app.py            # writes eval/results/bench_app.md
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.followups import read_conversations  # noqa: E402
from eval.machine import free_port, machine_info, machine_line, wait_until_quiet  # noqa: E402

RESULTS = ROOT / "eval" / "results" / "bench_app.md"
CHROMIUM = "/usr/bin/chromium"
LONG = 200  # turns stored before the late questions are asked
LATE = ("What is the status of returns cooperation with Bulgaria?", "and Greece?", "who leads it?",
        "what about the way ahead?", "and in 2023?")
TARGET_S = 1.0


def start_server(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ASSISTANT_DATA": str(data_dir), "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                   "--server.address", "127.0.0.1", "--server.headless", "true",
                                   "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit(f"streamlit did not start: {log.read_text()[-1500:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


_ANSWERED = """([question]) => {
  const messages = [...document.querySelectorAll('[data-testid=stChatMessage]')];
  if (messages.length < 2 || document.querySelector('[data-stale=true]')) return false;
  if (document.querySelector('[data-testid=stStatusWidget]')) return false;  // the script is still running
  const asked = messages[messages.length - 2], answer = messages[messages.length - 1];
  const view = [...answer.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
    .some((host) => host.shadowRoot && host.shadowRoot.querySelector('[data-testid=answer-view]'));
  return asked.innerText.trim().endsWith(question) && view;  // after the avatar icon's name
}"""


def ask(page, question: str) -> float:
    """Seconds from Enter to this question's answer on the page, the run finished."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(_ANSWERED, arg=[question], timeout=60_000, polling=20)
    return time.perf_counter() - started


def seed_long_conversation(data_dir: Path, turns: int) -> str:
    """A conversation with `turns` real answers already stored, as if asked in the app."""
    from assistant.answering.conversation import MAX_TURNS, context_turn
    from assistant.conversations import ConversationStore, StoredTurn
    from assistant.engine import load_engine
    from assistant.offline import set_offline_flags
    from assistant.search import Query
    from assistant.settings import load_settings

    set_offline_flags()
    engine = load_engine(load_settings())
    store = ConversationStore(data_dir)
    conversation = store.create("A long conversation")
    questions = [t["question"] for c in read_conversations() for t in c["turns"]]
    context: list[str] = []
    for number in range(turns):
        question = questions[number % len(questions)]
        if number % len(questions) == 0:
            context = []
        answer = engine.ask(Query(question, context=tuple(context[-MAX_TURNS:])))
        turn = StoredTurn(question, answer, described="Hybrid search, 6 passages, all documents", seconds=0.01,
                          context=context_turn(answer).to_context())
        store.add_turn(conversation.id, turn)
        context.append(turn.context)
    return conversation.id


def figures(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.2f} s | {p95:.2f} s | {ordered[-1]:.2f} s | {len(ordered)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--wait-quiet", type=float, default=60.0, help="Seconds to wait for idle CPUs first.")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    busy = wait_until_quiet(args.wait_quiet)
    info = machine_info(["streamlit", "playwright"])
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        long_id = seed_long_conversation(data_dir, LONG)
        server, url = start_server(data_dir, Path(folder) / "server.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox",
                                                                                    "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(60_000)
                page.goto(url)
                page.get_by_test_id("stChatInputTextArea").wait_for()
                ask(page, "What is the EURP?")  # the first answer loads the engine: not counted
                scripted: list[float] = []
                rows = []
                for conversation in read_conversations():
                    page.goto(url)
                    page.get_by_test_id("stChatInputTextArea").wait_for()
                    for number, turn in enumerate(conversation["turns"]):
                        seconds = ask(page, turn["question"])
                        scripted.append(seconds)
                        rows.append((f"{conversation['id']}.{number}", turn["question"], seconds))
                page.goto(url)
                page.get_by_test_id("stChatInputTextArea").wait_for()
                early = [ask(page, question) for question in LATE]
                page.goto(f"{url}/?c={long_id}")
                page.get_by_test_id("stChatInputTextArea").wait_for()
                page.locator("[data-testid=answer-view]").last.wait_for()
                late = [ask(page, question) for question in LATE]
                browser.close()
        finally:
            stop(server)
    median = statistics.median(scripted)
    lines = [
        "# Answer latency in the app (real Chromium against streamlit run)", "",
        f"Machine: {machine_line(info)}; CPU busy before the run: {busy:.0f}%",
        "Command: `.venv/bin/python eval/bench_app.py`", "",
        "From Enter to the answer on the page (the script run finished), Chromium at 1400x1000.", "",
        "| questions | median | p95 | max | n |", "|---|---|---|---|---|",
        f"| every turn of the 8 scripted conversations | {figures(scripted)} |",
        f"| turns 1-5 of a new conversation | {figures(early)} |",
        f"| turns {LONG + 1}-{LONG + 5} of a conversation with {LONG} stored turns | {figures(late)} |", "",
        f"Target: median under {TARGET_S:.0f} s: {'met' if median < TARGET_S else 'NOT met'} ({median:.2f} s). "
        f"Turn {LONG + 1}-{LONG + 5} / turn 1-5 median: {statistics.median(late) / statistics.median(early):.2f}.", "",
        "| turn | question | seconds |", "|---|---|---|",
        *(f"| {turn} | {question.replace('|', '/')} | {seconds:.2f} |" for turn, question, seconds in rows),
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(json.dumps({"median_s": round(median, 3), "early_median_s": round(statistics.median(early), 3),
                      "late_median_s": round(statistics.median(late), 3)}))


if __name__ == "__main__":
    main()
