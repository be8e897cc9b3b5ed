"""Bad input gets one clear sentence, changes nothing, and the assistant keeps answering.

Questions go through `engine.ask` and the `assistant ask` command on the real index.
Documents go through `assistant.uploads.add_document` into a copy of the real corpus kept
beside a copy of the served index: every refused document leaves the copy byte-identical,
and the index for it still loads and answers afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import unicodedata
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as pdf_canvas

from assistant.cli import cli
from assistant.engine import load_engine
from assistant.errors import AssistantError
from assistant.index import build_index, load_index
from assistant.ingest import MAX_FILE_BYTES
from assistant.search import clean_question
from assistant.uploads import add_document
from tests.conftest import copy_corpus_and_index

pytestmark = pytest.mark.slow

BULGARIA = "what is the status of returns cooperation with Bulgaria"
ACTION_FILE = "council-action-file-eastern-mediterranean-route-2024-07-22.txt"
LETTER = "commission-president-letter-on-migration-2023-06-25.txt"
GENERATED_NAME = re.compile(r"^upload-[0-9a-f]{12}-[0-9a-f]{8}\.(txt|md|pdf)$")


def assert_one_sentence(message: str) -> None:
    """One line, one sentence: it ends once, and no second sentence starts inside it."""
    assert message and "\n" not in message.strip() and "Traceback" not in message, message
    assert message.rstrip().endswith((".", "?")), message
    assert not re.search(r"[.!?]\s+[A-Z]", message.rstrip()[:-1]), f"more than one sentence: {message}"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file (by content hash) and folder under `folder`."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(folder.rglob("*"))}


def assert_well_formed(answer, question: str) -> None:
    """Answered with cited sentences from the documents, or abstained saying why (the answer contract)."""
    from eval.load_test import problems_with

    assert problems_with(answer, question) == []


# --- questions ---------------------------------------------------------------------------------

REJECTED_QUESTIONS = [
    pytest.param("", "empty", id="empty"),
    pytest.param("   \t\n \u3000 ", "empty", id="whitespace"),
    pytest.param("\x00\x01\x07\x1b\x7f\u200b\u200f\u202e\ufeff", "empty", id="only-control-and-invisible-characters"),
    pytest.param("why " * 25_000, "characters long", id="100000-characters"),
]

MIXED_SCRIPTS = [
    pytest.param("ما هو وضع التعاون في مجال العودة مع بلغاريا؟", id="arabic"),
    pytest.param("מה המצב של שיתוף הפעולה בהחזרות עם בולגריה?", id="hebrew"),
    pytest.param("Ποια είναι η κατάσταση της συνεργασίας επιστροφών με τη Βουλγαρία;", id="greek"),
    pytest.param("Каков статус сотрудничества по возвращению с Болгарией?", id="cyrillic"),
]

# Each holds the English Bulgaria question, so the answer must still cite the Bulgaria actions.
BULGARIA_ACTIONS = {"Action 20", "Action 21"}
DRESSED_UP = [
    pytest.param(f"{BULGARIA} (بلغاريا / בולגריה / Βουλγαρία / Болгария)?", id="mixed-scripts"),
    pytest.param(f"\u202b{BULGARIA}\u202c \u200f", id="bidi-embedding-marks"),
    pytest.param(f"<script>alert('x')</script> {BULGARIA}", id="script-tag"),
    pytest.param("<b>what</b> is the <i>status</i> of returns cooperation with <a href='javascript:alert(1)'>Bulgaria</a>",
                 id="html-tags"),
    pytest.param("![x](http://127.0.0.1/x.png) [what is the status](javascript:alert(1)) of returns cooperation with "
                 "**Bulgaria**", id="markdown-image-and-link"),
    pytest.param("what\x00 is the status\x1b[31m of returns\r\ncooperation\x07 with Bulgaria\x7f", id="control-characters"),
]


@pytest.mark.parametrize("question, says", REJECTED_QUESTIONS)
def test_a_question_that_cannot_be_asked_gets_one_sentence_from_the_engine(engine, question, says):
    with pytest.raises(AssistantError) as caught:
        engine.ask(question)
    assert says in str(caught.value)
    assert_one_sentence(str(caught.value))


@pytest.mark.parametrize("question, says", REJECTED_QUESTIONS)
def test_a_question_that_cannot_be_asked_gets_one_sentence_from_the_cli(engine, question, says):
    result = CliRunner().invoke(cli, ["ask", question])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: ") and says in result.output
    assert_one_sentence(result.output.removeprefix("Error: "))


@pytest.mark.parametrize("question", MIXED_SCRIPTS)
def test_right_to_left_and_other_scripts_are_answered_or_abstained_normally(engine, question):
    answer = engine.ask(question)
    assert answer.question == question, "the question is kept as typed, script and direction included"
    assert_well_formed(answer, question)


@pytest.mark.parametrize("question", DRESSED_UP)
def test_markup_scripts_and_control_characters_are_plain_text_around_a_real_question(engine, question):
    answer = engine.ask(question)
    assert_well_formed(answer, question)
    assert not answer.abstained and BULGARIA_ACTIONS & {c.unit.locator for c in answer.citations}
    for markup in ("<script", "<b>", "javascript:", "](", "![", "**"):
        if markup in question:
            assert markup in answer.question, "markup is kept as typed: it is text, not formatting"
            assert markup not in answer.answer, "the answer quotes the documents, never the question's markup"
    assert not any(unicodedata.category(ch) == "Cc" for ch in answer.question)


@pytest.mark.parametrize("question", MIXED_SCRIPTS[:1] + DRESSED_UP)
def test_the_cli_prints_such_questions_as_plain_text_and_answers(engine, question):
    result = CliRunner().invoke(cli, ["ask", question])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Q: {clean_question(question)}\n")
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in result.output), "no terminal escapes"
    record = json.loads(CliRunner().invoke(cli, ["ask", "--json", question]).output)
    assert record["question"] == clean_question(question)


def test_bad_questions_change_nothing_and_the_engine_keeps_answering(engine, settings):
    before = snapshot(settings.index_dir), snapshot(settings.corpus_dir)
    reference = engine.ask(BULGARIA).to_dict()
    for param in REJECTED_QUESTIONS + MIXED_SCRIPTS + DRESSED_UP:
        try:
            engine.ask(param.values[0])
        except AssistantError:
            pass
    assert engine.ask(BULGARIA).to_dict() == reference
    assert (snapshot(settings.index_dir), snapshot(settings.corpus_dir)) == before


# --- documents -----------------------------------------------------------------------------------


def _pdf(lines: list[str], text: bool = True) -> bytes:
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=A4)
    if text:
        for number, line in enumerate(lines):
            canvas.drawString(72, 760 - 18 * number, line)
    else:  # a scan: only an image-like grey box, no text layer
        canvas.setFillGray(0.5)
        canvas.rect(72, 300, 450, 450, fill=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


LETTER_LINES = ["Dear colleagues,", "The Commission will fund a reception centre in Lampedusa by March 2025.",
                "Yours sincerely,", "A. Person"]


def _encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(LETTER_LINES))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _stray_prose_action_file() -> bytes:
    return ("Action\tLead actor(s)\tStatus\tWay ahead incl. timeline\tComments\n"
            "<b>1. Do something</b>\tCommission\tOngoing\t<p>Soon.</p>\t\n"
            "This paragraph sits below the table but is no footnote.\n").encode("utf-8")


BAD_DOCUMENTS = [
    # (shown file name, bytes, add_document options, what the sentence says)
    pytest.param("empty.txt", lambda c: b" \n\t\n\n", {}, "has no text", id="empty-text"),
    pytest.param("zero.md", lambda c: b"", {}, "empty (zero bytes)", id="zero-byte-markdown"),
    pytest.param("zero.pdf", lambda c: b"", {}, "empty (zero bytes)", id="zero-byte-pdf"),
    pytest.param("truncated.pdf", lambda c: _pdf(LETTER_LINES)[: len(_pdf(LETTER_LINES)) // 2], {}, "incomplete",
                 id="truncated-pdf"),
    pytest.param("locked.pdf", lambda c: _encrypted(), {}, "encrypted; remove the password", id="encrypted-pdf"),
    pytest.param("scan.pdf", lambda c: _pdf([], text=False), {}, "no text layer; it needs OCR", id="pdf-without-text"),
    pytest.param("binary.txt", lambda c: bytes(range(256)) * 8, {}, "not text in any encoding",
                 id="binary-bytes-named-text"),
    pytest.param("huge.txt", lambda c: b"a" * (MAX_FILE_BYTES + 1), {}, "20 MB limit", id="over-the-size-limit"),
    pytest.param("copy of the action file.txt", lambda c: (c / ACTION_FILE).read_bytes(), {"kind": "action_file"},
                 "already in the corpus", id="duplicate-of-an-indexed-document"),
    pytest.param("letter-again.md", lambda c: (c / LETTER).read_bytes(), {}, "already in the corpus",
                 id="duplicate-under-another-suffix"),
    pytest.param("greeting.pdf", lambda c: _pdf(["Dear colleagues,"]), {}, "yielded no units",
                 id="pdf-with-a-salutation-only"),
    pytest.param("stray.txt", lambda c: _stray_prose_action_file(), {"kind": "action_file"}, "outside the table",
                 id="action-file-with-prose-below-the-table"),
    pytest.param("report.docx", lambda c: b"PK\x03\x04 not really a document", {}, "could not be read as a Word document",
                 id="broken-word-document"),
    pytest.param("slides.pptx", lambda c: b"PK\x03\x04 slides", {}, "is not a PDF, Word", id="unsupported-format"),
    pytest.param("../../../escaped.txt", lambda c: b"Dear\x00\x01\x02\x03\x04\x05\x06\x07\x08", {}, "binary data",
                 id="dot-dot-name"),
    pytest.param("..\\..\\Windows\\escaped.md", lambda c: b"", {}, "empty", id="windows-path-name"),
]


@pytest.fixture
def workspace(tmp_path, engine, settings, monkeypatch):
    """A copy of the corpus and of the served index; scratch files go to a folder we can inspect."""
    root = tmp_path / "work"
    corpus, index_dir = copy_corpus_and_index(root, settings)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    here = root / "a" / "b" / "c"  # relative names with ../ resolve inside tmp_path from here
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    local = settings.with_overrides(corpus_dir=corpus, index_dir=index_dir)
    return corpus, index_dir, scratch, local


def _still_answers(local) -> None:
    """The index for this corpus is fresh, loads, and answers a real question with citations."""
    load_index(local.index_dir, local.corpus_dir, local.model, local.backend)
    answer = load_engine(local).ask(BULGARIA)
    assert not answer.abstained and answer.citations[0].unit.locator == "Action 21"


@pytest.mark.parametrize("name, content, options, says", BAD_DOCUMENTS)
def test_a_bad_document_is_refused_in_one_sentence_and_changes_nothing(workspace, tmp_path, name, content, options, says):
    corpus, index_dir, scratch, local = workspace
    data = content(corpus)
    before = snapshot(tmp_path)
    with pytest.raises(AssistantError) as caught:
        add_document(corpus, data, name, **options)
    message = str(caught.value)
    assert says in message
    shown = re.split(r"[\\/]", name)[-1]
    assert message.startswith(shown) or f" {shown} " in message, f"the sentence names the file: {message}"
    assert "upload-" not in message and "document." not in message, "never the generated or scratch name"
    assert_one_sentence(message)
    assert snapshot(tmp_path) == before, "the corpus copy, its index and everything around them are unchanged"
    assert not any(scratch.iterdir()), "the private copy used for checking is gone"
    _still_answers(local)


HOSTILE_NAMES = ["../../../{}.txt", "..\\..\\..\\{}.txt", "/tmp/{}.txt", "uploads/../../../../{}.txt",
                 "C:\\Windows\\System32\\{}.txt", "./../{}.txt"]


@pytest.mark.parametrize("pattern", HOSTILE_NAMES)
def test_a_name_with_path_separators_is_stored_under_a_generated_name_inside_uploads(workspace, tmp_path, pattern):
    corpus, index_dir, scratch, local = workspace
    stem = f"escaped-{uuid.uuid4().hex[:8]}"
    before = snapshot(tmp_path)
    document = add_document(corpus, "\n\n".join(LETTER_LINES).encode("utf-8"), pattern.format(stem))
    after = snapshot(tmp_path)
    added = sorted(set(after) - set(before))
    stored = Path(document.source_file)
    assert stored.parent == Path("uploads") and GENERATED_NAME.match(stored.name)
    assert added == sorted(["work/corpus/uploads", f"work/corpus/uploads/{stored.name}", "work/corpus/uploads/documents.json",
                            "work/corpus/uploads/.lock"])  # the lock that serialises additions and removals
    assert all(after[path] == digest for path, digest in before.items()), "nothing else was touched"
    assert not Path(f"/tmp/{stem}.txt").exists() and not list(Path("/").glob(f"*/{stem}*"))
    assert stem not in document.source_file and document.notes == f"Uploaded as {stem}.txt."
    assert not any(scratch.iterdir())


def test_an_upload_is_indexed_and_answers_and_a_second_copy_is_refused(workspace, tmp_path):
    corpus, index_dir, scratch, local = workspace
    document = add_document(corpus, "\n\n".join(LETTER_LINES).encode("utf-8"), "../../lampedusa.txt")
    with pytest.raises(AssistantError, match="already in the corpus"):
        add_document(corpus, "\n\n".join(LETTER_LINES).encode("utf-8"), "lampedusa (1).txt")
    build_index(index_dir, corpus, local.model, local.backend)
    answer = load_engine(local).ask("When will the reception centre in Lampedusa be funded?")
    assert not answer.abstained and answer.citations[0].unit.doc_id == document.id
    assert "March 2025" in answer.answer
