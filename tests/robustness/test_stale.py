"""After a corpus edit the last good index keeps answering, with a notice; a damaged or foreign one never does.

Search tools serve the index they have while a rebuild is due; so do we. Every answer and
search from an index behind its corpus carries one sentence ("Stale index: 1 document changed
since it was built ..."), in `Answer.notes` and `notes` of the JSON, in `assistant status`
and in the app's Index tab. An index whose files, pointer or manifest do not check out, or
that was built with another model or chunker, is refused as before, stale corpus or not.
"""

from __future__ import annotations

import json
import re

import pytest

from assistant.engine import load_engine
from assistant.errors import AssistantError, StaleIndexError
from assistant.index import MANIFEST, build_index, current_generation, index_status, load_index
from assistant.uploads import add_upload, remove_document
from tests.conftest import copy_corpus_and_index, run_cli as run

pytestmark = pytest.mark.slow

BULGARIA = "what is the status of returns cooperation with Bulgaria"
NOTE = ("The joint working group on Moldova border cooperation met in Chisinau on 3 May 2024 and agreed to deploy "
        "two liaison officers at the border crossing points.\n")
STALE = re.compile(r"^Stale index: (\d+) documents? changed")


@pytest.fixture(scope="module")
def template(tmp_path_factory, engine, settings):
    root = tmp_path_factory.mktemp("stale")
    corpus, index_dir = copy_corpus_and_index(root, settings)
    build_index(index_dir, corpus, settings.model, settings.backend)
    return corpus, index_dir




def _status(local):
    return index_status(local.index_dir, local.corpus_dir, local.model, local.backend)


def test_an_edited_corpus_is_served_with_a_notice_counting_the_changes(local):
    added = add_upload(local.corpus_dir, NOTE.encode("utf-8"), "moldova-note.txt").document
    status = _status(local)
    assert status.stale and status.servable and not status.fresh and status.changed == 1
    assert STALE.match(status.reason) and "(1 added)" in status.reason and "assistant index" in status.reason
    engine = load_engine(local)
    answer = engine.ask(BULGARIA)
    assert not answer.abstained and answer.citations[0].unit.locator == "Action 21", "the last good index answers"
    assert answer.notes[-1] == status.reason
    assert engine.search(BULGARIA).notes == [status.reason]
    assert added.id not in {d.id for d in engine.index.documents}, "from the corpus as it was"


def test_the_cli_prints_the_notice_and_status_reports_it(local):
    add_upload(local.corpus_dir, NOTE.encode("utf-8"), "moldova-note.txt")
    human = run(local, "ask", BULGARIA)
    assert human.exit_code == 0 and "\nNote: Stale index: 1 document changed" in human.output, human.output
    record = json.loads(run(local, "ask", BULGARIA, "--json").output)
    assert STALE.match(record["notes"][-1]) and record["citations"]
    search = json.loads(run(local, "search", BULGARIA, "--json").output)
    assert STALE.match(search["notes"][0]) and search["results"]
    status = json.loads(run(local, "status", "--json").output)
    assert status["stale"] and status["servable"] and not status["fresh"] and status["documents_changed"] == 1
    rebuilt = run(local, "index", "--if-stale", "--quiet")
    assert rebuilt.exit_code == 0 and "Stale index" in rebuilt.output and "Building it now" in rebuilt.output
    after = json.loads(run(local, "ask", "When did the working group on Moldova border cooperation meet?", "--json").output)
    assert not any(note.startswith("Stale index") for note in after["notes"])
    assert json.loads(run(local, "status", "--json").output)["fresh"]


def test_added_removed_changed_and_the_glossary_are_each_counted(local):
    first = add_upload(local.corpus_dir, NOTE.encode("utf-8"), "one.txt").document
    build_index(local.index_dir, local.corpus_dir, local.model, local.backend)
    add_upload(local.corpus_dir, NOTE.replace("two", "three").encode("utf-8"), "two.txt")
    remove_document(local.corpus_dir, first.id)
    letter = local.corpus_dir / "commission-president-letter-on-migration-2023-06-25.txt"
    letter.write_text(letter.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    glossary = local.corpus_dir / "glossary.json"
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    status = _status(local)
    assert status.changed == 3 and status.stale
    assert "3 documents changed (1 added, 1 removed, 1 changed) and the glossary changed" in status.reason


def test_a_serving_engine_notices_a_change_made_after_it_loaded(local):
    engine = load_engine(local)
    assert not any(note.startswith("Stale") for note in engine.ask(BULGARIA).notes)
    engine.index.watch.interval = 0  # check on every question, not every two seconds
    add_upload(local.corpus_dir, NOTE.encode("utf-8"), "moldova-note.txt")
    assert STALE.match(engine.ask(BULGARIA).notes[-1])
    (local.corpus_dir / "documents.json").write_text("{", encoding="utf-8")
    broken = engine.ask(BULGARIA)
    assert not broken.abstained and broken.notes[-1].startswith("corpus/documents.json is not valid JSON")


# --- damaged or foreign: refused, stale corpus or not --------------------------------------------


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _another_model(generation):
    path = generation / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["model"] = "all-mpnet-base-v2"
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("damage", [lambda g: _truncate(g / "faiss.index"), lambda g: _truncate(g / "store.sqlite"),
                                    lambda g: _truncate(g / MANIFEST), _another_model,
                                    lambda g: (g.parent.parent / "CURRENT").write_bytes(b"\xff")],
                         ids=["faiss-cut", "store-cut", "manifest-cut", "another-model", "pointer-damaged"])
def test_a_damaged_or_foreign_index_behind_an_edited_corpus_is_still_refused(local, damage):
    add_upload(local.corpus_dir, NOTE.encode("utf-8"), "moldova-note.txt")
    damage(current_generation(local.index_dir))
    status = _status(local)
    assert not status.servable and not status.stale and not status.reason.startswith("Stale")
    with pytest.raises(AssistantError) as caught:
        load_index(local.index_dir, local.corpus_dir, local.model, local.backend)
    assert isinstance(caught.value, StaleIndexError) and "assistant index" in str(caught.value)
    result = run(local, "ask", BULGARIA)
    assert result.exit_code == 1 and "Stale index" not in result.output
    assert run(local, "index", "--if-stale", "--quiet").exit_code == 0
    assert _status(local).fresh
