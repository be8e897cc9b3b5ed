"""What every view of the app shares: the engine (once per process), the rebuild, the conversation store.

The engine is loaded once per process and shared by all sessions; a rebuild clears that
cache so every session moves to the new index. The conversation store is one SQLite file
(assistant/conversations.py), also shared; each write is its own transaction.
"""

from __future__ import annotations

import logging
import threading

import streamlit as st

from assistant import present as ui
from assistant.conversations import ConversationStore
from assistant.engine import Engine, load_engine
from assistant.errors import AssistantError, StaleIndexError
from assistant.index import build_index, current_generation
from assistant.ingest import Glossary, load_glossary
from assistant.settings import Settings

log = logging.getLogger("assistant.app")

UNEXPECTED = "Something went wrong on our side; the details are in the server log."


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def get_engine(key: str, _settings: Settings) -> Engine:
    """`key` names the corpus, index and model, so other settings get their own engine."""
    return load_engine(_settings)


@st.cache_resource
def build_lock() -> threading.Lock:
    """One rebuild at a time per process: two at once would only waste the CPU."""
    return threading.Lock()


@st.cache_resource
def _store(path: str) -> ConversationStore:
    from pathlib import Path

    return ConversationStore(Path(path))


def conversation_store(settings: Settings) -> ConversationStore | None:
    """The conversation store, or None (with a warning shown once) when its folder cannot be written."""
    try:
        return _store(str(settings.data_dir))
    except AssistantError as exc:
        st.warning(ui.escape_markdown(str(exc)) + " Conversations are not kept.", icon=":material/warning:")
        return None


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
