"""The source panel beside the chat: the cited unit, scrolled to its highlighted sentences, with its neighbours.

A citation marker, a source button or a "possibly related" passage opens it; it shows where
the unit is (document, reference, date, locator, pages, section), its fields, its text with the
quoted sentences highlighted (scrolled into view), the previous and next units of the document,
and for a PDF the page itself with the sentences highlighted.
"""

from __future__ import annotations

import hashlib
import time

import streamlit as st

import app_components
from app_documents import open_in_reader
from assistant import present as ui
from assistant.engine import Engine
from assistant.ingest import document_path
from assistant.present.pages import is_pdf, page_image
from assistant.present.preview import passage_view, unit_facts
from assistant.records import Document, Unit
from assistant.settings import Settings

_ORDER: dict[tuple[int, str], list[str]] = {}


def open_source(unit: Unit, sentences: tuple[str, ...] | list[str] = (), n: int | None = None,
                origin: str = "") -> None:
    """Show `unit` in the panel, its `sentences` highlighted; `n` is the citation it came from."""
    st.session_state["source"] = {"unit": unit, "sentences": tuple(sentences), "n": n, "origin": origin,
                                  "opened": f"{unit.unit_id}@{time.monotonic():.6f}"}


def close_source() -> None:
    st.session_state["source"] = None


def _neighbours(engine: Engine, unit: Unit) -> tuple[Unit | None, Unit | None]:
    key = (id(engine.index), unit.doc_id)
    order = _ORDER.get(key)
    if order is None:
        order = [u.unit_id for u in engine.document_units(unit.doc_id)]
        _ORDER[key] = order
    if unit.unit_id not in order:
        return None, None
    position = order.index(unit.unit_id)
    before = engine.index.units.get(order[position - 1]) if position > 0 else None
    after = engine.index.units.get(order[position + 1]) if position + 1 < len(order) else None
    return before, after


def _step(unit: Unit, origin: str) -> None:
    open_source(unit, (), None, origin)


def source_panel(engine: Engine, settings: Settings, documents: dict[str, Document]) -> None:
    source = st.session_state.get("source")
    if not source:
        return
    stored: Unit = source["unit"]
    unit = engine.index.units.get(stored.unit_id, stored)  # the served unit; the stored one if it has gone
    sentences = tuple(source.get("sentences", ()))
    reveal = str(source.get("opened", ""))
    with st.container(border=True, key="source-panel"):
        with st.container(horizontal=True, vertical_alignment="center", wrap=False):
            badge = f":blue-badge[{source['n']}] " if source.get("n") else ""
            st.markdown(f"{badge}**{ui.escape_inline(unit.locator)}** · "
                        f"{ui.escape_inline(ui.document_label(unit, documents))}", width="stretch")
            st.button("", icon=":material/close:", key="source-close", on_click=close_source, type="tertiary",
                      help="Close the source panel")
        st.caption(ui.escape_inline(" · ".join(unit_facts(unit))))
        if unit.kind == "action":
            status = unit.fields.get("status", "") or "not stated"
            actors = unit.fields.get("lead_actors", "") or "not stated"
            st.markdown(f":{ui.status_color(status)}-badge[Status: {ui.escape_inline(status)}] "
                        f":gray-badge[Lead: {ui.escape_inline(actors)}]")
        if sentences:
            st.caption(":orange-background[highlighted]: the sentences the answer quotes")
        digest = hashlib.sha1("\n".join(sentences).encode()).hexdigest()[:8]
        data = passage_view(unit, sentences)
        app_components.passage_view(data, key=f"passage-{unit.unit_id}-{digest}", height=380, reveal=reveal)
        if data["missing"]:
            st.caption("Cited but not found verbatim in this passage: " + ui.escape_inline(" / ".join(data["missing"])))
        before, after = _neighbours(engine, unit)
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button(ui.escape_inline(before.locator) if before else "Previous", icon=":material/arrow_back:",
                      key="source-previous", disabled=before is None, on_click=_step,
                      args=(before, source.get("origin", "")) if before else None, help="The unit before this one.")
            st.button(ui.escape_inline(after.locator) if after else "Next", icon=":material/arrow_forward:",
                      icon_position="right", key="source-next", disabled=after is None, on_click=_step,
                      args=(after, source.get("origin", "")) if after else None, help="The unit after this one.")
            st.button("Read in the document", icon=":material/menu_book:", key="source-reader", type="tertiary",
                      on_click=open_in_reader, args=(unit.doc_id, unit.unit_id, sentences),
                      help="The whole document in the Documents tab, at this unit.")
            with st.popover("Cite", icon=":material/format_quote:", type="tertiary"):
                st.caption("Reference to paste into a note")
                st.code(ui.reference_line(unit), language=None, wrap_lines=True)
        document = documents.get(unit.doc_id)
        path = document_path(settings.corpus_dir, document) if document is not None else None
        if path is not None and is_pdf(path):
            if st.toggle("Show the page", key=f"source-page-{unit.unit_id}", help="The PDF page, the sentences marked."):
                _page(path, unit, sentences)


@st.cache_data(show_spinner="Rendering the page…", max_entries=32)
def _rendered(path: str, mtime: float, first: int, last: int, sentences: tuple[str, ...]):
    from pathlib import Path

    return page_image(Path(path), range(first, last + 1), sentences)


def _page(path, unit: Unit, sentences: tuple[str, ...]) -> None:
    try:
        image = _rendered(str(path), path.stat().st_mtime, unit.page_start, unit.page_end, sentences)
    except Exception:  # a damaged file must not take the panel down
        image = None
    if image is None:
        st.caption("The page could not be rendered.")
        return
    note = f"Page {image.page} of {image.pages}"
    if sentences:
        note += (f"; {image.found} of {image.wanted} pieces of the quoted sentences found and marked"
                 if image.found else "; the quoted sentences were not found in the page's text layer")
    st.image(image.png, caption=note, width="stretch")
