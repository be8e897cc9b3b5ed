"""Every file the product reads is checked on load: a damaged one is one sentence naming it and the fix.

The files: index/CURRENT and each generation's manifest.json (the index's own: `assistant
index` repairs them), corpus/documents.json, corpus/uploads/documents.json and
corpus/glossary.json (the user's: the sentence says how to fix them). Each is damaged in the
ways found (not UTF-8, not JSON, JSON of another shape, fields of the wrong type, empty) and
every command that reads it answers in one sentence, never a traceback. A hypothesis test
then throws arbitrary JSON at each file.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from assistant.errors import AssistantError
from assistant.index import MANIFEST, POINTER, current_generation, index_status, read_manifest
from assistant.ingest import load_documents
from assistant.ingest.glossary import Glossary
from assistant.uploads import add_upload
from tests.conftest import copy_corpus_and_index, run_cli as run

NOTE = ("The joint working group on Moldova border cooperation met in Chisinau on 3 May 2024 and agreed to deploy "
        "two liaison officers at the border crossing points.\n")


def one_sentence(text: str) -> str:
    """The message of a failed command, checked to be one plain sentence with no traceback."""
    message = text.strip().removeprefix("Error: ")
    assert message and "\n" not in message and "Traceback" not in message, text
    assert message.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), f"more than one sentence: {message}"
    return message


@pytest.fixture(scope="module")
def template(tmp_path_factory, engine, settings):
    root = tmp_path_factory.mktemp("files")
    corpus, index_dir = copy_corpus_and_index(root, settings)
    add_upload(corpus, NOTE.encode("utf-8"), "moldova-note.txt")  # so that the uploads' metadata exists
    from assistant.index import build_index

    build_index(index_dir, corpus, settings.model, settings.backend)
    return corpus, index_dir




def _manifest_path(local) -> Path:
    return current_generation(local.index_dir) / MANIFEST


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    result = change(data)
    path.write_text(json.dumps(data if result is None else result), encoding="utf-8")


# --- the index's own files: refused in one sentence, repaired by `assistant index` -------------

POINTERS = {
    "not-utf8": b"\xff\xfe\x00\x9b2J",
    "empty": b"",
    "a-path": b"../../../etc\n",
    "a-generation-that-is-not-there": b"20240101T000000000000Z-1\n",
    "a-build-in-progress": b".building-20240101T000000000000Z-1\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("content", list(POINTERS.values()), ids=list(POINTERS))
def test_a_damaged_pointer_is_one_sentence_everywhere_and_index_repairs_it(local, content):
    (local.index_dir / POINTER).write_bytes(content)
    status = run(local, "status", "--json")
    assert status.exit_code == 0, status.output
    record = json.loads(status.output)
    assert not record["fresh"] and "index/CURRENT" in one_sentence(record["reason"])
    for args in (["ask", "returns with Bulgaria"], ["search", "returns with Bulgaria"]):
        result = run(local, *args)
        assert result.exit_code == 1 and "index/CURRENT" in one_sentence(result.output)
    repaired = run(local, "index", "--if-stale", "--quiet")
    assert repaired.exit_code == 0 and "0 embedded" in repaired.output, repaired.output
    assert index_status(local.index_dir, local.corpus_dir, local.model, local.backend).fresh
    assert run(local, "ask", "returns with Bulgaria").exit_code == 0


MANIFESTS = {
    "a-list": lambda path: path.write_text("[]"),
    "null": lambda path: path.write_text("null"),
    "a-number": lambda path: path.write_text("5"),
    "not-utf8": lambda path: path.write_bytes(b"\xff{\"model\": 1}"),
    "an-empty-object": lambda path: path.write_text("{}"),
    "dimension-as-text": lambda path: _edit_json(path, lambda m: m.update(dimension="384")),
    "counts-as-a-list": lambda path: _edit_json(path, lambda m: m.update(counts=[1, 2])),
    "a-count-as-text": lambda path: _edit_json(path, lambda m: m["counts"].update(chunks="109")),
    "a-segment-outside-the-generation": lambda path: _edit_json(path, lambda m: m.update(segments=["../.."])),
    "a-file-without-its-size": lambda path: _edit_json(path, lambda m: next(iter(m["files"].values())).pop("bytes")),
    "documents-of-the-wrong-shape": lambda path: _edit_json(path, lambda m: m.update(documents=[{"id": 1}])),
    "files-as-a-list": lambda path: _edit_json(path, lambda m: m.update(files=["faiss.index"])),
    "corpus-as-text": lambda path: _edit_json(path, lambda m: m.update(corpus="all of it")),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(MANIFESTS.values()), ids=list(MANIFESTS))
def test_a_manifest_that_is_json_of_another_shape_is_one_sentence_and_index_repairs_it(local, damage):
    damage(_manifest_path(local))
    with pytest.raises(AssistantError) as caught:
        read_manifest(current_generation(local.index_dir))
    assert "manifest.json" in one_sentence(str(caught.value)) and "assistant index" in str(caught.value)
    record = json.loads(run(local, "status", "--json").output)
    assert not record["fresh"] and "manifest.json" in one_sentence(record["reason"])
    result = run(local, "ask", "returns with Bulgaria")
    assert result.exit_code == 1 and "manifest.json" in one_sentence(result.output)
    repaired = run(local, "index", "--if-stale", "--quiet")
    assert repaired.exit_code == 0 and "Indexed" in repaired.output, repaired.output
    assert run(local, "ask", "returns with Bulgaria").exit_code == 0


# --- the user's files: one sentence naming the file and the fix -------------------------------

GLOSSARIES = {
    "missing": (None, "does not exist"),
    "not-json": (b"{countries: [}", "is not valid JSON"),
    "not-utf8": (b"\xff\xfe{}", "is not UTF-8"),
    "a-list": (b"[]", "must be an object"),
    "countries-as-an-object": (b'{"countries": {"BG": "Bulgaria"}}', "countries must be a list"),
    "a-name-as-a-number": (b'{"countries": [{"name": 5}]}', "countries entry 1's name must be a string"),
    "an-empty-alias": (b'{"countries": [{"name": "Bulgaria", "aliases": [""]}]}', "is empty"),
    "an-acronym-without-expansion": (b'{"acronyms": [{"term": "EUAA"}]}', "lacks the field 'expansion'"),
    "synonyms-with-no-terms": (b'{"synonyms": [{"user_terms": [], "document_terms": ["return"]}]}', "empty list"),
}


@pytest.mark.parametrize("content, says", list(GLOSSARIES.values()), ids=list(GLOSSARIES))
def test_a_damaged_glossary_is_one_sentence_naming_it(tmp_path, content, says):
    path = tmp_path / "corpus" / "glossary.json"
    path.parent.mkdir()
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AssistantError) as caught:
        Glossary.load(path)
    message = one_sentence(str(caught.value))
    assert message.startswith("corpus/glossary.json") and says in message and "restore the file" in message


@pytest.mark.slow
@pytest.mark.parametrize("command", [["glossary"], ["ask", "returns with Bulgaria"], ["index", "--quiet"], ["chunks"]])
def test_every_command_that_reads_the_glossary_says_so_in_one_sentence(local, command):
    (local.corpus_dir / "glossary.json").write_text('{"countries": [{"name": 5}]}', encoding="utf-8")
    from assistant.ingest import load_glossary

    load_glossary.cache_clear()
    result = run(local, *command)
    assert result.exit_code == 1 and "corpus/glossary.json" in one_sentence(result.output)


DOCUMENT_FILES = {
    "not-json": (b'[{"id": "x",]', "is not valid JSON"),
    "not-utf8": (b"\xff\xfe[]", "is not UTF-8"),
    "an-object": (b'{"documents": []}', "must be a list"),
    "entries-as-text": (b'["emr-action-file-2024"]', "entry 1 must be an object"),
    "a-title-as-a-number": (lambda e: e[0].update(title=5), "entry 1's title must be a string"),
    "an-unknown-kind": (lambda e: e[0].update(kind="memo"), "entry 1's kind must be one of"),
    "a-basic-format-date": (lambda e: e[0].update(date="20240722"), "entry 1's date has an unexpected form"),
    "missing-actions-as-text": (lambda e: e[0].update(missing_actions="24-28"), "missing_actions must be a list"),
    "no-id": (lambda e: e[0].pop("id") and None, "lacks the field 'id'"),
}


@pytest.mark.parametrize("which", ["documents.json", "uploads/documents.json"])
@pytest.mark.parametrize("content, says", list(DOCUMENT_FILES.values()), ids=list(DOCUMENT_FILES))
def test_damaged_document_metadata_is_one_sentence_naming_the_file(tmp_path, corpus_dir, which, content, says):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus, ignore=shutil.ignore_patterns("uploads"))
    add_upload(corpus, NOTE.encode("utf-8"), "moldova-note.txt")
    path = corpus / which
    if callable(content):
        _edit_json(path, content)
    else:
        path.write_bytes(content)
    with pytest.raises(AssistantError) as caught:
        load_documents(corpus)
    message = one_sentence(str(caught.value))
    assert message.startswith(f"corpus/{which}") and says in message, message
    assert ("git checkout" if which == "documents.json" else "assistant add") in message
    before = path.read_bytes()
    with pytest.raises(AssistantError):  # an upload never writes over a damaged metadata file
        add_upload(corpus, NOTE.replace("two", "three").encode("utf-8"), "another-note.txt")
    assert path.read_bytes() == before


@pytest.mark.slow
def test_an_empty_corpus_is_one_sentence_from_index(local):
    (local.corpus_dir / "documents.json").write_text("[]", encoding="utf-8")
    (local.corpus_dir / "uploads" / "documents.json").write_text("[]", encoding="utf-8")
    assert run(local, "documents").exit_code == 0
    result = run(local, "index", "--quiet")
    assert result.exit_code == 1 and "has no documents" in one_sentence(result.output)


# --- anything at all in each file ------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


def _shaped_like(real: object) -> st.SearchStrategy:
    """Arbitrary JSON, or the real file with one value replaced by arbitrary JSON."""
    def replace_one(data, path, value):
        data = json.loads(json.dumps(data))
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return data

    paths = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                paths.append(path + [key])
                walk(item, path + [key])
        elif isinstance(value, list):
            for position, item in enumerate(value[:2]):
                paths.append(path + [position])
                walk(item, path + [position])

    walk(real, [])
    return JSON | st.builds(lambda path, value: replace_one(real, path, value), st.sampled_from(paths), JSON)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_in_the_glossary_or_the_metadata_loads_or_is_one_sentence(tmp_path_factory, corpus_dir, data):
    corpus = tmp_path_factory.mktemp("any")
    shutil.copytree(corpus_dir, corpus / "corpus", ignore=shutil.ignore_patterns("uploads"))
    corpus = corpus / "corpus"
    which = data.draw(st.sampled_from(["glossary.json", "documents.json"]))
    real = json.loads((corpus / which).read_text(encoding="utf-8"))
    value = data.draw(_shaped_like(real))
    (corpus / which).write_text(json.dumps(value), encoding="utf-8")
    try:
        if which == "glossary.json":
            glossary = Glossary.load(corpus / which)
            glossary.expand_query("returns with Bulgaria")
            glossary.countries_in("BG and TR")
        else:
            from assistant.ingest import short_label

            for document in load_documents(corpus):
                short_label(document)
    except AssistantError as exc:
        assert str(exc).startswith(f"corpus/{which}") or "Document" in str(exc) or "document id" in str(exc)
        one_sentence(str(exc))


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_in_a_manifest_is_read_or_refused_in_one_sentence(template, tmp_path_factory, data):
    generation = tmp_path_factory.mktemp("generation")
    real = json.loads((current_generation(template[1]) / MANIFEST).read_text(encoding="utf-8"))
    (generation / MANIFEST).write_text(json.dumps(data.draw(_shaped_like(real))), encoding="utf-8")
    try:
        manifest = read_manifest(generation)
    except AssistantError as exc:
        assert "manifest.json" in one_sentence(str(exc))
    else:
        assert manifest.chunks >= 0 and manifest.segments  # what loading and builds read
        assert all(isinstance(entry["sha256"], str) and isinstance(entry["bytes"], int) for entry in manifest.files.values())
        manifest.settings()
