"""Answers and passages as data for the page, and a PDF page with the cited sentences marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.present.pages import page_image
from assistant.present.preview import answer_lines, answer_view, passage_view, plain_answer
from assistant.records import Answer, Citation
from tests.conftest import ACTION_FILE_ID, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "documents"
NOTE_PDF = FIXTURES / "commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf"


def test_answer_lines_keep_the_order_mark_earlier_documents_and_the_status_line():
    answer = Answer("q", "Council action file, 22 July 2024:\n- Action 21 — Status: Ongoing, as of 22 July 2024 [1]\n"
                         "- Action 21: Onboarding of <b>Bulgaria</b> to the EURP. [1] [2]\n"
                         "Earlier, Commission letter, 25 June 2023:\n- Annex item 5: Steering committee met. [3]",
                    False, [], [])
    lines = answer_lines(answer)
    assert [line["kind"] for line in lines] == ["heading", "item", "item", "heading", "item"]
    assert lines[1]["status"] and not lines[2]["status"]
    assert lines[2]["pieces"] == [{"text": "Action 21: Onboarding of <b>Bulgaria</b> to the EURP. "}, {"n": 1},
                                  {"text": " "}, {"n": 2}]
    assert lines[3] == {"kind": "heading", "earlier": True, "text": "Earlier, Commission letter, 25 June 2023:"}


def test_an_abstention_with_a_marker_inside_its_sentence_keeps_the_marker_in_place():
    lines = answer_lines(Answer("q", "The documents mention Action 12 [1] but do not give an amount.", True, [], []))
    assert lines == [{"kind": "text", "status": False, "pieces": [
        {"text": "The documents mention Action 12 "}, {"n": 1}, {"text": " but do not give an amount."}]}]


def test_a_citation_preview_carries_the_quote_locator_document_and_page(units_by_locator):
    unit = units_by_locator[(ACTION_FILE_ID, "Action 21")]
    answer = Answer("q", "- Action 21: x [1]", False, [Citation(1, unit, unit.text, ["Onboarding of Bulgaria to the EURP."])],
                    [])
    data = answer_view(answer)
    assert data["citations"]["1"] == {
        "n": 1, "quote": ["Onboarding of Bulgaria to the EURP."], "locator": "Action 21",
        "document": "Council action file, 22 July 2024", "title": unit.doc_title, "pages": "pp. 19-20",
        "reference": "Action File to follow up on the EU action plan for the Eastern Mediterranean route, "
                     "WK 10190/2024 INIT, 22 July 2024, Action 21, pp. 19-20."}
    assert data["copy"] == plain_answer(answer) and data["copy"].endswith(data["citations"]["1"]["reference"])


def test_a_passage_marks_the_cited_sentences_and_scrolls_to_the_first(units_by_locator):
    unit = units_by_locator[(ACTION_FILE_ID, "Action 21")]
    cited = ["Onboarding of Bulgaria to the EURP.", "Status: Ongoing"]
    data = passage_view(unit, cited + ["not in the unit"])
    pieces = [p for line in data["lines"] for p in line]
    marked = [p for p in pieces if p.get("mark")]
    assert [p["text"] for p in marked] == ["Status: Ongoing", "Onboarding of Bulgaria to the EURP."]
    assert [p["scroll"] for p in marked] == [True, False]
    assert {"text": "Lead actor(s):", "label": True} in pieces
    assert data["lines"][0][0]["title"] and data["missing"] == ["not in the unit"]
    assert "".join(p["text"] for p in pieces) == unit.text.replace("\n", "")


def test_a_pdf_page_is_rendered_with_the_sentence_marked():
    pytest.importorskip("pypdfium2")
    image = page_image(NOTE_PDF, range(1, 2), ["Please find attached a note prepared by DG HOME"])
    assert image is not None and image.page == 1 and image.pages == 3
    assert image.found == image.wanted == 2 and image.png.startswith(b"\x89PNG")
    from io import BytesIO

    from PIL import Image

    import numpy as np

    pixels = np.asarray(Image.open(BytesIO(image.png)).convert("RGB")).reshape(-1, 3).astype(int)
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    orange = int(((r > 240) & (g > 200) & (g < 235) & (b < 200)).sum())
    assert orange > 500  # the highlight is drawn


def test_the_page_holding_the_sentence_is_chosen_and_other_files_have_no_page(tmp_path):
    image = page_image(NOTE_PDF, range(1, 4), ["Attachments: 2"])
    assert image is not None and image.page == 1
    text = tmp_path / "note.txt"
    text.write_text("not a PDF")
    assert page_image(text, range(1, 2), ["not"]) is None
    assert page_image(Path(tmp_path / "missing.pdf"), range(1, 2), []) is None
