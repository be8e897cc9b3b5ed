"""Conversations and feedback on disk: kept whole, in order, with several writers at once."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest

from assistant.conversations import (
    FEEDBACK_FIELDS,
    ConversationStore,
    StoredTurn,
    answer_of_record,
    record_of_answer,
)
from assistant.errors import AssistantError
from assistant.records import Answer, AnswerSentence, Chunk, Citation, Hit
from tests.conftest import ACTION_FILE_ID


@pytest.fixture
def store(tmp_path):
    return ConversationStore(tmp_path / "data")


def an_answer(units_by_locator) -> Answer:
    unit = units_by_locator[(ACTION_FILE_ID, "Action 21")]
    other = units_by_locator[(ACTION_FILE_ID, "Action 20")]
    sentence = "Onboarding of Bulgaria to the EURP."
    hits = [Hit(1, 0.03, Chunk(unit.unit_id + "#0", unit.unit_id, 0, 1, unit.text, unit.text, "h"), unit, 0.61, False),
            Hit(2, 0.02, Chunk(other.unit_id + "#0", other.unit_id, 0, 1, other.text, other.text, "h"), other, 0.5)]
    return Answer("and Bulgaria?", f"Council action file, 22 July 2024:\n- Action 21: {sentence} [1]", False,
                  [Citation(1, unit, unit.text, [sentence])], hits, ["a note"],
                  sentences=[AnswerSentence(f"Action 21: {sentence}", sentence, 1, unit.unit_id)],
                  analysis={"intent": "status"}, searched="What is the status of returns with Bulgaria?",
                  followup={"kind": "substitution"})


def test_an_answer_comes_back_from_the_store_as_it_was_given(store, units_by_locator):
    answer = an_answer(units_by_locator)
    again = answer_of_record(json.loads(json.dumps(record_of_answer(answer))))
    assert again.to_dict() == answer.to_dict()
    assert again.citations[0].unit == answer.citations[0].unit and again.hits[1].unit.locator == "Action 20"


def test_conversations_are_listed_newest_first_named_by_their_first_question_renamed_and_deleted(store, units_by_locator):
    first = store.create()
    second = store.create()
    store.add_turn(first.id, StoredTurn("What is the status of returns cooperation with Bulgaria?",
                                        an_answer(units_by_locator), described="Hybrid search"))
    store.add_turn(first.id, StoredTurn("and Greece?", error="The question is empty."))
    listed = store.conversations()
    assert [c.id for c in listed] == [first.id, second.id]
    assert listed[0].title == "What is the status of returns cooperation with Bulgaria?" and listed[0].turns == 2
    store.rename(first.id, "  Returns   cooperation ")
    assert store.get(first.id).title == "Returns cooperation"
    with pytest.raises(AssistantError, match="needs a name"):
        store.rename(first.id, "   ")
    turns = store.turns(first.id)
    assert [t.position for t in turns] == [0, 1] and turns[1].error == "The question is empty."
    assert turns[0].answer.citations[0].unit.locator == "Action 21" and turns[0].described == "Hybrid search"
    store.delete(first.id)
    assert store.get(first.id) is None and store.turns(first.id) == []
    with pytest.raises(AssistantError, match="deleted"):
        store.add_turn(first.id, StoredTurn("lost?"))


def test_the_last_turns_are_read_without_reading_the_whole_conversation(store):
    conversation = store.create()
    for number in range(60):
        store.add_turn(conversation.id, StoredTurn(f"question {number}"))
    assert [t.question for t in store.turns(conversation.id, last=3)] == ["question 57", "question 58", "question 59"]
    with store._connect() as db:
        plan = " ".join(row[-1] for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM turns WHERE conversation_id = ? ORDER BY position DESC LIMIT 3", ("x",)))
    assert "USING INDEX" in plan or "PRIMARY KEY" in plan


def _write_turns(data_dir, conversation_id, writer, count):
    store = ConversationStore(data_dir)
    for number in range(count):
        store.add_turn(conversation_id, StoredTurn(f"writer {writer} question {number}"))


def test_several_processes_and_threads_writing_at_once_lose_nothing_and_share_no_position(tmp_path):
    data_dir = tmp_path / "data"
    conversation = ConversationStore(data_dir).create("shared")
    processes = [multiprocessing.get_context("spawn").Process(target=_write_turns, args=(data_dir, conversation.id, n, 15))
                 for n in range(3)]
    threads = [threading.Thread(target=_write_turns, args=(data_dir, conversation.id, 10 + n, 15)) for n in range(3)]
    for worker in (*processes, *threads):
        worker.start()
    for worker in (*processes, *threads):
        worker.join(timeout=120)
    assert all(p.exitcode == 0 for p in processes)
    turns = ConversationStore(data_dir).turns(conversation.id)
    assert [t.position for t in turns] == list(range(90))
    assert len({t.question for t in turns}) == 90


def test_feedback_is_exported_as_candidate_gold_items(store):
    with pytest.raises(AssistantError, match="what is wrong"):
        store.add_feedback("q", "a", "  ", [], "2026-12-01T10:00:00+00:00")
    store.add_feedback("Who leads action 21?", "Action 21: Lead actor(s): Frontex, Commission, BG [1]",
                       "Missing: Bulgaria is a lead actor too", ["emr-action-file-2024:action-21"],
                       "2026-12-01T10:00:00+00:00", "abc123", 2)
    lines = store.feedback_jsonl().splitlines()
    item = json.loads(lines[0])
    assert tuple(item) == FEEDBACK_FIELDS
    assert item == {"question": "Who leads action 21?",
                    "answer_given": "Action 21: Lead actor(s): Frontex, Commission, BG [1]",
                    "comment": "Missing: Bulgaria is a lead actor too", "cited_units": ["emr-action-file-2024:action-21"],
                    "asked_at": "2026-12-01T10:00:00+00:00", "conversation_id": "abc123"}


def test_a_store_that_cannot_be_written_says_so_in_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AssistantError, match="cannot be opened") as caught:
        ConversationStore(blocker / "data")
    assert "ASSISTANT_DATA" in str(caught.value)


def test_feedback_export_writes_the_json_lines(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assistant.cli import cli

    monkeypatch.setenv("ASSISTANT_DATA", str(tmp_path / "data"))
    ConversationStore(tmp_path / "data").add_feedback("q?", "a [1]", "wrong date", ["d:u"], "2026-12-01T10:00:00+00:00")
    result = CliRunner().invoke(cli, ["feedback", "export"])
    assert result.exit_code == 0 and json.loads(result.output)["comment"] == "wrong date"
    result = CliRunner().invoke(cli, ["feedback", "export", "--out", str(tmp_path / "gold.jsonl")])
    assert result.exit_code == 0 and "1 feedback items" in result.output
    assert json.loads((tmp_path / "gold.jsonl").read_text())["cited_units"] == ["d:u"]
