"""The Documents view: the corpus with its metadata, and a reader that shows a document unit by unit."""

from __future__ import annotations

import streamlit as st

from assistant import present as ui
from assistant.engine import Engine
from assistant.errors import AssistantError
from assistant.ingest import human_date, load_documents
from assistant.records import Document, Unit
from assistant.settings import Settings
from assistant.vocabulary import DOCUMENT_KINDS

ASK, DOCUMENTS = "Ask", "Documents"


def show_view(view: str) -> None:
    st.session_state["view"] = view


def step_reader(unit_id: str) -> None:
    st.session_state["reader_unit"] = unit_id


def open_in_reader(doc_id: str, unit_id: str, sentences: tuple[str, ...]) -> None:
    """From the source panel to the whole document, at that unit, with its cited sentences still marked."""
    st.session_state["view"] = DOCUMENTS
    st.session_state["reader_doc"] = doc_id
    st.session_state["reader_unit"] = unit_id
    st.session_state["reader_highlight"] = (unit_id, sentences)
    st.session_state["reader_whole"] = False


def passage(unit: Unit, sentences: tuple[str, ...] | list[str] = ()) -> None:
    """A unit's text, its field labels bold and the cited sentences highlighted."""
    with st.container(border=True):
        st.markdown(ui.passage_markdown(unit.text, sentences, title_line=unit.kind in ("action", "annex_item")))
    _, missing = ui.highlight_spans(unit.text, sentences)
    if missing:
        st.caption("Cited but not found verbatim in this passage: " + ui.escape_inline(" / ".join(missing)))



def corpus_cards(documents: list[Document], unit_counts: dict[str, int]) -> None:
    for document in documents:
        with st.container(border=True):
            st.markdown(f"**{ui.escape_inline(document.title)}**")
            reference = document.reference if document.reference.strip("—- ") else "no reference"
            facts = [document.issuing_body, reference, human_date(document.date),
                     DOCUMENT_KINDS.get(document.kind, document.kind)]
            if document.id in unit_counts:
                facts.append(f"{unit_counts[document.id]} passages")
            st.caption(ui.escape_inline(" · ".join(facts)))
            missing = ui.missing_actions_label(document)
            notes = (f":orange-badge[{ui.escape_inline(missing)}] " if missing else "") + ui.escape_inline(document.notes)
            if notes.strip():
                st.markdown(notes)


def render_documents(engine: Engine | None, problem: str, settings: Settings) -> None:
    try:
        documents = engine.index.documents if engine is not None else load_documents(settings.corpus_dir)
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)))
        return
    counts = engine.index.units_per_document() if engine is not None else {}
    st.markdown(f"#### :material/folder_open: Corpus: {len(documents)} documents")
    corpus_cards(documents, counts)
    st.markdown("#### :material/chrome_reader_mode: Read")
    if engine is None:
        st.caption(ui.escape_markdown(problem) + " The reader needs the index.")
        return
    reader(engine, {d.id: d for d in documents})


def reader(engine: Engine, documents: dict[str, Document]) -> None:
    """A document unit by unit, so a cited passage can be read with what comes before and after."""
    doc_ids = list(documents)
    if not doc_ids:
        st.caption("The corpus is empty.")
        return
    if st.session_state.get("reader_doc") not in doc_ids:
        st.session_state["reader_doc"] = doc_ids[0]
    doc_id = st.selectbox("Document", doc_ids, key="reader_doc",
                          format_func=lambda i: f"{DOCUMENT_KINDS.get(documents[i].kind, '')}, "
                                                f"{human_date(documents[i].date)}: {documents[i].title}")
    units = engine.document_units(doc_id)
    if not units:
        st.caption("This document has no passages in the index.")
        return
    by_id = {u.unit_id: u for u in units}
    unit_ids = list(by_id)
    if st.session_state.get("reader_unit") not in by_id:
        st.session_state["reader_unit"] = unit_ids[0]
    position = unit_ids.index(st.session_state["reader_unit"])
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button("Previous", icon=":material/arrow_back:", key="reader_prev", disabled=position == 0,
                  on_click=step_reader, args=(unit_ids[max(position - 1, 0)],))
        current_id = st.selectbox(
            "Passage", unit_ids, key="reader_unit", width="stretch",
            format_func=lambda u: f"{by_id[u].locator}: {by_id[u].title[:90]} ({ui.pages_label(by_id[u])})")
        st.button("Next", icon=":material/arrow_forward:", key="reader_next", disabled=position == len(unit_ids) - 1,
                  on_click=step_reader, args=(unit_ids[min(position + 1, len(unit_ids) - 1)],))
    marked_id, marked = st.session_state.get("reader_highlight", ("", ()))
    with st.container(horizontal=True, vertical_alignment="center"):
        whole = st.toggle("Show the whole document", key="reader_whole")
        if marked_id in by_id:
            st.caption(f":orange-background[**highlighted**]: the sentences an answer quoted from "
                       f"{ui.escape_inline(by_id[marked_id].locator)}", width="stretch")
            st.button("Back to the conversation", key="reader_back", icon=":material/forum:", type="tertiary",
                      on_click=show_view, args=(ASK,))
    for unit in (units if whole else [by_id[current_id]]):
        current = unit.unit_id == current_id
        heading = " · ".join(part for part in (unit.locator, ui.pages_label(unit), ui.section_label(unit)) if part)
        st.markdown(("**" if current else "") + ui.escape_inline(heading) + ("**" if current else ""))
        passage(unit, marked if unit.unit_id == marked_id else ())


