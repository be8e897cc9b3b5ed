"""Hostile PDFs: small files whose pages are full of drawing operators are refused within work limits.

Before, pages of rectangle operators stayed under pypdf's own limits: 85 KB / 10 pages took
147 s and 2.5 GB, 340 KB / 40 pages ended in a MemoryError at 6 GB. Now each content stream
has a parsing budget, the document an operator budget (form XObjects included) and a time
limit, and a page keeps at most MAX_PAGE_RULES borders. The PDFs are written here, byte by
byte: a content stream of many `re` operators, compressed, as the attack used. Limits are
counted, not timed, so each refusal happens at a known page.
"""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import assistant.ingest.pdf as pdf_module
from assistant.errors import AssistantError
from assistant.ingest.pdf import load_pdf
from tests.conftest import ROOT

TEXT = "Frontex deployed twelve officers to the border in May 2024."


def hostile_pdf(pages: int, rectangles: int, form_rectangles: int = 0, form_calls: int = 0, text: str = TEXT) -> bytes:
    """A PDF whose every page draws `rectangles` filled rectangles (and calls a form of `form_rectangles` of them
    `form_calls` times) around one line of text."""
    content = (f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET\n".encode() + b"1 1 2 2 re f\n" * rectangles
               + b"/Fm0 Do\n" * form_calls)
    stream = zlib.compress(content, 9)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    form = zlib.compress(b"1 1 2 2 re f\n" * form_rectangles, 9)
    objects[4] = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                  b"/Length %d /Filter /FlateDecode >>\nstream\n"
                  % len(form) + form + b"\nendstream")
    kids, number = [], 5
    for _ in range(pages):
        kids.append(number)
        objects[number] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
                           b"/XObject << /Fm0 4 0 R >> >> /Contents %d 0 R >>" % (number + 1))
        objects[number + 1] = (b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
                               + b"\nendstream")
        number += 2
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for key in sorted(objects):
        offsets[key] = len(out)
        out += b"%d 0 obj\n" % key + objects[key] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % number + b"".join(b"%010d 00000 n \n" % offsets[k] for k in range(1, number))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (number, xref)
    return bytes(out)


def _write(tmp_path: Path, data: bytes, name: str = "drawing.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".") and ". " not in message[:-1], message


def test_the_generator_writes_a_pdf_that_reads_when_small(tmp_path):
    lines, _ = load_pdf(_write(tmp_path, hostile_pdf(pages=2, rectangles=50)))
    assert [line.text for line in lines if line.text.strip()] == [TEXT, TEXT] or TEXT in " ".join(l.text for l in lines)


def test_a_page_over_the_parsing_budget_is_refused_at_that_page(tmp_path):
    """With the real limits: 100,000 rectangles on one page (600,000 parsing steps) in 5 KB."""
    data = hostile_pdf(pages=3, rectangles=100_000)
    assert len(data) < 10_000
    with pytest.raises(AssistantError) as caught:
        load_pdf(_write(tmp_path, data))
    message = str(caught.value)
    assert message.startswith("drawing.pdf: page 1 holds more drawing instructions than a page may have here")
    _one_sentence(message)


def test_pages_under_the_page_budget_are_stopped_by_the_document_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_module, "MAX_DOCUMENT_OPERATORS", 25_000)
    with pytest.raises(AssistantError) as caught:
        load_pdf(_write(tmp_path, hostile_pdf(pages=10, rectangles=5_000)))  # 10,000 operators a page
    assert "holds more than 25,000 drawing operations (the limit was passed on page 3)" in str(caught.value)
    _one_sentence(str(caught.value))


def test_operators_in_a_form_called_many_times_count_too(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_module, "MAX_DOCUMENT_OPERATORS", 25_000)
    with pytest.raises(AssistantError, match="the limit was passed on page 1"):
        load_pdf(_write(tmp_path, hostile_pdf(pages=2, rectangles=0, form_rectangles=1_000, form_calls=20)))


def test_the_time_limit_stops_any_other_slowness(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_module, "PARSE_DEADLINE_S", -1.0)  # already past: refused before the first page
    with pytest.raises(AssistantError, match=r"took more than -1 s to read \(stopped on page 1\)"):
        load_pdf(_write(tmp_path, hostile_pdf(pages=1, rectangles=10)))


def test_a_page_keeps_at_most_the_rule_budget_and_its_text(tmp_path):
    path = _write(tmp_path, hostile_pdf(pages=1, rectangles=20_000))
    from pypdf import PdfReader

    page = pdf_module._read_page(path, PdfReader(path), 0, pdf_module._Budget())
    assert len(page.rules) <= pdf_module.MAX_PAGE_RULES and [f.text for f in page.fragments] == [TEXT]


# With the real page limit (what bounds memory), in a process that may use 1 GB of address space at most:
# refused, not a MemoryError. The document budget is lowered so that the refusal comes on page 3, not page 9.
LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from pathlib import Path
from assistant.errors import AssistantError
import assistant.ingest.pdf as pdf_module
from assistant.ingest.pdf import load_pdf
pdf_module.MAX_DOCUMENT_OPERATORS = int(sys.argv[2])  # the pages' own budget stays the real one
try:
    load_pdf(Path(sys.argv[1]))
except AssistantError as exc:
    print("REFUSED", exc)
"""


@pytest.mark.slow
def test_forty_pages_of_rectangles_are_refused_within_a_gigabyte(tmp_path):
    data = hostile_pdf(pages=40, rectangles=60_000)  # 360,000 parsing steps a page: under the page budget
    path = _write(tmp_path, data, "forty-pages.pdf")
    result = subprocess.run([sys.executable, "-c", LIMITED, str(path), "300000"], capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("REFUSED forty-pages.pdf holds more than 300,000 drawing operations (the limit was "
                                    "passed on page 3)"), result.stdout


def test_an_upload_of_such_a_pdf_is_one_sentence_naming_it_and_changes_nothing(tmp_path, corpus_dir, monkeypatch):
    import shutil

    monkeypatch.setattr(pdf_module, "MAX_STREAM_WORK", 50_000)
    from assistant.uploads import add_upload

    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus, ignore=shutil.ignore_patterns("uploads"))
    with pytest.raises(AssistantError) as caught:
        add_upload(corpus, hostile_pdf(pages=2, rectangles=10_000), "../../slides.pdf")
    assert str(caught.value).startswith("slides.pdf: page 1 holds more drawing instructions")
    assert not (corpus / "uploads" / "documents.json").exists()
