"""Corpus metadata and loaders: bad input gets one clear sentence and changes nothing."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.ingest import load_documents
from assistant.errors import AssistantError
from assistant.ingest import load_lines


def copy_corpus(corpus_dir, tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(corpus_dir, target)
    return target


def rewrite_metadata(corpus, change):
    path = corpus / "documents.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    change(entries)
    path.write_text(json.dumps(entries), encoding="utf-8")


def test_metadata_has_every_field_for_each_document(corpus_dir):
    for document in load_documents(corpus_dir):
        assert all([document.id, document.title, document.issuing_body, document.reference, document.date,
                    document.kind, document.language, document.source_file])


def test_metadata_pointing_at_a_missing_file_is_one_sentence(corpus_dir, tmp_path):
    corpus = copy_corpus(corpus_dir, tmp_path)
    rewrite_metadata(corpus, lambda e: e[0].update(source_file="nowhere.txt"))
    with pytest.raises(AssistantError, match=r"points at nowhere.txt, which is not in"):
        load_documents(corpus)


def test_duplicate_document_id_is_refused(corpus_dir, tmp_path):
    corpus = copy_corpus(corpus_dir, tmp_path)
    rewrite_metadata(corpus, lambda e: e[1].update(id=e[0]["id"]))
    with pytest.raises(AssistantError, match="appears twice"):
        load_documents(corpus)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"  \n\n ", "has no text"),
    (bytes(range(256)) * 4, "not text in any encoding|binary data"),
    (b"Dear colleagues,\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f", "binary data"),
])
def test_bad_text_files_are_one_sentence(tmp_path, content, message):
    path = tmp_path / "letter.txt"
    path.write_bytes(content)
    with pytest.raises(AssistantError, match=message) as caught:
        load_lines(path)
    assert str(caught.value).count(". ") == 0 and "letter.txt" in str(caught.value)


@pytest.mark.parametrize("encoding, text", [
    ("cp1252", "Dear colleagues,\n\nLa Commission a déjà agi à Lampedusa, où l'accueil reste difficile.\n"),
    ("latin-1", "Café crème"),
    ("utf-16", "Dear colleagues,\n\nThe Commission acted.\n"),
    ("utf-8-sig", "Dear colleagues,\n\nThe Commission acted.\n"),
    ("cp1253", "Η Επιτροπή ενήργησε ήδη για τη μετανάστευση στην Ελλάδα.\n"),
    ("cp1251", "Комиссия уже действует в области миграции.\n"),
])
def test_text_in_another_encoding_is_read_as_what_it_says(tmp_path, encoding, text):
    path = tmp_path / "letter.txt"
    path.write_bytes(text.encode(encoding))
    assert [line.text for line in load_lines(path) if line.text] == [t for t in text.split("\n") if t]


@pytest.mark.parametrize("name, content, message", [
    ("table.odt", b"PK\x03\x04", "is not a PDF, Word"),
    ("table.docx", b"PK\x03\x04", "could not be read as a Word document"),
])
def test_unsupported_or_broken_format_is_one_sentence(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AssistantError, match=message) as caught:
        load_lines(path)
    assert str(caught.value).count(". ") == 0 and name in str(caught.value)


def test_cli_reports_bad_corpus_without_a_traceback(corpus_dir, tmp_path):
    corpus = copy_corpus(corpus_dir, tmp_path)
    (corpus / corpus_dir.joinpath("documents.json").name).write_text("[{", encoding="utf-8")
    result = CliRunner().invoke(cli, ["chunks"], env={"ASSISTANT_CORPUS": str(corpus)})
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "is not valid JSON" in result.output
