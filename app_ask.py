"""The Ask view: the home page, the conversation, and the source panel beside it.

Each answer is shown in the order the answering code gives it (the direct answer first, older
documents under "Earlier, ..."), a Status line set apart; its [n] markers preview their
quoted sentence and open the source panel. Above it: what was searched (and a way to search the
question as typed) and how the question was read ("Looking for: a date · about: Action 11"). Under
it: the sources, suggested follow-ups drawn from the cited units,
and a way to say the answer is wrong or missing something. Only the recent turns are drawn in
full; earlier ones are drawn as text, and only when asked for.
"""

from __future__ import annotations

import functools
import time

import streamlit as st

import app_components
import app_conversation as conv
import app_sources
from app_state import rebuild_index
from assistant import present as ui
from assistant.answering.conversation import suggest_followups
from assistant.conversations import ConversationStore, StoredTurn
from assistant.engine import Engine
from assistant.errors import AssistantError
from assistant.ingest import human_date
from assistant.present.preview import answer_view
from assistant.records import Document
from assistant.search import Query
from assistant.settings import Settings

EXAMPLES = (
    "What is the status of returns cooperation with Bulgaria?",
    "Who leads the action on the Talent Partnership with Pakistan?",
    "What did the 2023 letter say about Tunisia?",
)


def describe(choices: Query, settings: Settings, documents: dict[str, Document]) -> str:
    passages = choices.passages if choices.passages is not None else settings.answer.passages
    return ui.describe_search(choices, passages, choices.mode or settings.retrieval.mode, documents)


def ask_later(question: str, literal: bool = False) -> None:
    st.session_state["pending_question"] = (question, literal)


# --- home ----------------------------------------------------------------------------------------------


def home(engine: Engine, documents: dict[str, Document]) -> None:
    """What can be asked: the documents indexed (title, date, passages) and three example questions."""
    st.markdown("Ask a question about the indexed EU migration documents. Answers quote the documents' own "
                "sentences, and every line cites the passage it comes from: point at a citation to read it, "
                "click it to open the passage beside the conversation. Follow-ups such as “and Greece?” or "
                "“who leads it?” are read against the questions before them.")
    counts = engine.index.units_per_document()
    st.markdown(f"**The documents ({len(documents)})**")
    with st.container(border=True, key="home-documents"):
        lines = [f"**{ui.escape_inline(d.title)}**  \n:gray[{ui.escape_inline(ui.document_kind_label(d.kind))} · "
                 f"{ui.escape_inline(human_date(d.date))} · {counts.get(d.id, 0)} passages]"
                 for d in sorted(documents.values(), key=lambda d: d.date or "", reverse=True)]
        st.markdown("\n\n".join(lines) if lines else "No documents are indexed yet.")
    st.markdown("**Try**")
    with st.container(horizontal=True, key="home-examples"):
        for number, question in enumerate(EXAMPLES):
            st.button(question, key=f"example-{number}", on_click=ask_later, args=(question,), icon=":material/chat:")


# --- one turn --------------------------------------------------------------------------------------------


def _open_marker(turn: StoredTurn, key: str) -> None:
    n = app_components.opened(key)
    citation = next((c for c in turn.answer.citations if c.n == n), None) if turn.answer else None
    if citation is not None:
        app_sources.open_source(citation.unit, tuple(citation.sentences), citation.n, key)


def _feedback(store: ConversationStore, turn: StoredTurn, key: str) -> None:
    comment = st.session_state.get(key, "")
    answer = turn.answer
    try:
        store.add_feedback(turn.question, answer.answer if answer else turn.error, comment,
                           [c.unit.unit_id for c in answer.citations] if answer else [], turn.asked_at,
                           conv.current_id(), turn.position)
    except AssistantError as exc:
        st.session_state["feedback_message"] = (turn.position, str(exc))
        return
    st.session_state[key] = ""
    st.session_state["feedback_message"] = (turn.position, "Thank you: kept on this machine with the question and "
                                                           "the answer, for the gold set.")


def render_turn(turn: StoredTurn, documents: dict[str, Document], store: ConversationStore | None, latest: bool) -> None:
    key = f"{conv.current_id() or 'new'}-{turn.position}"
    with st.chat_message("user"):
        st.markdown(ui.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        answer = turn.answer
        if answer is None:
            st.warning(ui.escape_markdown(turn.error), icon=":material/info:")
            return
        if answer.followup.get("changed"):
            with st.container(horizontal=True, vertical_alignment="center", key=f"searched-{key}"):
                st.caption(":material/manage_search: Searched: " + ui.escape_inline(answer.searched), width="stretch")
                st.button("Search it as typed", key=f"literal-{key}", type="tertiary", icon=":material/undo:",
                          on_click=ask_later, args=(turn.question, True),
                          help="Search the question exactly as typed, without the earlier turns.")
        elif answer.searched and answer.searched != answer.question:
            st.caption(":material/manage_search: Searched: " + ui.escape_inline(answer.searched))
        if answer.analysis.get("looking_for"):  # how the question was read: "a date · about: Action 11"
            st.caption(":material/search: Looking for: " + ui.escape_inline(answer.analysis["looking_for"]))
        view_key = f"answer-{key}"
        app_components.answer_view(answer_view(answer, documents), view_key,
                                   functools.partial(_open_marker, turn, view_key))
        for note in answer.notes:
            st.info(ui.escape_markdown(note), icon=":material/info:")
        if answer.citations:
            with st.container(horizontal=True, key=f"sources-{key}", gap="small"):
                for citation in answer.citations:
                    st.button(f"{citation.n} · " + ui.escape_inline(ui.source_label(citation.unit, documents)),
                              key=f"source-{key}-{citation.n}", type="tertiary", icon=":material/article:",
                              on_click=app_sources.open_source,
                              args=(citation.unit, tuple(citation.sentences), citation.n, view_key))
        elif answer.hits:
            st.markdown("**Possibly related passages** :gray[· most similar first]")
            for hit in sorted(answer.hits, key=lambda h: -h.similarity):
                st.button(ui.escape_inline(f"{ui.source_label(hit.unit, documents)} · similarity {hit.similarity:.2f}"),
                          key=f"related-{key}-{hit.rank}", type="tertiary", icon=":material/article:",
                          on_click=app_sources.open_source, args=(hit.unit, (), None, view_key))
        written = " · written by the language model from the cited passages" if answer.mode == "generative" else ""
        with st.container(horizontal=True, vertical_alignment="center", key=f"footer-{key}"):
            st.caption(ui.escape_inline(f"{turn.described}{written} · {turn.seconds:.2f} s"), width="stretch")
            if store is not None:
                with st.popover("Wrong or missing?", icon=":material/flag:", type="tertiary", key=f"flag-{key}"):
                    st.caption("Say what is wrong or missing; the question, the answer and its sources are kept "
                               "on this machine as a candidate for the gold set.")
                    st.text_area("What is wrong or missing?", key=f"comment-{key}", height=90)
                    st.button("Keep this feedback", key=f"send-{key}", type="primary",
                              on_click=_feedback, args=(store, turn, f"comment-{key}"))
        message = st.session_state.get("feedback_message")
        if message and message[0] == turn.position:
            st.caption(ui.escape_inline(message[1]))
        if latest:
            suggestions = suggest_followups(answer)
            if suggestions:
                with st.container(horizontal=True, key=f"suggest-{key}"):
                    for number, suggestion in enumerate(suggestions):
                        st.button(ui.escape_inline(suggestion), key=f"suggest-{key}-{number}", icon=":material/reply:",
                                  on_click=ask_later, args=(suggestion,))


def render_compact(turn: StoredTurn) -> None:
    """An earlier turn as text only: the question and the answer, no sources or controls."""
    with st.chat_message("user"):
        st.markdown(ui.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        if turn.answer is None:
            st.caption(ui.escape_inline(turn.error))
        else:
            st.markdown(ui.answer_markdown(turn.answer.answer))


# --- the view ------------------------------------------------------------------------------------------


def toolbar(engine: Engine, store: ConversationStore | None, choices: Query, documents: dict[str, Document]) -> None:
    manifest = engine.index.manifest
    note = f"Index built {manifest.built_at or '?'} with {manifest.model}."
    has_turns = bool(conv.turns())
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(":material/search: " + ui.escape_inline(describe(choices, engine.settings, documents)), width="stretch")
        st.download_button(
            "Export", data=functools.partial(conv.export_markdown, store, conv.current_id(), note, list(conv.turns())),
            mime="text/markdown",
            file_name=f"migration-assistant-{time.strftime('%Y%m%d-%H%M')}.md", icon=":material/download:",
            on_click="ignore", disabled=not has_turns, key="export",
            help="The whole conversation with its citations, as Markdown.")
        if store is not None:
            st.download_button(
                "Feedback", data=store.feedback_jsonl, mime="application/jsonl", file_name="feedback.jsonl",
                icon=":material/flag:", on_click="ignore", key="export-feedback",
                help="Every “wrong or missing” note, as JSON Lines of candidate gold items.")


def render_ask(engine: Engine | None, problem: str, settings: Settings, choices: Query, prompt: str | None,
               store: ConversationStore | None) -> None:
    if engine is None:
        st.warning(ui.escape_markdown(problem), icon=":material/warning:")
        if st.button("Build the index now", type="primary", icon=":material/build:", key="build-now"):
            if rebuild_index(settings):
                st.rerun()
        return
    documents = conv.documents_of(engine)
    pending = st.session_state.pop("pending_question", None)
    question, literal = (prompt, False) if prompt is not None else (pending if pending else (None, False))
    if question is not None:
        with st.spinner("Searching the documents…"):
            conv.ask(engine, store, question, choices, describe(choices, settings, documents), literal)
    toolbar(engine, store, choices, documents)
    if st.session_state.get("source"):
        chat, panel = st.columns([3, 2], gap="medium")
    else:
        chat, panel = st.container(), None
    with chat:
        recent = conv.turns()
        if not recent:
            home(engine, documents)
        earlier = recent[0].position if recent else 0
        if earlier > 0 and st.toggle(f"Show the {earlier} earlier question{'s' * (earlier != 1)}", key="show_earlier"):
            for turn in conv.earlier_turns(store):
                render_compact(turn)
            st.divider()
        for turn in recent:
            render_turn(turn, documents, store, latest=turn is recent[-1])
    if panel is not None:
        with panel:
            app_sources.source_panel(engine, settings, documents)
