"""Adding and removing documents: `assistant add/documents/remove`, duplicates, declared metadata, concurrency."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.errors import AssistantError
from assistant.ingest import load_documents
from assistant.uploads import add_upload, remove_document
from tests.conftest import copy_corpus_and_index
from tests.fixtures_documents import FILES, FIXTURES

slow = pytest.mark.slow

CENTRAL_MED_HTML = FIXTURES / "commission-news-central-mediterranean-action-plan-2022-11-21.html"
NOTE = ("The joint working group on Moldova border cooperation met in Chisinau on 3 May 2024 and agreed to deploy "
        "two liaison officers at the border crossing points.\n")


@pytest.fixture
def corpus(tmp_path, corpus_dir):
    """A copy of the shipped corpus (no uploads)."""
    target = tmp_path / "corpus"
    shutil.copytree(corpus_dir, target, ignore=shutil.ignore_patterns("uploads"))
    return target


@pytest.fixture
def workspace(tmp_path, engine, settings, monkeypatch):
    """Copies of the corpus and of the served index, given to the CLI through the environment."""
    corpus, index_dir = copy_corpus_and_index(tmp_path / "work", settings)
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX", str(index_dir))
    return corpus, index_dir


# --- the CLI, end to end ------------------------------------------------------------------


@slow
def test_add_the_fixture_folder_then_chunks_and_ask_use_it(workspace):
    corpus, _ = workspace
    runner = CliRunner()
    result = runner.invoke(cli, ["add", str(FIXTURES), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("Added 13 documents, 2 skipped (README.md: notes about the folder")
    assert "index rebuilt: Indexed" in summary and summary.endswith(".")
    added = [d for d in load_documents(corpus) if d.id.startswith("upload-")]
    assert sorted(Path(d.notes.removeprefix("Uploaded as ").rstrip(".")).name for d in added) == FILES
    units = [json.loads(line) for line in runner.invoke(cli, ["chunks", "--units", "--json"]).output.splitlines()]
    new = [u for u in units if u["doc_id"].startswith("upload-")]
    assert {u["locator"] for u in new} >= {"Pillar 1", "Paragraph 2", "Section 1 BACKGROUND", "Highlights", "Trends"}
    answer = json.loads(runner.invoke(cli, ["ask", "What did the Council welcome about the Valletta Summit?",
                                             "--json"]).output)
    assert not answer["abstained"]
    assert answer["citations"][0]["doc_title"] == "Council conclusions on migration"
    assert answer["citations"][0]["locator"] == "Paragraph 2"
    listed = [json.loads(line) for line in runner.invoke(cli, ["documents", "--json"]).output.splitlines()]
    undated = next(d for d in listed if d["title"] == "MEPs approve the new Migration and Asylum Pact")
    assert undated["date"] == "" and undated["label"] == "Parliament press release, undated"
    again = runner.invoke(cli, ["add", str(CENTRAL_MED_HTML), "--quiet", "--no-index"])
    assert again.exit_code == 0 and "1 skipped" in again.output
    assert "already in the corpus as 'Commission proposes action plan for challenges in Central Mediterranean'" in again.output
    removed = runner.invoke(cli, ["remove", undated["id"], "--quiet"])
    assert removed.exit_code == 0, removed.output
    assert removed.output.startswith("Removed 'MEPs approve the new Migration and Asylum Pact'; index rebuilt")
    assert undated["id"] not in {d.id for d in load_documents(corpus)}


def test_add_one_file_with_its_metadata_given(corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    note = corpus.parent / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["add", str(note), "--title", "Moldova note", "--date", "2024-05",
                                      "--issuer", "Council of the EU", "--reference", "ST 1234/24", "--language", "en",
                                      "--no-index", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    document = record["added"][0]
    assert (document["title"], document["date"], document["issuing_body"], document["reference"]) == \
        ("Moldova note", "2024-05", "Council of the European Union", "ST 1234/24")
    assert document["kind"] == "general" and "title" not in document.get("derived", [])


@pytest.mark.parametrize("options, says", [
    (["--date", "1900-01-01"], "before 1950"),
    (["--date", "2031-01-01"], "in the future"),
    (["--title", "   "], "title is only spaces"),
    (["--language", "english"], "not an ISO 639-1 code"),
    (["--kind", "action_file"], "has no action table"),
    (["--kind", "letter"], "has no salutation"),
])
def test_bad_metadata_for_one_file_is_one_sentence_and_adds_nothing(corpus, monkeypatch, options, says):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    note = corpus.parent / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["add", str(note), "--no-index", *options])
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output
    assert not (corpus / "uploads" / "documents.json").exists()


def test_options_for_one_file_are_refused_for_many(corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    result = CliRunner().invoke(cli, ["add", str(FIXTURES), "--title", "One title", "--no-index"])
    assert result.exit_code == 1 and "--metadata" in result.output


def test_a_metadata_file_describes_many_files(corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    result = CliRunner().invoke(cli, ["add", str(FIXTURES / "frontex-eu-external-borders-august-2022.txt"),
                                      str(FIXTURES / "euaa-latest-asylum-trends-september-2024.md"),
                                      "--metadata", str(FIXTURES / "SOURCES.json"), "--no-index", "--quiet"])
    assert result.exit_code == 0, result.output
    by_file = {Path(d.notes.removeprefix("Uploaded as ").rstrip(".")).name: d for d in load_documents(corpus)
               if d.id.startswith("upload-")}
    frontex = by_file["frontex-eu-external-borders-august-2022.txt"]
    assert frontex.genre == "press_release" and frontex.issuing_body == "Frontex" and frontex.date == ""
    assert frontex.title == "Frontex eu external borders august 2022"  # null in the file: read from the document
    assert by_file["euaa-latest-asylum-trends-september-2024.md"].date == "2024-09"


def test_documents_lists_the_shipped_ones(corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    result = CliRunner().invoke(cli, ["documents"])
    assert result.exit_code == 0
    assert "emr-action-file-2024\tCouncil action file, 22 July 2024" in result.output
    assert "commission-letter-2023\tCommission letter, 25 June 2023" in result.output


def test_removing_a_shipped_or_unknown_document_is_one_sentence(corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    for doc_id, says in (("emr-action-file-2024", "shipped documents"), ("upload-nothing", "No added document")):
        result = CliRunner().invoke(cli, ["remove", doc_id, "--no-index"])
        assert result.exit_code == 1 and says in result.output


# --- duplicates on normalized text -----------------------------------------------------------


def _article_text(path: Path) -> str:
    from bs4 import BeautifulSoup

    article = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find("article")
    return "\n\n".join(p.get_text(" ", strip=True) for p in article.find_all(["h1", "h2", "p", "figcaption"]))


@pytest.mark.parametrize("variant", ["crlf", "spaces", "html-as-text"])
def test_the_same_text_is_a_duplicate_and_the_message_names_the_document(corpus, variant):
    first = add_upload(corpus, CENTRAL_MED_HTML.read_bytes(), CENTRAL_MED_HTML.name)
    text = _article_text(CENTRAL_MED_HTML)
    if variant == "crlf":
        original = (FIXTURES / "council-conclusions-on-migration-2015-07-20.txt").read_text(encoding="utf-8")
        add_upload(corpus, original.encode("utf-8"), "conclusions.txt")
        data, name, title = original.replace("\n", "\r\n").encode("utf-8"), "conclusions-windows.txt", \
            "Council conclusions on migration"
    elif variant == "spaces":
        data, name, title = ("  " + text.replace(" ", "  ").replace("\n\n", "\n\n\n")).encode("utf-8"), "copy.md", \
            first.document.title
    else:
        data, name, title = text.encode("cp1252", errors="replace"), "saved-as-text.txt", first.document.title
    before = (corpus / "uploads" / "documents.json").read_bytes()
    with pytest.raises(AssistantError, match="is already in the corpus as") as caught:
        add_upload(corpus, data, name)
    assert repr(title) in str(caught.value) and name in str(caught.value)
    assert (corpus / "uploads" / "documents.json").read_bytes() == before


# --- concurrency ---------------------------------------------------------------------------


def _note(i: int) -> bytes:
    return (f"Liaison officer deployment number {i}: the joint working group met in Chisinau and agreed to deploy "
            f"{i + 2} officers at the border crossing points of Moldova in the spring.\n").encode("utf-8")


def _add_in_a_process(corpus: str, start: int, count: int, queue) -> None:
    added = []
    for i in range(start, start + count):
        try:
            added.append(add_upload(Path(corpus), _note(i), f"note-{i}.txt").document.id)
        except AssistantError as exc:
            added.append(f"error: {exc}")
    queue.put(added)


def test_threads_and_processes_adding_and_removing_at_once_lose_nothing(corpus):
    seeded = [add_upload(corpus, _note(i), f"seed-{i}.txt").document.id for i in range(100, 104)]
    results: list[str] = []
    removed: list[str] = []
    lock = threading.Lock()

    def add_many(start: int) -> None:
        for i in range(start, start + 4):
            document = add_upload(corpus, _note(i), f"note-{i}.txt").document
            with lock:
                results.append(document.id)

    def remove_one(doc_id: str) -> None:
        remove_document(corpus, doc_id)
        with lock:
            removed.append(doc_id)

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_add_in_a_process, args=(str(corpus), 50 + 10 * p, 4, queue)) for p in range(2)]
    for process in processes:
        process.start()
    threads = [threading.Thread(target=add_many, args=(10 * t,)) for t in range(3)]
    threads += [threading.Thread(target=remove_one, args=(doc_id,)) for doc_id in seeded[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from_processes = [doc_id for _ in processes for doc_id in queue.get(timeout=120)]
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert not [r for r in from_processes if r.startswith("error")], from_processes
    documents = load_documents(corpus)  # the corpus loads
    ids = [d.id for d in documents]
    for doc_id in results + from_processes + seeded[2:]:
        assert ids.count(doc_id) == 1, doc_id
    assert not set(removed) & set(ids)
    assert len(ids) == 2 + 12 + 8 + 2
    entries = json.loads((corpus / "uploads" / "documents.json").read_text(encoding="utf-8"))
    stored = {e["source_file"] for e in entries}
    on_disk = {f"uploads/{p.name}" for p in (corpus / "uploads").iterdir() if p.name.startswith("upload-")}
    assert stored == on_disk, "every stored file has its entry and every entry its file"
    assert not list((corpus / "uploads").glob(".*.tmp")), "no temporary file left behind"


def test_paths_expand_from_files_folders_and_globs():
    from assistant.uploads import expand_paths

    files, skipped = expand_paths([str(FIXTURES / "*.html"), str(FIXTURES / "council-conclusions-on-migration-2015-07-20.txt")])
    assert [p.name for p in files] == sorted(n for n in FILES if n.endswith(".html")) + \
        ["council-conclusions-on-migration-2015-07-20.txt"]
    files, skipped = expand_paths([str(FIXTURES)])
    assert sorted(p.name for p in files) == FILES and sorted(Path(f).name for f, _ in skipped) == ["README.md", "SOURCES.json"]
    with pytest.raises(AssistantError, match="Nothing matches"):
        expand_paths([str(FIXTURES / "*.docx")])
