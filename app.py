"""The browser app: ask the documents, then check every claim against its cited passage.

Start it with `make run` (or `streamlit run app.py`). Three tabs: Ask (the chat, with
sources under each answer), Documents (the corpus and a reader, unit by unit) and Index
(status, rebuild, uploads). The engine is loaded once per process and shared by all
sessions; a rebuild clears that cache so every session moves to the new index.

Safety: document text, titles and questions reach the page only as plain text or
through `assistant.present`'s escaping, which makes every Markdown and HTML
character literal. This file never passes `unsafe_allow_html`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import date

import streamlit as st

from assistant.offline import set_offline_flags

set_offline_flags()

from assistant import present as ui  # noqa: E402
from assistant.engine import Engine, load_engine  # noqa: E402
from assistant.errors import AssistantError, StaleIndexError  # noqa: E402
from assistant.index import build_index, current_generation  # noqa: E402
from assistant.ingest import Glossary, human_date, load_documents, load_glossary  # noqa: E402
from assistant.records import Document, Unit  # noqa: E402
from assistant.search import MAX_QUESTION_CHARS, Filters, Query  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.uploads import ALLOWED_SUFFIXES, add_upload, remove_document  # noqa: E402
from assistant.vocabulary import DOCUMENT_KINDS, MODES, UNIT_KINDS  # noqa: E402

log = logging.getLogger("assistant.app")

ASK, DOCUMENTS, INDEX = "Ask", "Documents", "Index"
EXAMPLES = (
    "What is the status of returns cooperation with Bulgaria?",
    "What is being done with Türkiye against migrant smuggling?",
    "What support goes to the Bulgaria–Türkiye border?",
    "What does the Commission letter say about Tunisia?",
)
FILTER_KEYS = ("f_docs", "f_kinds", "f_sections", "f_countries", "f_mode", "f_passages")
UNEXPECTED = "Something went wrong on our side; the details are in the server log."


# --- the engine, once per process -------------------------------------------------------


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def get_engine(key: str, _settings: Settings) -> Engine:
    """`key` names the corpus, index and model, so other settings get their own engine."""
    return load_engine(_settings)


@st.cache_resource
def build_lock() -> threading.Lock:
    """One rebuild at a time per process: two at once would only waste the CPU."""
    return threading.Lock()


def reload_engine() -> None:
    """Drop the cached engine (and glossary) so that the next run loads the index now served."""
    get_engine.clear()
    load_glossary.cache_clear()


def engine_key(settings: Settings) -> str:
    return "|".join((str(settings.corpus_dir), str(settings.index_dir), settings.model, settings.backend,
                     settings.llm.url, settings.store.name))


def load(settings: Settings) -> tuple[Engine | None, str]:
    """The engine, or None and one sentence saying why it cannot be loaded."""
    try:
        engine = get_engine(engine_key(settings), settings)
        if current_generation(settings.index_dir) not in (None, engine.index.generation):
            reload_engine()  # rebuilt by another process (`assistant index`): serve the new one
            engine = get_engine(engine_key(settings), settings)
        return engine, ""
    except StaleIndexError as exc:
        try:
            status = ui.cached_status(settings)
        except AssistantError:
            return None, str(exc)
        reason = str(exc) if status.fresh else status.reason
        return None, f"{reason} Build it to ask questions."
    except AssistantError as exc:
        return None, str(exc)
    except Exception:  # a broken install or index must not take the page down
        log.exception("loading the engine failed")
        return None, "The index could not be loaded; rebuild it from the Index tab."


def glossary_for(settings: Settings, engine: Engine | None) -> Glossary | None:
    if engine is not None:
        return engine.glossary
    try:
        return load_glossary(settings.corpus_dir)
    except Exception:
        return None


def rebuild_index(settings: Settings, done: str = "") -> bool:
    """Rebuild incrementally with a progress bar; on success reload the engine everywhere."""
    lock = build_lock()
    if not lock.acquire(blocking=False):
        st.warning("Another rebuild is running; try again when it has finished.")
        return False
    bar = st.progress(0.0, text="Starting the rebuild")
    try:
        report = build_index(
            settings.index_dir, settings.corpus_dir, settings.model, settings.backend,
            on_step=lambda message, fraction: bar.progress(min(max(float(fraction), 0.0), 1.0),
                                                       text=ui.escape_inline(message)),
        )
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)), icon=":material/error:")
        return False
    except Exception:
        log.exception("rebuilding the index failed")
        st.error("The index could not be rebuilt; the previous index is still served and the details are in "
                 "the server log.", icon=":material/error:")
        return False
    finally:
        lock.release()
    reload_engine()
    st.session_state["index_message"] = " ".join(part for part in (done, report.sentence()) if part)
    return True


# --- state and callbacks ----------------------------------------------------------------


def init_state() -> None:
    st.session_state.setdefault("turns", [])
    st.session_state.setdefault("upload_round", 0)


def ask_example(question: str) -> None:
    st.session_state["pending_question"] = question


def clear_conversation() -> None:
    st.session_state["turns"] = []


def reset_filters() -> None:
    for key in list(st.session_state):
        if key in FILTER_KEYS or str(key).startswith("f_dates"):
            del st.session_state[key]


def open_in_context(doc_id: str, unit_id: str, sentences: tuple[str, ...]) -> None:
    """From a citation to the Documents tab, at that unit, with its cited sentences still marked."""
    st.session_state["view"] = DOCUMENTS
    st.session_state["reader_doc"] = doc_id
    st.session_state["reader_unit"] = unit_id
    st.session_state["reader_highlight"] = (unit_id, sentences)
    st.session_state["reader_whole"] = False


def show_view(view: str) -> None:
    st.session_state["view"] = view


def step_reader(unit_id: str) -> None:
    st.session_state["reader_unit"] = unit_id


def keep_options(key: str, options: list) -> None:
    """Drop remembered selections that are no longer offered (after an upload or removal)."""
    if key in st.session_state and isinstance(st.session_state[key], list):
        st.session_state[key] = [value for value in st.session_state[key] if value in options]


# --- sidebar ------------------------------------------------------------------------------


def sidebar(engine: Engine | None, settings: Settings, glossary: Glossary | None) -> Query:
    """Filters, retrieval mode and passages; the searchable glossary."""
    choices = Query("", mode=settings.retrieval.mode, passages=settings.answer.passages)
    with st.sidebar:
        st.markdown("### :material/filter_alt: Search")
        if engine is None:
            st.caption("Filters appear once the index is built.")
        else:
            choices = search_controls(engine, settings)
        st.divider()
        glossary_panel(glossary)
    return choices


def search_controls(engine: Engine, settings: Settings) -> Query:
    """The sidebar's filters, mode and number of passages, as a Query still without its question."""
    documents = {d.id: d for d in engine.index.documents}
    units = list(engine.index.units.values())
    doc_ids = list(documents)
    kinds = [k for k in UNIT_KINDS if any(u.kind == k for u in units)]
    kinds += sorted({u.kind for u in units} - set(kinds))
    sections = sorted({u.section for u in units if u.section})
    countries = engine.countries_named()
    for key, options in (("f_docs", doc_ids), ("f_kinds", kinds), ("f_sections", sections),
                         ("f_countries", countries)):
        keep_options(key, options)

    picked_docs = st.multiselect(
        "Documents", doc_ids, key="f_docs", placeholder="All documents",
        format_func=lambda i: f"{DOCUMENT_KINDS.get(documents[i].kind, documents[i].kind)}, "
                              f"{human_date(documents[i].date)}: {documents[i].title[:80]}")
    picked_kinds = st.multiselect("Passage kinds", kinds, key="f_kinds", placeholder="All kinds",
                                  format_func=lambda k: UNIT_KINDS.get(k, k))
    picked_countries = st.multiselect("Countries named", countries, key="f_countries", placeholder="Any country",
                                      format_func=lambda c: ui.country_option_label(engine.glossary, c))
    picked_sections = st.multiselect("Sections", sections, key="f_sections", placeholder="All sections")
    date_from, date_to = date_controls(list(documents.values()))
    mode = st.segmented_control(
        "Retrieval", list(MODES), key="f_mode", required=True, default=settings.retrieval.mode,
        format_func=lambda m: MODES.get(m, m),
        help="Hybrid fuses meaning (embeddings) and keywords (BM25); it is the most reliable.")
    passages = st.slider("Passages to answer from", 1, 12, value=settings.answer.passages, key="f_passages",
                         help="How many retrieved passages the answer may quote.")
    st.button("Reset filters", on_click=reset_filters, icon=":material/restart_alt:", type="tertiary")
    filters = Filters(tuple(picked_docs), tuple(picked_kinds), tuple(picked_sections), tuple(picked_countries),
                      date_from, date_to)
    return Query("", filters, mode or settings.retrieval.mode, int(passages))


def date_controls(documents: list[Document]) -> tuple[str, str]:
    """A date range over the documents' dates; the full range means no date filter."""
    dates = []
    for document in documents:
        try:
            dates.append(date.fromisoformat(document.date))
        except ValueError:
            continue
    if not dates:
        return "", ""
    low, high = min(dates), max(dates)
    picked = st.date_input("Documents dated", value=(low, high), min_value=low, max_value=high,
                           key=f"f_dates_{low}_{high}", format="YYYY-MM-DD")
    picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    date_from = picked[0].isoformat() if len(picked) > 0 and picked[0] and picked[0] > low else ""
    date_to = picked[1].isoformat() if len(picked) > 1 and picked[1] and picked[1] < high else ""
    return date_from, date_to


def glossary_panel(glossary: Glossary | None) -> None:
    st.markdown("### :material/menu_book: Glossary")
    if glossary is None:
        st.caption("The glossary could not be read.")
        return
    rows = glossary.entries()
    query = st.text_input("Search the glossary", key="glossary_query", placeholder="BG, EURP, deportation…",
                          label_visibility="collapsed")
    shown = ui.filter_glossary(rows, query)
    if query.strip() and len(shown) <= 6:
        for row in shown:  # a few matches read better in full than in a narrow table
            st.markdown(f"**{ui.escape_inline(row['term'])}**: {ui.escape_inline(row['meaning'])}")
            st.caption(ui.escape_inline(f"{row['kind']} · {row['source']}"))
    else:
        st.dataframe([{"Term": r["term"], "Meaning": r["meaning"], "Kind": r["kind"]} for r in shown],
                     hide_index=True, height=320, key="glossary_table",
                     column_config={"Term": st.column_config.TextColumn(width="small"),
                                    "Meaning": st.column_config.TextColumn(width="large")})
    st.caption(f"{len(shown)} of {len(rows)} entries. Codes, names and user words in a question are "
               "added to its search automatically.")


# --- rendering passages --------------------------------------------------------------------


def passage(unit: Unit, sentences: tuple[str, ...] | list[str] = ()) -> None:
    """A unit's text, its field labels bold and the cited sentences highlighted."""
    with st.container(border=True):
        st.markdown(ui.passage_markdown(unit.text, sentences, title_line=unit.kind in ("action", "annex_item")))
    _, missing = ui.highlight_spans(unit.text, sentences)
    if missing:
        st.caption("Cited but not found verbatim in this passage: " + ui.escape_inline(" / ".join(missing)))


def source_card(unit: Unit, sentences: tuple[str, ...], key: str) -> None:
    """Everything needed to check a claim: where it is, the passage, a way to read around it."""
    meta = [unit.doc_title]
    if unit.doc_reference.strip("—- "):
        meta.append(unit.doc_reference)
    meta += [human_date(unit.doc_date), unit.locator, ui.pages_label(unit)]
    if ui.section_label(unit):
        meta.append(ui.section_label(unit))
    st.caption(ui.escape_inline(" · ".join(meta)))
    if unit.kind == "action":
        status = unit.fields.get("status", "") or "not stated"
        actors = unit.fields.get("lead_actors", "") or "not stated"
        st.markdown(f":{ui.status_color(status)}-badge[Status: {ui.escape_inline(status)}] "
                    f":gray-badge[Lead: {ui.escape_inline(actors)}]")
    passage(unit, sentences)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Open in context", key=f"context-{key}", icon=":material/menu_book:", type="tertiary",
                  on_click=open_in_context, args=(unit.doc_id, unit.unit_id, tuple(sentences)))
        with st.popover("Cite", icon=":material/format_quote:", type="tertiary"):
            st.caption("Reference to paste into a note")
            st.code(ui.reference_line(unit), language=None, wrap_lines=True)


# --- Ask -------------------------------------------------------------------------------------


def describe(choices: Query, settings: Settings, documents: dict[str, Document]) -> str:
    passages = choices.passages if choices.passages is not None else settings.answer.passages
    return ui.describe_search(choices, passages, choices.mode or settings.retrieval.mode, documents)


def run_question(engine: Engine, question: str, choices: Query, documents: dict[str, Document]) -> ui.Turn:
    searched = describe(choices, engine.settings, documents)
    started = time.perf_counter()
    try:
        answer = engine.ask(replace(choices, question=question))
    except AssistantError as exc:
        return ui.Turn(question, error=str(exc), searched=searched)
    except Exception:
        log.exception("answering %r failed", question)
        return ui.Turn(question, error=UNEXPECTED, searched=searched)
    return ui.Turn(question, answer, searched=searched, seconds=time.perf_counter() - started)


def render_turn(position: int, turn: ui.Turn, documents: dict[str, Document]) -> None:
    if turn.question.strip():
        with st.chat_message("user"):
            st.markdown(ui.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        answer = turn.answer
        if answer is None:
            st.warning(ui.escape_markdown(turn.error), icon=":material/info:")
            return
        st.markdown(ui.answer_markdown(answer.answer))
        for note in answer.notes:
            st.info(ui.escape_markdown(note), icon=":material/info:")
        written = " · written by the language model from the cited passages" if answer.mode == "generative" else ""
        st.caption(ui.escape_inline(f"{turn.searched}{written} · {turn.seconds:.2f} s"))
        if answer.citations:
            st.markdown("**Sources** :gray[· the highlighted sentences are the ones the answer quotes]")
            for citation in answer.citations:
                label = f":blue-badge[{citation.n}] " + ui.escape_inline(ui.source_label(citation.unit, documents))
                with st.expander(label):
                    source_card(citation.unit, tuple(citation.sentences), f"{position}-{citation.n}")
        elif answer.hits:
            st.markdown("**Possibly related passages**")
            for hit in answer.hits:
                label = ui.escape_inline(f"{ui.source_label(hit.unit, documents)} · similarity {hit.similarity:.2f}")
                with st.expander(label):
                    source_card(hit.unit, (), f"{position}-related-{hit.rank}")


def ask_toolbar(engine: Engine, turns: list[ui.Turn], choices: Query,
                documents: dict[str, Document]) -> None:
    manifest = engine.index.manifest
    note = f"Index built {manifest.built_at or '?'} with {manifest.model}."
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(":material/search: " + ui.escape_inline(describe(choices, engine.settings, documents)), width="stretch")
        st.download_button(
            "Export", data=ui.conversation_markdown(turns, note), mime="text/markdown",
            file_name=f"migration-assistant-{time.strftime('%Y%m%d-%H%M')}.md", icon=":material/download:",
            on_click="ignore", disabled=not turns, key="export", help="The conversation with its citations, as Markdown.")
        with st.popover("Clear", icon=":material/delete_sweep:", disabled=not turns, key="clear-menu",
                        help="Start a new conversation."):
            st.caption("The questions and answers on this page are removed; export them first to keep them.")
            st.button("Clear the conversation", on_click=clear_conversation, key="clear", type="primary")


def welcome() -> None:
    st.markdown("Ask a question about the indexed EU migration documents. Answers quote the documents' own "
                "sentences, and every line cites the passage it comes from: open a source to check it.")
    with st.container(horizontal=True):
        for number, question in enumerate(EXAMPLES):
            st.button(question, key=f"example-{number}", on_click=ask_example, args=(question,),
                      icon=":material/chat:")


def render_ask(engine: Engine | None, problem: str, settings: Settings, choices: Query,
               prompt: str | None) -> None:
    if engine is None:
        st.warning(ui.escape_markdown(problem), icon=":material/warning:")
        if st.button("Build the index now", type="primary", icon=":material/build:", key="build-now"):
            if rebuild_index(settings):
                st.rerun()
        return
    turns: list[ui.Turn] = st.session_state["turns"]
    documents = {d.id: d for d in engine.index.documents}
    question = prompt if prompt is not None else st.session_state.pop("pending_question", None)
    if question is not None:
        with st.spinner("Searching the documents…"):
            turns.append(run_question(engine, question, choices, documents))
    ask_toolbar(engine, turns, choices, documents)
    if not turns:
        welcome()
    for position, turn in enumerate(turns):
        render_turn(position, turn, documents)


# --- Documents -----------------------------------------------------------------------------


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
    counts: dict[str, int] = {}
    if engine is not None:
        for unit in engine.index.units.values():
            counts[unit.doc_id] = counts.get(unit.doc_id, 0) + 1
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


# --- Index ------------------------------------------------------------------------------------


def render_index(engine: Engine | None, settings: Settings) -> None:
    message = st.session_state.pop("index_message", "")
    if message:
        st.success(ui.escape_markdown(message), icon=":material/check_circle:")
    try:
        status = ui.cached_status(settings)
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)))
        status = None
    if status is not None:
        if status.fresh:
            st.success(ui.escape_markdown(status.reason), icon=":material/verified:")
        else:
            st.warning(ui.escape_markdown(status.reason) + " Rebuild it to serve the current corpus.",
                       icon=":material/warning:")
        manifest = status.manifest
        with st.container(horizontal=True):
            st.metric("Documents", len(manifest.documents) if manifest else 0, border=True)
            st.metric("Passages", manifest.units if manifest else 0, border=True)
            st.metric("Chunks", manifest.chunks if manifest else 0, border=True)
            st.metric("Built", ui.built_label(manifest.built_at if manifest else ""), border=True,
                      help=f"Built at {(manifest.built_at if manifest else '') or 'an unknown time'}.")
        if manifest:
            vector = manifest.vector_index
            st.caption(ui.escape_inline(
                f"Model {manifest.model} ({manifest.dimension} dimensions) on {manifest.backend} · vector index "
                f"{vector.get('kind', '?')} ({vector.get('metric', '?')}) · chunker "
                f"{manifest.chunker.get('version', '?')} · built at {manifest.built_at or '?'}"))
    if st.button("Rebuild index", icon=":material/refresh:", key="rebuild",
                 type="secondary" if status is not None and status.fresh else "primary",
                 help="Only new or changed passages are embedded again."):
        if rebuild_index(settings):
            st.rerun()
    st.divider()
    upload_form(settings)
    uploaded_documents(settings)


def upload_form(settings: Settings) -> None:
    st.markdown("#### :material/upload_file: Add a document")
    round_ = st.session_state["upload_round"]
    with st.form("upload", border=True, enter_to_submit=False):
        file = st.file_uploader("Document (PDF, Word, HTML, Markdown or text, up to 20 MB)",
                                type=[suffix.lstrip(".") for suffix in ALLOWED_SUFFIXES], key=f"upload_file_{round_}")
        left, right = st.columns(2)
        title = left.text_input("Title", key=f"upload_title_{round_}", placeholder="From the document if empty")
        kind = right.selectbox("Kind", ["", *DOCUMENT_KINDS], key=f"upload_kind_{round_}",
                               format_func=lambda k: DOCUMENT_KINDS.get(k, "Told from its structure"))
        doc_date = left.date_input("Document date", value=None, key=f"upload_date_{round_}", format="YYYY-MM-DD",
                                   help="Leave empty to read it from the document (undated if it gives none).")
        reference = right.text_input("Reference", key=f"upload_reference_{round_}", placeholder="e.g. WK 10190/2024 INIT")
        body = st.text_input("Issuing body", key=f"upload_body_{round_}", placeholder="e.g. Council of the European Union")
        submitted = st.form_submit_button("Add and index", type="primary", icon=":material/add:")
    if not submitted:
        return
    if file is None:
        st.error("Choose a PDF, Word, HTML, Markdown or text file to add.", icon=":material/error:")
        return
    try:
        added = add_upload(settings.corpus_dir, file.getvalue(), file.name, title=title.strip() or None, kind=kind,
                           doc_date=doc_date.isoformat() if doc_date else "", reference=reference.strip(),
                           issuing_body=body.strip())
        document = added.document
        for warning in added.warnings:
            st.warning(ui.escape_markdown(warning), icon=":material/warning:")
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)), icon=":material/error:")
        return
    except Exception:
        log.exception("adding %r failed", file.name)
        st.error("The document could not be added; nothing was changed and the details are in the server log.",
                 icon=":material/error:")
        return
    if rebuild_index(settings, done=f"Added “{document.title}”."):
        st.session_state["upload_round"] = round_ + 1
        st.rerun()
    else:
        st.info("The document was added to the corpus; rebuild the index to make it searchable.")


def uploaded_documents(settings: Settings) -> None:
    try:
        uploads = [d for d in load_documents(settings.corpus_dir) if d.id.startswith(ui.UPLOAD_PREFIX)]
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)))
        return
    if not uploads:
        return
    st.markdown("#### Added documents")
    for document in uploads:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{ui.escape_inline(document.title)}** · " +
                        ui.escape_inline(f"{human_date(document.date)} · {document.notes}"), width="stretch")
            with st.popover("Remove", icon=":material/delete:", key=f"remove-{document.id}"):
                st.caption("The document is taken out of the corpus and the index is rebuilt.")
                if st.button("Remove it", key=f"remove-confirm-{document.id}", type="primary"):
                    try:
                        remove_document(settings.corpus_dir, document.id)
                    except AssistantError as exc:
                        st.error(ui.escape_markdown(str(exc)))
                        return
                    if rebuild_index(settings, done=f"Removed “{document.title}”."):
                        st.rerun()


# --- page ----------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="EU migration policy assistant", page_icon=":material/balance:", layout="wide")
    init_state()
    settings = load_settings()
    engine, problem = load(settings)
    choices = sidebar(engine, settings, glossary_for(settings, engine))
    st.markdown("## EU migration policy assistant")
    st.caption("Offline answers from the indexed documents only; every line cites its source passage.")
    ask_tab, documents_tab, index_tab = st.tabs([ASK, DOCUMENTS, INDEX], key="view", on_change="rerun")
    prompt = None
    if ask_tab.open:
        prompt = st.chat_input("Ask about the documents…" if engine else "Build the index to ask questions",
                               key="question", max_chars=MAX_QUESTION_CHARS, disabled=engine is None)
    if ask_tab.open:
        with ask_tab:
            render_ask(engine, problem, settings, choices, prompt)
    if documents_tab.open:
        with documents_tab:
            render_documents(engine, problem, settings)
    if index_tab.open:
        with index_tab:
            render_index(engine, settings)


main()
