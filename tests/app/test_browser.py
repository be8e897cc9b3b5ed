"""The app in a real Chromium against `streamlit run`: asking, checking a source, and XSS attempts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import copy_corpus_and_index

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 60_000
BULGARIA = "what is the status of returns cooperation with Bulgaria?"
# Raw tags are dropped by the loader; the entity-encoded ones come out of it as literal
# "<script>" text in the passage, which the page must then show as text.
HOSTILE_DOCUMENT = (
    "Moldova border cooperation pilot: the joint working group met in Chisinau on 3 May 2024 and agreed to "
    "deploy two liaison officers at the crossing points. "
    "&lt;script&gt;window.__xss=1&lt;/script&gt; &lt;img src=x onerror=\"window.__xss=2\"&gt; "
    "<script>window.__xss=1</script> <img src=x onerror=\"window.__xss=2\"> :red[red] $x$ :smile:\n"
)
HOSTILE_TITLE = 'Moldova note <img src=x onerror="window.__xss=5"> <script>window.__xss=6</script>'
HOSTILE_QUESTION = "When did the Moldova border cooperation working group meet? <script>window.__xss=3</script>"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def streamlit_server(log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port; stopped whatever happens."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"streamlit exited with {server.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within 60 s: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """Stop the server we started, and only it: its own process group, TERM then KILL."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@contextmanager
def chromium_page(height: int = 2400):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}; `make browser` installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            # Streamlit scrolls inside its own container, so a tall window makes the screenshot whole.
            page = browser.new_page(viewport={"width": 1440, "height": height})
            page.set_default_timeout(WAIT_MS)
            yield page
        finally:
            browser.close()


def ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=WAIT_MS)
    box.fill(question)
    box.press("Enter")


@pytest.fixture
def workspace(tmp_path, corpus_dir, engine, settings) -> dict[str, str]:
    """Copies of the corpus and of the served index, for a server that may change them."""
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    return {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir)}


def test_an_answer_cites_action_21_and_its_passage_opens(engine, output_dir):
    from playwright.sync_api import expect

    with streamlit_server(output_dir / "server.log") as url, chromium_page() as page:
        page.goto(url, timeout=WAIT_MS)
        ask(page, BULGARIA)
        answer = page.get_by_test_id("stChatMessage").nth(1)
        expect(answer).to_contain_text("Action 21", timeout=WAIT_MS)
        source = answer.get_by_test_id("stExpander").filter(has_text="Action 21").first
        source.locator("summary").click()
        expect(source).to_contain_text("Bulgaria pilot project", timeout=WAIT_MS)
        expect(source).to_contain_text("Lead actor(s):")
        expect(source.locator(".stMarkdownColoredBackground").first).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(output_dir / "answer.png"))

        source.get_by_role("button", name="Open in context").click()
        expect(page.get_by_role("tab", name="Documents")).to_have_attribute("aria-selected", "true", timeout=WAIT_MS)
        reader = page.get_by_test_id("stMain")
        expect(reader).to_contain_text("Action 21 · pp. 19-20", timeout=WAIT_MS)
        expect(reader).to_contain_text("Bulgaria pilot project")
        page.wait_for_timeout(500)
        page.screenshot(path=str(output_dir / "in-context.png"))


def test_markup_in_an_upload_or_a_question_never_runs(workspace, output_dir):
    from playwright.sync_api import expect

    with streamlit_server(output_dir / "server.log", workspace) as url, chromium_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url, timeout=WAIT_MS)
        page.get_by_test_id("stChatInputTextArea").wait_for(state="visible", timeout=WAIT_MS)

        page.get_by_role("tab", name="Index").click()
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "moldova-note.txt", "mimeType": "text/plain", "buffer": HOSTILE_DOCUMENT.encode()}])
        expect(page.get_by_text("moldova-note.txt")).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("textbox", name="Title", exact=True).fill(HOSTILE_TITLE)
        page.get_by_role("textbox", name="Reference", exact=True).fill("<script>window.__xss=4</script>")
        page.get_by_role("button", name="Add and index").click()
        expect(page.get_by_test_id("stAlertContentSuccess").first).to_contain_text("Indexed", timeout=WAIT_MS)
        expect(page.get_by_test_id("stMain")).to_contain_text(HOSTILE_TITLE)

        page.get_by_role("tab", name="Ask").click()
        ask(page, HOSTILE_QUESTION)
        question = page.get_by_test_id("stChatMessage").nth(0)
        expect(question).to_contain_text(HOSTILE_QUESTION, timeout=WAIT_MS)
        answer = page.get_by_test_id("stChatMessage").nth(1)
        expect(answer).to_contain_text("3 May 2024", timeout=WAIT_MS)
        source = answer.get_by_test_id("stExpander").filter(has_text="Moldova note").first
        source.locator("summary").click()
        expect(source).to_contain_text("<script>window.__xss=1</script>", timeout=WAIT_MS)
        expect(source).to_contain_text('<img src=x onerror="window.__xss=2">')
        expect(source).to_contain_text(":red[red] $x$ :smile:")
        expect(source).to_contain_text(HOSTILE_TITLE)
        expect(source).to_contain_text("<script>window.__xss=4</script>")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(output_dir / "xss.png"))

        page.get_by_role("tab", name="Documents").click()
        expect(page.get_by_test_id("stMain")).to_contain_text(HOSTILE_TITLE, timeout=WAIT_MS)
        page.wait_for_timeout(1000)

        assert page.evaluate("typeof window.__xss") == "undefined"
        assert dialogs == []
        main = page.get_by_test_id("stMain")
        assert main.locator("script").count() == 0
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
