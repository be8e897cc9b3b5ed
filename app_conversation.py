"""The conversation on the page: which one is open, its recent turns, and asking the next question.

The open conversation is named in the address (`?c=<id>`), so a reload, or a server restart,
reopens it from the store. Only the last RECENT turns are kept in the session and drawn in
full; earlier ones are read from the store when asked for. Asking a question costs the same at
turn 200 as at turn 1: the engine reads at most MAX_TURNS earlier turns, the store appends one
row, and old turns are never answered again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import streamlit as st

from assistant import present as ui
from assistant.answering.conversation import MAX_TURNS, context_turn
from assistant.conversations import ConversationStore, StoredTurn
from assistant.engine import Engine
from assistant.errors import AssistantError
from assistant.records import Document
from assistant.search import Query
from app_state import UNEXPECTED

log = logging.getLogger("assistant.app")

RECENT = 6  # turns drawn in full; earlier ones are one click away
PARAM = "c"


def current_id() -> str:
    return st.session_state.get("conversation_id", "")


def sync_with_address(store: ConversationStore | None) -> None:
    """Open the conversation the address names (after a reload or a restart), once per session and change."""
    wanted = st.query_params.get(PARAM, "")
    if store is None or wanted == current_id():
        return
    if wanted and store.get(wanted) is not None:
        open_conversation(store, wanted)
    else:
        if wanted:
            del st.query_params[PARAM]
        start_new()


def open_conversation(store: ConversationStore, conversation_id: str) -> None:
    conversation = store.get(conversation_id)
    if conversation is None:
        start_new()
        return
    st.session_state["conversation_id"] = conversation_id
    st.session_state["turns"] = store.turns(conversation_id, last=RECENT)
    st.session_state["turn_count"] = conversation.turns
    st.session_state["source"] = None
    st.session_state["show_earlier"] = False
    st.query_params[PARAM] = conversation_id


def start_new() -> None:
    st.session_state["conversation_id"] = ""
    st.session_state["turns"] = []
    st.session_state["turn_count"] = 0
    st.session_state["source"] = None
    if PARAM in st.query_params:
        del st.query_params[PARAM]


def turns() -> list[StoredTurn]:
    return st.session_state.setdefault("turns", [])


def earlier_turns(store: ConversationStore | None, limit: int = 50) -> list[StoredTurn]:
    """Turns before the recent ones, the latest `limit` of them (read from the store only when shown)."""
    recent = turns()
    if store is None or not current_id() or not recent:
        return []
    first = recent[0].position
    if first <= 0:
        return []
    return [t for t in store.turns(current_id(), last=min(limit, first) + len(recent)) if t.position < first]


def ask(engine: Engine, store: ConversationStore | None, question: str, choices: Query, described: str,
        literal: bool = False) -> StoredTurn:
    """Answer the question (read against the recent turns unless `literal`), store the turn, keep it on the page."""
    context = () if literal else tuple(t.context for t in turns()[-MAX_TURNS:] if t.context)
    started = time.perf_counter()
    try:
        answer = engine.ask(replace(choices, question=question, context=context))
        turn = StoredTurn(question, answer, described=described, seconds=time.perf_counter() - started,
                          context=context_turn(answer).to_context())
    except AssistantError as exc:
        turn = StoredTurn(question, error=str(exc), described=described)
    except Exception:
        log.exception("answering %r failed", question)
        turn = StoredTurn(question, error=UNEXPECTED, described=described)
    if store is not None:
        try:
            if not current_id():
                conversation = store.create()
                st.session_state["conversation_id"] = conversation.id
                st.query_params[PARAM] = conversation.id
            store.add_turn(current_id(), turn)
        except AssistantError as exc:
            st.warning(ui.escape_markdown(str(exc)), icon=":material/warning:")
    if turn.position < 0:
        turn.position = st.session_state.get("turn_count", 0)
    st.session_state["turn_count"] = turn.position + 1
    recent = turns()
    recent.append(turn)
    del recent[:-RECENT]
    return turn


def as_export_turns(stored: list[StoredTurn]) -> list[ui.Turn]:
    return [ui.Turn(t.question, t.answer, t.error, t.described, t.seconds, t.asked_at) for t in stored]


def export_markdown(store: ConversationStore | None, conversation_id: str, note: str,
                    fallback: list[StoredTurn] | None = None) -> str:
    """A stored conversation, every turn, as Markdown (read from the store when the button is pressed)."""
    stored = store.turns(conversation_id) if store is not None and conversation_id else list(fallback or [])
    return ui.conversation_markdown(as_export_turns(stored), note)


def documents_of(engine: Engine) -> dict[str, Document]:
    return {d.id: d for d in engine.index.documents}
