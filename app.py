"""The browser app: ask the documents, then check every claim against its cited passage.

Start it with `make run` (or `streamlit run app.py`). Three tabs: Ask (the conversation,
with the source panel beside it), Documents (the corpus and a reader, unit by unit) and Index
(status, rebuild, uploads) and Evaluation. Each view lives in its own module beside this file:

    app_state.py         the engine (once per process), rebuilds, the conversation store
    app_conversation.py  the open conversation: its turns, asking, export
    app_sidebar.py       conversations, filters, glossary
    app_ask.py           the Ask view: home page, answers, sources, feedback
    app_sources.py       the source panel
    app_components.py    the two small browser components (citation previews, passage scrolling)
    app_documents.py     the Documents view
    app_index.py         the Index view and the upload form
    app_evaluation.py    the Evaluation view (saved evaluation runs)

Safety: document text, titles and questions reach the page only as plain text, through
`assistant.present`'s escaping (every Markdown and HTML character made literal), or as data
to the components in app_components.py, which write it with textContent. No module of the app
passes `unsafe_allow_html` or calls st.html.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO

import streamlit as st

from assistant.offline import set_offline_flags

set_offline_flags()

import app_conversation as conv  # noqa: E402
from app_ask import render_ask  # noqa: E402
from app_components import layout_styles  # noqa: E402
from app_documents import DOCUMENTS, render_documents  # noqa: E402
from app_index import render_index  # noqa: E402
from app_sidebar import sidebar  # noqa: E402
from app_evaluation import render_evaluation  # noqa: E402
from app_state import conversation_store, glossary_for, load  # noqa: E402
from assistant.search import MAX_QUESTION_CHARS  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

ASK, INDEX, EVALUATION = "Ask", "Index", "Evaluation"


@lru_cache(maxsize=1)
def page_icon() -> bytes:
    """The tab's icon, drawn here: an icon font or emoji would be fetched from a CDN, and the page asks no outside host."""
    from math import cos, pi, sin

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, 62, 62), fill=(0, 51, 153, 255))
    for star in range(12):
        x, y = 32 + 20 * cos(2 * pi * star / 12), 32 + 20 * sin(2 * pi * star / 12)
        draw.ellipse((x - 3.2, y - 3.2, x + 3.2, y + 3.2), fill=(255, 204, 0, 255))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    st.set_page_config(page_title="EU migration policy assistant", page_icon=page_icon(), layout="wide")
    layout_styles()
    st.session_state.setdefault("upload_round", 0)
    settings = load_settings()
    engine, problem = load(settings)
    store = conversation_store(settings)
    conv.sync_with_address(store)
    choices = sidebar(engine, settings, glossary_for(settings, engine), store)
    st.markdown("## EU migration policy assistant")
    st.caption("Offline answers from the indexed documents only; every line cites its source passage.")
    ask_tab, documents_tab, index_tab, evaluation_tab = st.tabs([ASK, DOCUMENTS, INDEX, EVALUATION], key="view",
                                                                on_change="rerun")
    prompt = None
    if ask_tab.open:
        prompt = st.chat_input("Ask about the documents…" if engine else "Build the index to ask questions",
                               key="question", max_chars=MAX_QUESTION_CHARS, disabled=engine is None)
        with ask_tab:
            render_ask(engine, problem, settings, choices, prompt, store)
    if documents_tab.open:
        with documents_tab:
            render_documents(engine, problem, settings)
    if index_tab.open:
        with index_tab:
            render_index(engine, settings)
    if evaluation_tab.open:
        with evaluation_tab:
            render_evaluation(settings)


main()
