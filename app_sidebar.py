"""The sidebar: conversations (open, new, rename, delete), the search filters, the glossary."""

from __future__ import annotations

from datetime import date

import streamlit as st

import app_conversation as conv
from assistant import present as ui
from assistant.conversations import ConversationStore
from assistant.engine import Engine
from assistant.errors import AssistantError
from assistant.ingest import Glossary, human_date
from assistant.records import Document
from assistant.search import Filters, Query
from assistant.settings import Settings
from assistant.vocabulary import DOCUMENT_KINDS, MODES, UNIT_KINDS

LISTED = 30  # conversations listed in the sidebar, most recent first


def sidebar(engine: Engine | None, settings: Settings, glossary: Glossary | None,
            store: ConversationStore | None) -> Query:
    """Conversations, then filters, mode and passages (as a Query still without its question), then the glossary."""
    choices = Query("", mode=settings.retrieval.mode, passages=settings.answer.passages)
    with st.sidebar:
        conversations_panel(store)
        st.divider()
        if engine is None:
            st.markdown("### :material/filter_alt: Search")
            st.caption("Filters appear once the index is built.")
        else:
            choices = search_controls(engine, settings)
        st.divider()
        glossary_panel(glossary)
    return choices


# --- conversations ---------------------------------------------------------------------------------


def _open(store: ConversationStore, conversation_id: str) -> None:
    conv.open_conversation(store, conversation_id)


def _rename(store: ConversationStore, conversation_id: str) -> None:
    try:
        store.rename(conversation_id, st.session_state.get(f"rename-{conversation_id}", ""))
    except AssistantError as exc:
        st.session_state["sidebar_message"] = str(exc)


def _delete(store: ConversationStore, conversation_id: str) -> None:
    store.delete(conversation_id)
    if conversation_id == conv.current_id():
        conv.start_new()


def conversations_panel(store: ConversationStore | None) -> None:
    st.markdown("### :material/forum: Conversations")
    if store is None:
        st.caption("Conversations are not kept: the data folder cannot be written.")
        return
    st.button("New conversation", icon=":material/add_comment:", key="conversation-new", on_click=conv.start_new,
              width="stretch", disabled=not conv.current_id())
    message = st.session_state.pop("sidebar_message", "")
    if message:
        st.warning(ui.escape_markdown(message))
    listed = store.conversations(limit=LISTED)
    if not listed:
        st.caption("Your questions are kept here, so a reload or a restart loses nothing.")
        return
    current = conv.current_id()
    with st.container(height=min(44 * len(listed) + 8, 260), border=False, key="conversation-list"):
        for item in listed:
            st.button(ui.escape_inline(item.title), key=f"conversation-{item.id}", width="stretch",
                      type="primary" if item.id == current else "tertiary", on_click=_open, args=(store, item.id),
                      help=f"{item.turns} question{'s' * (item.turns != 1)} · last asked "
                           f"{ui.escape_inline(item.updated_at[:16].replace('T', ' '))} UTC")
    title = next((c.title for c in listed if c.id == current), "")
    if not current or not title:
        return
    with st.container(horizontal=True):
        with st.popover("Rename", icon=":material/edit:", key="conversation-rename"):
            st.text_input("Name", value=title, key=f"rename-{current}", max_chars=80)
            st.button("Save the name", key="conversation-rename-save", type="primary", on_click=_rename,
                      args=(store, current))
        with st.popover("Delete", icon=":material/delete:", key="conversation-delete"):
            st.caption("The conversation and its answers are removed from this machine; export it first to keep it.")
            st.button("Delete the conversation", key="conversation-delete-confirm", type="primary", on_click=_delete,
                      args=(store, current))


# --- filters -----------------------------------------------------------------------------------------


def _reset(defaults: dict[str, object]) -> None:
    """Every filter back to its default: documents, kinds, countries, sections, dates, mode and passages."""
    for key, value in defaults.items():
        st.session_state[key] = value


def keep_options(key: str, options: list) -> None:
    """Drop remembered selections that are no longer offered (after an upload or removal)."""
    if key in st.session_state and isinstance(st.session_state[key], list):
        kept = [value for value in st.session_state[key] if value in options]
        if kept != st.session_state[key]:
            st.session_state[key] = kept


def search_controls(engine: Engine, settings: Settings) -> Query:
    """The sidebar's filters, mode and number of passages, as a Query still without its question."""
    documents = {d.id: d for d in engine.index.documents}
    doc_ids = list(documents)
    present = set(engine.index.facet_values("kind"))  # from the index's filter table: no pass over the units
    kinds = [k for k in UNIT_KINDS if k in present]
    kinds += sorted(present - set(kinds))
    sections = sorted(s for s in engine.index.facet_values("section") if s)
    countries = engine.countries_named()
    for key, options in (("f_docs", doc_ids), ("f_kinds", kinds), ("f_sections", sections),
                         ("f_countries", countries)):
        keep_options(key, options)
    dates = document_dates(list(documents.values()))
    date_key = f"f_dates_{dates[0]}_{dates[1]}" if dates else ""
    defaults: dict[str, object] = {"f_docs": [], "f_kinds": [], "f_countries": [], "f_sections": [],
                                   "f_mode": settings.retrieval.mode, "f_passages": settings.answer.passages}
    if dates:
        defaults[date_key] = dates
    for key, value in defaults.items():  # the widgets read their values from here, so a reset can set them
        st.session_state.setdefault(key, value)
    # The reset sits above the filters: a multiselect that loses focus shrinks, and a button below it would move
    # away between the press and the release of a click.
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("### :material/filter_alt: Search", width="stretch")
        st.button("Reset filters", on_click=_reset, args=(defaults,), icon=":material/restart_alt:", type="tertiary",
                  key="reset-filters")

    picked_docs = st.multiselect(
        "Documents", doc_ids, key="f_docs", placeholder="All documents",
        format_func=lambda i: f"{DOCUMENT_KINDS.get(documents[i].kind, documents[i].kind)}, "
                              f"{human_date(documents[i].date)}: {documents[i].title[:80]}")
    picked_kinds = st.multiselect("Passage kinds", kinds, key="f_kinds", placeholder="All kinds",
                                  format_func=lambda k: UNIT_KINDS.get(k, k))
    picked_countries = st.multiselect("Countries named", countries, key="f_countries", placeholder="Any country",
                                      format_func=lambda c: ui.country_option_label(engine.glossary, c))
    picked_sections = st.multiselect("Sections", sections, key="f_sections", placeholder="All sections")
    date_from, date_to = date_controls(dates, date_key)
    mode = st.segmented_control(
        "Retrieval", list(MODES), key="f_mode", required=True, format_func=lambda m: MODES.get(m, m),
        help="Hybrid fuses meaning (embeddings) and keywords (BM25); it is the most reliable.")
    passages = st.slider("Passages to answer from", 1, 12, key="f_passages",
                         help="How many retrieved passages the answer may quote.")
    filters = Filters(tuple(picked_docs), tuple(picked_kinds), tuple(picked_sections), tuple(picked_countries),
                      date_from, date_to)
    return Query("", filters, mode or settings.retrieval.mode, int(passages))


def document_dates(documents: list[Document]) -> tuple[date, date] | None:
    dates = []
    for document in documents:
        try:
            dates.append(date.fromisoformat(document.date))
        except ValueError:
            continue
    return (min(dates), max(dates)) if dates else None


def date_controls(dates: tuple[date, date] | None, key: str) -> tuple[str, str]:
    """A date range over the documents' dates; the full range means no date filter."""
    if dates is None:
        return "", ""
    low, high = dates
    picked = st.date_input("Documents dated", min_value=low, max_value=high, key=key, format="YYYY-MM-DD")
    picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    date_from = picked[0].isoformat() if len(picked) > 0 and picked[0] and picked[0] > low else ""
    date_to = picked[1].isoformat() if len(picked) > 1 and picked[1] and picked[1] < high else ""
    return date_from, date_to


# --- glossary -----------------------------------------------------------------------------------------


def glossary_panel(glossary: Glossary | None) -> None:
    """The glossary as a list that reads in a narrow sidebar: term in bold, its meaning, its kind."""
    st.markdown("### :material/menu_book: Glossary")
    if glossary is None:
        st.caption("The glossary could not be read.")
        return
    rows = glossary.entries()
    query = st.text_input("Search the glossary", key="glossary_query", placeholder="BG, EURP, deportation…",
                          label_visibility="collapsed")
    shown = ui.filter_glossary(rows, query)
    lines = [f"**{ui.escape_inline(row['term'])}** — {ui.escape_inline(row['meaning'])} :gray[({ui.escape_inline(row['kind'])})]"
             for row in shown]
    with st.container(height=320, border=True, key="glossary-list"):
        st.markdown("  \n".join(lines) if lines else "No entry matches.")
    st.caption(f"{len(shown)} of {len(rows)} entries. Codes, names and user words in a question are "
               "added to its search automatically.")
