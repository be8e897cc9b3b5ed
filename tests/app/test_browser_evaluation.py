"""The Evaluation tab in a real Chromium: a run's tables, two runs compared, one question drilled down into."""

from __future__ import annotations

import pytest

from tests.app.test_browser import WAIT_MS, chromium_page, streamlit_server
from tests.conftest import save_two_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOSTILE_ANSWER = "Council action file, 22 July 2024:\n- Action 2: <script>alert(1)</script> <img src=x onerror=alert(2)> [1]"


@pytest.fixture
def runs(evaluation, tmp_path):
    """Run A (the session's evaluation) and run B (five first hits lost, one answer changed, with markup)."""
    folder = tmp_path / "runs"
    runs = save_two_runs(evaluation.record, folder, HOSTILE_ANSWER)
    return {"folder": folder, "changed": runs["changed"], "question": runs["record"]["questions"][runs["changed"]]}


def choose(page, label: str, text: str) -> None:
    """Pick the option containing `text` in the selectbox labelled `label` (typing filters the options)."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box.click()
    box.locator("input").fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()


def test_the_evaluation_tab_compares_two_runs_and_drills_down_into_a_question(engine, runs, output_dir):
    from playwright.sync_api import expect

    with streamlit_server(output_dir / "server.log", {"ASSISTANT_RUNS": str(runs["folder"])}) as url, \
            chromium_page(height=3000) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url, timeout=WAIT_MS)
        page.get_by_role("tab", name="Evaluation").click()
        main = page.get_by_test_id("stMain")
        expect(main).to_contain_text("Retrieval by mode", timeout=WAIT_MS)
        expect(main).to_contain_text("Abstention trade-off")
        expect(main.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=WAIT_MS)

        choose(page, "Run A (before)", "20250101T000000-aaaaaa")
        page.get_by_role("button", name="Compare").click()
        hybrid = main.get_by_test_id("stExpander").filter(has_text="Retrieval, hybrid")
        expect(hybrid).to_contain_text("5 questions worse", timeout=WAIT_MS)
        expect(main).to_contain_text("Settings changed: rrf_k 60 → 10")
        expect(main).to_contain_text("Answers that changed")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(output_dir / "evaluation-compare.png"))

        choose(page, "Question", runs["changed"])
        expect(main).to_contain_text(runs["question"]["answer"], timeout=WAIT_MS)
        expect(main).to_contain_text("Gold evidence")
        expect(main).to_contain_text("<script>alert(1)</script>")  # the answer given, shown as text
        expect(main).to_contain_text("Change from run A")
        relevant = main.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text="· relevant")).first
        expect(relevant.locator(".stMarkdownColoredBackground").first).to_be_visible(timeout=WAIT_MS)
        relevant.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(output_dir / "evaluation-question.png"))

        assert dialogs == []
        assert page.locator("img[src='x']").count() == 0 and main.locator("script").count() == 0
