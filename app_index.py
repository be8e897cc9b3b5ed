"""The Index view: status, rebuild, and adding or removing documents (indexed without a restart)."""

from __future__ import annotations

import logging

import streamlit as st

from app_state import rebuild_index
from assistant import present as ui
from assistant.engine import Engine
from assistant.errors import AssistantError
from assistant.ingest import FORMATS_SENTENCE, MAX_FILE_BYTES, human_date, load_documents
from assistant.settings import Settings
from assistant.uploads import add_upload, remove_document
from assistant.vocabulary import DOCUMENT_KINDS

log = logging.getLogger("assistant.app")
LIMIT_MB = MAX_FILE_BYTES // (1024 * 1024)


def render_index(engine: Engine | None, settings: Settings) -> None:
    message = st.session_state.pop("index_message", "")
    if message:
        st.success(ui.escape_markdown(message), icon=":material/check_circle:")
    try:
        status = ui.cached_status(settings)
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)), icon=":material/error:")
        status = None
    except Exception:  # never a traceback or a server path on the page; the Rebuild button stays
        log.exception("reading the index status failed")
        st.error("The index status could not be read; rebuild the index, and if that fails too the details are in "
                 "the server log.", icon=":material/error:")
        status = None
    if status is not None:
        if status.fresh:
            st.success(ui.escape_markdown(status.reason), icon=":material/verified:")
        else:  # stale (served, with this notice), or damaged or foreign (refused until rebuilt)
            advice = "" if "rebuild" in status.reason.lower() else " Rebuild it to serve the current corpus."
            st.warning(ui.escape_markdown(status.reason) + advice, icon=":material/warning:")
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
        # No `type=` here: the browser would refuse other files silently; add_upload names the real cause
        # (size, type, encoding) in one sentence.
        file = st.file_uploader(f"Document ({FORMATS_SENTENCE}, up to {LIMIT_MB} MB)", key=f"upload_file_{round_}")
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
        st.error(f"Choose a {FORMATS_SENTENCE} file to add.", icon=":material/error:")
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
