"""The app in a real Chromium against `streamlit run`, at a desktop size and at a phone's.

A conversation with follow-ups, citation previews, the source panel scrolled to its highlight,
a conversation restored after a reload and after a server restart, resetting the filters, the
upload size message, XSS attempts, and every request the page makes going to 127.0.0.1.
Screenshots go to test-output/<test>/ for people to look at.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
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
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
                       **(env or {})}
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,
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


VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}


def launch(playwright):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}; `make browser` installs it.")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT_MS)


@contextmanager
def chromium_page(viewport: str = "desktop", height: int | None = None):
    """A page at that size (a phone: touch, mobile); at exit, every request it made must have gone to 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    size = dict(VIEWPORTS[viewport])
    if height:
        size["height"] = height
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(viewport=size, has_touch=viewport == "phone", is_mobile=viewport == "phone",
                                          permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            outside: list[str] = []
            page.on("request", lambda request: outside.append(request.url) if not local(request.url) else None)
            page.requests_outside = outside  # type: ignore[attr-defined]
            yield page
            assert outside == [], f"requests to other hosts than 127.0.0.1: {outside}"
        finally:
            browser.close()


def local(url: str) -> bool:
    """A request to this machine: 127.0.0.1, or a blob:/data: URL the page made from it."""
    if url.startswith("data:"):
        return True
    host = urllib.parse.urlsplit(url[5:] if url.startswith("blob:") else url).hostname
    return host == "127.0.0.1"


def ask(page, question: str, answers: int | None = None) -> None:
    """Type the question; with `answers`, wait until that many answers are on the page."""
    from playwright.sync_api import expect

    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=WAIT_MS)
    box.fill(question)
    box.press("Enter")
    if answers:
        expect(page.locator("[data-testid=answer-view]")).to_have_count(answers, timeout=WAIT_MS)
        settle(page)
        page.wait_for_timeout(300)


def shot(page, output_dir: Path, name: str) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(output_dir / f"{name}.png"))


@pytest.fixture
def workspace(tmp_path, corpus_dir, engine, settings) -> dict[str, str]:
    """Copies of the corpus and of the served index, and a data folder, for a server that may change them."""
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    return {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir), "ASSISTANT_DATA": str(tmp_path / "data")}


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    """One server for the tests that only ask (the real index, conversations in a folder of their own)."""
    folder = tmp_path_factory.mktemp("browser")
    with streamlit_server(folder / "server.log", {"ASSISTANT_DATA": str(folder / "data")}) as url:
        yield url


def main_area(page):
    """The main column (its test id changes to stAppScrollToBottomContainer once a chat is on the page)."""
    return page.locator(".stMain").first


def open_app(page, url: str) -> None:
    page.goto(url, timeout=WAIT_MS)
    page.get_by_test_id("stChatInputTextArea").wait_for(state="visible", timeout=WAIT_MS)
    settle(page)


def settle(page) -> None:
    """Wait until the app's script run is over.

    The chat box and the first answers are on the page before the run ends; under load the
    rest of the run (the sidebar filling in, the answer component drawn again) can replace an
    element under the test's hand: in CI an open filter's option was detached mid-click, and a
    tapped citation preview closed before it was measured. Streamlit marks the run's state on
    its root element, which is what its own end-to-end tests wait on.
    """
    page.wait_for_timeout(100)  # a widget change posts its rerun before this returns
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(state="attached", timeout=WAIT_MS)


def open_sidebar(page, viewport: str) -> None:
    """On the phone the sidebar slides in over the page; wait until it has stopped.

    A widget clicked while it slides is scrolled into view by Playwright mid-slide, and the
    scroll closes the dropdown it opened (seen in CI as an option detached from the DOM).
    """
    if viewport == "phone":
        page.get_by_test_id("stExpandSidebarButton").click()
        page.get_by_test_id("stSidebarContent").wait_for(state="visible")
        page.wait_for_function("""() => {
            const sidebar = document.querySelector('[data-testid=stSidebar]');
            return sidebar.getBoundingClientRect().left >= 0 && sidebar.getAnimations({subtree: true}).length === 0;
        }""")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_three_turn_conversation_resolves_its_follow_ups(served, output_dir, viewport):
    from playwright.sync_api import expect

    with chromium_page(viewport) as page:
        open_app(page, served)
        expect(main_area(page)).to_contain_text("The documents (2)")
        expect(main_area(page)).to_contain_text("Action File to follow up on the EU action plan")
        shot(page, output_dir, f"home-{viewport}")
        ask(page, BULGARIA, answers=1)
        ask(page, "and Greece?", answers=2)
        ask(page, "who leads it?", answers=3)
        main = main_area(page)
        expect(main).to_contain_text("Searched: What is the status of returns cooperation with Greece?")
        # Action 20 (Frontex's return action plans with CY, EL, BG) and Action 19 (return capacities, with Greece's
        # return specialists) both answer "returns cooperation with Greece"; "it" is the one retrieval puts first
        expect(main).to_contain_text(re.compile(r"Searched: Who leads returns cooperation with Greece \(Action (19|20)\)\?"))
        last = page.locator("[data-testid=answer-view]").last
        expect(last).to_contain_text(re.compile(r"Lead actor\(s\): (Frontex, CY, EL, BG|Commission, Frontex, MS, EUDEL)"))
        expect(page.locator("[data-testid=answer-view] .item.status").first).to_contain_text("Status:")
        shot(page, output_dir, f"conversation-{viewport}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_citation_previews_its_sentence_on_hover_or_tap(served, output_dir, viewport):
    from playwright.sync_api import expect

    with chromium_page(viewport) as page:
        open_app(page, served)
        ask(page, BULGARIA, answers=1)
        marker = page.locator("[data-testid=answer-view] button.marker").first
        marker.scroll_into_view_if_needed()
        if viewport == "phone":
            marker.tap()  # a tap previews; it does not open the panel yet
        else:
            marker.hover()
        preview = page.locator("[data-testid=citation-preview]").first
        if viewport == "phone":
            try:
                expect(preview).to_be_visible()
            except AssertionError:  # seen once, with the machine loaded by another test run: still hidden 5 s after
                # the first tap; a second tap opens it
                marker.tap()
        expect(preview).to_be_visible()
        expect(preview).to_contain_text("[1] Action 21 · pp. 19-20")
        expect(preview).to_contain_text("Status: Ongoing")
        expect(preview).to_contain_text("Council action file, 22 July 2024")
        box, screen = preview.bounding_box(), VIEWPORTS[viewport]
        if box is None:  # closed again before it was measured (seen once on the phone, after a tap): open it again
            if viewport == "phone":
                marker.tap()
            else:
                marker.hover()
            expect(preview).to_be_visible()
            box = preview.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= screen["width"] + 1
        shot(page, output_dir, f"preview-{viewport}")
        assert page.locator(".st-key-source-panel").count() == 0
        page.locator("[data-testid=copy-answer]").first.click()
        expect(page.locator("[data-testid=copy-answer]").first).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()").startswith("Council action file, 22 July 2024:")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_source_panel_opens_beside_the_chat_scrolled_to_the_highlight(served, output_dir, viewport):
    from playwright.sync_api import expect

    with chromium_page(viewport) as page:
        open_app(page, served)
        ask(page, BULGARIA, answers=1)
        ask(page, "what about the way ahead?", answers=2)
        marker = page.locator("[data-testid=answer-view] button.marker").last
        marker.scroll_into_view_if_needed()
        if viewport == "phone":
            marker.tap()
            page.locator("[data-testid=citation-preview] .tip-open").last.tap()
        else:
            marker.click()
        panel = page.locator(".st-key-source-panel")
        expect(panel).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Ask")).to_have_attribute("aria-selected", "true")
        first = page.locator("[data-testid=source-passage] mark[data-first]")
        expect(first).to_be_visible()
        page.wait_for_timeout(800)
        passage = page.locator("[data-testid=source-passage]").bounding_box()
        mark = first.bounding_box()
        assert passage["y"] - 1 <= mark["y"] and mark["y"] + mark["height"] <= passage["y"] + passage["height"] + 1
        height = VIEWPORTS[viewport]["height"]
        assert 0 <= mark["y"] and mark["y"] + mark["height"] <= height, "the highlight is scrolled into view"
        if viewport == "desktop":  # beside the chat, not under it
            chat = page.locator("[data-testid=stChatMessage]").last.bounding_box()
            assert panel.bounding_box()["x"] >= chat["x"] + chat["width"] - 1
        expect(panel).to_contain_text("Way ahead:")
        expect(panel.get_by_role("button", name="Action 20")).to_be_visible()  # the neighbours
        shot(page, output_dir, f"source-panel-{viewport}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_reset_filters_clears_every_filter(served, output_dir, viewport):
    from playwright.sync_api import expect

    with chromium_page(viewport, height=1400) as page:
        open_app(page, served)
        open_sidebar(page, viewport)
        sidebar = page.get_by_test_id("stSidebar")
        for label, option in (("Documents", "Letter, 25 June 2023"), ("Countries named", "Bulgaria (BG)"),
                              ("Passage kinds", "Annex item")):
            field = sidebar.get_by_test_id("stMultiSelect").filter(has_text=label)
            field.scroll_into_view_if_needed()  # scrolled before it opens: a scroll closes an open list
            field.click()
            choice = page.get_by_role("option").filter(has_text=option).first
            expect(choice).to_be_visible()
            choice.click()
            page.keyboard.press("Escape")
            settle(page)
        sidebar.get_by_text("Meaning", exact=True).click()
        expect(sidebar).to_contain_text("Bulgaria (BG)")
        shot(page, output_dir, f"filters-set-{viewport}")
        expect(main_area(page)).to_contain_text("Meaning search, 6 passages, documents: Commission letter")
        sidebar.get_by_role("button", name="Reset filters").click()
        expect(main_area(page)).to_contain_text("Hybrid search, 6 passages, all documents")
        selects = sidebar.get_by_test_id("stMultiSelect")
        assert [text.strip() for text in selects.all_inner_texts()] == ["Documents", "Passage kinds", "Countries named",
                                                                          "Sections"]
        shot(page, output_dir, f"filters-reset-{viewport}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_conversation_comes_back_after_a_reload_and_a_server_restart(workspace, output_dir, viewport):
    from playwright.sync_api import expect

    with chromium_page(viewport) as page:
        with streamlit_server(output_dir / "server.log", workspace) as url:
            open_app(page, url)
            ask(page, BULGARIA, answers=1)
            ask(page, "and Greece?", answers=2)
            page.wait_for_function("() => location.search.includes('c=')")
            address = page.url
            page.reload()
            expect(page.locator("[data-testid=answer-view]")).to_have_count(2, timeout=WAIT_MS)
            expect(main_area(page)).to_contain_text("and Greece?")
        with streamlit_server(output_dir / "server-restarted.log", workspace) as url:
            port = urllib.parse.urlsplit(url).port
            page.goto(urllib.parse.urlsplit(address)._replace(netloc=f"127.0.0.1:{port}").geturl(), timeout=WAIT_MS)
            expect(page.locator("[data-testid=answer-view]")).to_have_count(2, timeout=WAIT_MS)
            main = main_area(page)
            expect(main).to_contain_text(BULGARIA)
            expect(main).to_contain_text("Searched: What is the status of returns cooperation with Greece?")
            ask(page, "who leads it?", answers=3)  # and it goes on from where it was
            expect(main).to_contain_text("Searched: Who leads returns cooperation with Greece")
            open_sidebar(page, viewport)
            expect(page.get_by_test_id("stSidebar")).to_contain_text(BULGARIA)
            shot(page, output_dir, f"restored-{viewport}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_25_mb_upload_is_refused_with_the_size_limit(workspace, output_dir, viewport):
    from playwright.sync_api import expect

    with chromium_page(viewport) as page, streamlit_server(output_dir / "server.log", workspace) as url:
        open_app(page, url)
        page.get_by_role("tab", name="Index").click()
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "big-report.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (25 << 20)}])
        expect(page.get_by_text("big-report.pdf")).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("button", name="Add and index").click()
        error = page.get_by_test_id("stAlertContentError")
        expect(error).to_contain_text("big-report.pdf is larger than the 20 MB limit.", timeout=WAIT_MS)
        expect(main_area(page)).not_to_contain_text("Choose a")
        error.scroll_into_view_if_needed()
        shot(page, output_dir, f"upload-too-large-{viewport}")


def test_every_view_loads_from_127_0_0_1_only(served, output_dir):
    """chromium_page fails the test if any request went elsewhere (the icon font, a favicon, a CDN)."""
    from playwright.sync_api import expect

    with chromium_page("desktop") as page:
        open_app(page, served)
        ask(page, BULGARIA, answers=1)
        page.locator("[data-testid=answer-view] button.marker").first.click()
        expect(page.locator(".st-key-source-panel")).to_be_visible(timeout=WAIT_MS)
        for tab in ("Documents", "Index", "Ask"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(1500)
        assert page.requests_outside == []  # type: ignore[attr-defined]


def test_a_pdf_source_shows_its_page_with_the_sentence_marked(workspace, settings, output_dir):
    from playwright.sync_api import expect

    from assistant.index import build_index
    from assistant.uploads import add_upload

    pdf = ROOT / "tests" / "fixtures" / "documents" / \
        "commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf"
    corpus, index_dir = Path(workspace["ASSISTANT_CORPUS"]), Path(workspace["ASSISTANT_INDEX"])
    add_upload(corpus, pdf.read_bytes(), pdf.name)
    build_index(index_dir, corpus, settings.model, settings.backend)
    with streamlit_server(output_dir / "server.log", workspace) as url, chromium_page("desktop") as page:
        open_app(page, url)
        ask(page, "Who prepared the note on the plan for the Central Mediterranean?", answers=1)
        page.get_by_test_id("stChatMessage").nth(1).get_by_role("button").filter(has_text="note").first.click()
        panel = page.locator(".st-key-source-panel")
        expect(panel).to_be_visible(timeout=WAIT_MS)
        panel.get_by_text("Show the page").click()
        image = panel.get_by_test_id("stImage")
        expect(image).to_be_visible(timeout=WAIT_MS)
        expect(panel).to_contain_text("found and marked")
        image.scroll_into_view_if_needed()
        shot(page, output_dir, "pdf-page-desktop")


def test_markup_in_an_upload_or_a_question_never_runs(workspace, output_dir):
    from playwright.sync_api import expect

    with streamlit_server(output_dir / "server.log", workspace) as url, chromium_page(height=2400) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        open_app(page, url)

        page.get_by_role("tab", name="Index").click()
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "moldova-note.txt", "mimeType": "text/plain", "buffer": HOSTILE_DOCUMENT.encode()}])
        expect(page.get_by_text("moldova-note.txt")).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("textbox", name="Title", exact=True).fill(HOSTILE_TITLE)
        page.get_by_role("textbox", name="Reference", exact=True).fill("<script>window.__xss=4</script>")
        page.get_by_role("button", name="Add and index").click()
        expect(page.get_by_test_id("stAlertContentSuccess").first).to_contain_text("Indexed", timeout=WAIT_MS)
        expect(main_area(page)).to_contain_text(HOSTILE_TITLE)

        page.get_by_role("tab", name="Ask").click()
        ask(page, HOSTILE_QUESTION, answers=1)
        question = page.get_by_test_id("stChatMessage").nth(0)
        expect(question).to_contain_text(HOSTILE_QUESTION, timeout=WAIT_MS)
        answer = page.locator("[data-testid=answer-view]").first
        expect(answer).to_contain_text("3 May 2024", timeout=WAIT_MS)
        page.locator("[data-testid=answer-view] button.marker").first.hover()
        expect(page.locator("[data-testid=citation-preview]").first).to_contain_text(HOSTILE_TITLE)
        page.keyboard.press("Escape")  # the preview closes
        expect(page.locator("[data-testid=citation-preview]").first).to_be_hidden()
        page.get_by_test_id("stChatMessage").nth(1).get_by_role("button").filter(has_text="Moldova note").first.click()
        panel = page.locator(".st-key-source-panel")
        expect(panel).to_be_visible(timeout=WAIT_MS)
        passage = page.locator("[data-testid=source-passage]")
        expect(passage).to_contain_text("<script>window.__xss=1</script>", timeout=WAIT_MS)
        expect(passage).to_contain_text('<img src=x onerror="window.__xss=2">')
        expect(passage).to_contain_text(":red[red] $x$ :smile:")
        expect(panel).to_contain_text(HOSTILE_TITLE)
        expect(panel).to_contain_text("<script>window.__xss=4</script>")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(output_dir / "xss.png"))

        page.get_by_role("tab", name="Documents").click()
        expect(main_area(page)).to_contain_text(HOSTILE_TITLE, timeout=WAIT_MS)
        page.wait_for_timeout(1000)

        assert page.evaluate("typeof window.__xss") == "undefined"
        assert dialogs == []
        main = main_area(page)
        assert main.locator("script").count() == 0
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
