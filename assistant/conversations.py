"""Conversations and feedback kept on disk (SQLite), so that a reload or a restart loses nothing.

One file, `<data dir>/assistant.sqlite3` (`ASSISTANT_DATA`, default `data/`), holds the
conversations (a title, the turns in order: the question, the answer as JSON with the units it
cites, what was searched, how long it took) and the feedback people leave on answers ("this
answer is wrong / missing something"), exported as candidate gold items in JSON Lines:
{"question", "answer_given", "comment", "cited_units", "asked_at", "conversation_id"}.

Every write is one transaction (`BEGIN IMMEDIATE`), so several sessions and processes can
write at once: a turn's position is taken and the turn written under the same lock. Reading a
conversation's recent turns costs the same however long it is (an index on position).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from assistant.errors import AssistantError
from assistant.records import Answer, AnswerSentence, Chunk, Citation, Hit, Unit

DATABASE = "assistant.sqlite3"
TITLE_CHARS = 80
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another one before giving up with one sentence
FEEDBACK_FIELDS = ("question", "answer_given", "comment", "cited_units", "asked_at", "conversation_id")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,            -- the Answer as JSON (record_of_answer), NULL when the question got an error
    error TEXT NOT NULL DEFAULT '',
    described TEXT NOT NULL DEFAULT '',  -- the search in words: "Hybrid search, 6 passages, all documents"
    seconds REAL NOT NULL DEFAULT 0,
    asked_at TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '',    -- the turn as the next follow-up reads it (ContextTurn JSON)
    PRIMARY KEY (conversation_id, position)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL DEFAULT '',
    position INTEGER,
    question TEXT NOT NULL,
    answer_given TEXT NOT NULL,
    comment TEXT NOT NULL,
    cited_units TEXT NOT NULL,  -- JSON list of unit ids
    asked_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: str
    updated_at: str
    turns: int = 0


@dataclass
class StoredTurn:
    """One question and what came back, as stored."""

    question: str
    answer: Answer | None = None
    error: str = ""
    described: str = ""
    seconds: float = 0.0
    asked_at: str = field(default_factory=now)
    context: str = ""  # ContextTurn JSON
    position: int = -1


# --- answers to and from JSON -------------------------------------------------------------------------


def record_of_answer(answer: Answer) -> dict[str, Any]:
    """The answer's JSON record (the `ask --json` contract) with every unit it shows, whole."""
    units = {c.unit.unit_id: c.unit.to_dict() for c in answer.citations}
    units.update({h.unit.unit_id: h.unit.to_dict() for h in answer.hits if h.unit.unit_id not in units})
    return {"answer": answer.to_dict(), "units": units}


def answer_of_record(record: dict[str, Any]) -> Answer:
    """The Answer back from `record_of_answer`, with its units as they were when it was given."""
    data, units = record["answer"], {k: Unit.from_dict(v) for k, v in record.get("units", {}).items()}
    citations = [Citation(c["n"], units[c["unit_id"]], c.get("quote", ""), list(c.get("cited_sentences", [])))
                 for c in data.get("citations", []) if c.get("unit_id") in units]
    hits = []
    for p in data.get("passages", []):
        unit = units.get(p.get("unit_id"))
        if unit is None:
            continue
        chunk = Chunk(p.get("chunk_id", unit.unit_id), unit.unit_id, int(p.get("matched_part", 0)), 1, unit.text, "", "")
        hits.append(Hit(int(p.get("rank", len(hits) + 1)), float(p.get("score", 0.0)), chunk, unit,
                        float(p.get("similarity", 0.0)), bool(p.get("named_in_question", False))))
    sentences = [AnswerSentence(s["text"], s["quote"], int(s["n"]), s["unit_id"]) for s in data.get("sentences", [])]
    return Answer(data["question"], data["answer"], bool(data["abstained"]), citations, hits, list(data.get("notes", [])),
                  data.get("mode", "extractive"), sentences, dict(data.get("analysis", {})), data.get("abstention", ""),
                  data.get("searched", ""), dict(data.get("followup", {})))


# --- the store -----------------------------------------------------------------------------------------


class ConversationStore:
    """Conversations and feedback in one SQLite file; safe to use from several threads and processes at once."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / DATABASE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
                db.execute("CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_id, position)")
        except (OSError, sqlite3.Error) as exc:
            raise AssistantError(f"The conversation store {self.path} cannot be opened ({exc}); "
                                 "set ASSISTANT_DATA to a folder you can write.") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = WAL")  # readers do not wait for a writer
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: taken at once (BEGIN IMMEDIATE), committed whole or not at all."""
        with self._connect() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise AssistantError(f"The conversation store is busy ({exc}); try again.") from None
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # conversations --------------------------------------------------------------------------------------
    def create(self, title: str = "New conversation") -> Conversation:
        conversation = Conversation(uuid.uuid4().hex[:12], _title(title), now(), now())
        with self._write() as db:
            db.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                       (conversation.id, conversation.title, conversation.created_at, conversation.updated_at))
        return conversation

    def get(self, conversation_id: str) -> Conversation | None:
        with self._connect() as db:
            row = db.execute("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS turns "
                             "FROM conversations c WHERE c.id = ?", (conversation_id,)).fetchone()
        return _conversation(row) if row else None

    def conversations(self, limit: int = 200) -> list[Conversation]:
        """The most recently used first."""
        with self._connect() as db:
            rows = db.execute("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS turns "
                              "FROM conversations c ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?", (limit,)).fetchall()
        return [_conversation(row) for row in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        if not title.strip():
            raise AssistantError("A conversation needs a name; type one.")
        with self._write() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (_title(title), conversation_id))

    def delete(self, conversation_id: str) -> None:
        """The conversation and its turns (feedback already given is kept: it is about the answers)."""
        with self._write() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # turns ---------------------------------------------------------------------------------------------
    def add_turn(self, conversation_id: str, turn: StoredTurn) -> int:
        """Append a turn; its position. The first question names a conversation still called "New conversation"."""
        answer = json.dumps(record_of_answer(turn.answer), ensure_ascii=False) if turn.answer is not None else None
        with self._write() as db:
            row = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise AssistantError("This conversation was deleted; start a new one.")
            position = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM turns WHERE conversation_id = ?",
                                  (conversation_id,)).fetchone()[0]
            db.execute("INSERT INTO turns (conversation_id, position, question, answer, error, described, seconds, "
                       "asked_at, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (conversation_id, position, turn.question, answer, turn.error, turn.described, turn.seconds,
                        turn.asked_at, turn.context))
            title = row["title"]
            if position == 0 and title == "New conversation":
                title = _title(turn.question)
            db.execute("UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?", (now(), title, conversation_id))
        turn.position = position
        return position

    def turns(self, conversation_id: str, last: int | None = None) -> list[StoredTurn]:
        """The turns in order; with `last`, only the last ones (read through the index, whatever the length)."""
        query = "SELECT * FROM turns WHERE conversation_id = ? ORDER BY position DESC"
        arguments: tuple = (conversation_id,)
        if last is not None:
            query += " LIMIT ?"
            arguments += (last,)
        with self._connect() as db:
            rows = db.execute(query, arguments).fetchall()
        return [_turn(row) for row in reversed(rows)]

    # feedback ------------------------------------------------------------------------------------------
    def add_feedback(self, question: str, answer_given: str, comment: str, cited_units: list[str], asked_at: str,
                     conversation_id: str = "", position: int | None = None) -> int:
        if not comment.strip():
            raise AssistantError("Say what is wrong or missing, in a few words.")
        with self._write() as db:
            cursor = db.execute("INSERT INTO feedback (conversation_id, position, question, answer_given, comment, "
                                "cited_units, asked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (conversation_id, position, question, answer_given, comment.strip(),
                                 json.dumps(list(cited_units)), asked_at, now()))
            return int(cursor.lastrowid or 0)

    def feedback(self) -> list[dict[str, Any]]:
        """Every piece of feedback, oldest first, as candidate gold items (exactly FEEDBACK_FIELDS)."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        return [{"question": r["question"], "answer_given": r["answer_given"], "comment": r["comment"],
                 "cited_units": json.loads(r["cited_units"]), "asked_at": r["asked_at"],
                 "conversation_id": r["conversation_id"]} for r in rows]

    def feedback_jsonl(self) -> str:
        """The feedback as JSON Lines, for `assistant gold add --from-feedback FILE`."""
        return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in self.feedback())


def _title(text: str) -> str:
    title = " ".join(str(text).split())
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1].rstrip() + "…"


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(row["id"], row["title"], row["created_at"], row["updated_at"], int(row["turns"]))


def _turn(row: sqlite3.Row) -> StoredTurn:
    answer = answer_of_record(json.loads(row["answer"])) if row["answer"] else None
    return StoredTurn(row["question"], answer, row["error"], row["described"], float(row["seconds"]), row["asked_at"],
                      row["context"], int(row["position"]))


__all__ = ["FEEDBACK_FIELDS", "Conversation", "ConversationStore", "StoredTurn", "answer_of_record",
           "record_of_answer"]
