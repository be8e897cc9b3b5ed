"""The Streamlit app, driven headless with AppTest on the real index, and its safe-Markdown helpers."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st_

from assistant import present as ui
from assistant.search import Filters, Query
from tests.conftest import copy_corpus_and_index

slow = pytest.mark.slow  # the app on the real model and index

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
BULGARIA = "what is the status of returns cooperation with Bulgaria?"
ACTION_21 = "emr-action-file-2024:action-21"
LETTER_ID = "commission-letter-2023"
HOSTILE = ("<script>alert(1)</script> [x](javascript:alert(1)) ![img](http://example.com/a.png) "
           "<img src=x onerror=alert(2)> returns with Bulgaria?")


# --- helpers ---------------------------------------------------------------------------


def start(timeout: float = 60):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at, question: str):
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def show(at, view: str):
    at.session_state["view"] = view
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def last_turn(at) -> ui.Turn:
    return at.session_state["turns"][-1]


def assistant_markdown(at) -> str:
    return "\n".join(m.value for m in at.chat_message[-1].markdown)


def all_markdown(at) -> list:
    """Every element whose body is Markdown, wherever it sits on the page."""
    return [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success]


@pytest.fixture
def app(engine):
    """The app on the real index (the `engine` fixture rebuilds it first if it is stale)."""
    return start()


@pytest.fixture
def workspace(tmp_path, corpus_dir, engine, settings, monkeypatch):
    """Copies of the corpus and the served index, given to the app through the environment."""
    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    monkeypatch.setenv("ASSISTANT_CORPUS", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX", str(index_dir))
    return corpus, index_dir


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}



# --- asking ------------------------------------------------------------------------------


@slow
def test_the_bulgaria_returns_question_is_answered_citing_action_21(app):
    ask(app, BULGARIA)
    turn = last_turn(app)
    assert turn.answer is not None and not turn.answer.abstained
    assert ACTION_21 in [c.unit.unit_id for c in turn.answer.citations]
    text = assistant_markdown(app)
    assert "Action 21" in text and ":blue-badge[" in text
    labels = [e.label for e in app.chat_message[-1].expander]
    assert any("Action 21" in label and "19" in label for label in labels)


@slow
def test_questions_asked_one_after_another_are_each_answered_and_timed(app):
    """How long an answer takes is a benchmark figure (eval/results/bench.md), not a test."""
    ask(app, BULGARIA)
    ask(app, "What is being done with Türkiye against migrant smuggling?")
    turns = app.session_state["turns"]
    assert [t.question for t in turns[-2:]] == [BULGARIA, "What is being done with Türkiye against migrant smuggling?"]
    assert all(t.answer is not None and t.seconds > 0 for t in turns[-2:])


@slow
@pytest.mark.parametrize("blank", ["   ", "\n\t  "])
def test_a_blank_question_gets_one_sentence_not_a_crash(app, blank):
    ask(app, blank)
    assert [w.value for w in app.warning] == [ui.escape_markdown("The question is empty; type a question about the documents.")]
    assert last_turn(app).answer is None
    ask(app, BULGARIA)  # and the app keeps working
    assert last_turn(app).answer is not None


@slow
def test_markup_in_a_question_is_shown_as_typed(app):
    ask(app, HOSTILE)
    shown = app.chat_message[-2].markdown[0].value
    assert shown == ui.escape_markdown(HOSTILE)
    assert "\\<script\\>alert\\(1\\)\\<\\/script\\>" in shown and "\\[x\\]\\(javascript" in shown
    assert commonmark(shown).startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1))")
    for element in all_markdown(app):
        assert not re.search(r"(?<!\\)<", element.value), element.value
        assert not re.search(r"(?<!\\)\]\((?:javascript|http)", element.value), element.value


@slow
def test_no_element_on_any_view_allows_html(app):
    ask(app, BULGARIA)
    views = ["Ask", "Documents", "Index"]
    for view in views:
        show(app, view)
        for element in [*app.markdown, *app.caption]:
            assert not element.proto.allow_html, element.value
        assert not app.get("html") and not app.get("iframe")


@slow
def test_notes_and_possibly_related_passages_show_when_the_documents_do_not_answer(app):
    ask(app, "What is the weather forecast on Mars for next week?")
    answer = last_turn(app).answer
    assert answer.abstained and answer.hits
    assert any("Possibly related" in i.value for i in app.chat_message[-1].info)
    assert "**Possibly related passages**" in assistant_markdown(app)
    assert len(app.chat_message[-1].expander) == len(answer.hits)


@slow
def test_a_document_filter_keeps_citations_in_that_document(app):
    app.multiselect(key="f_docs").set_value([LETTER_ID]).run()
    ask(app, BULGARIA)
    citations = last_turn(app).answer.citations
    assert citations and all(c.unit.doc_id == LETTER_ID for c in citations)
    assert not any("action file" in e.label for e in app.chat_message[-1].expander)
    assert "documents: Commission letter" in last_turn(app).searched


@slow
def test_kind_filter_mode_and_passages_reach_the_engine(app):
    app.multiselect(key="f_kinds").set_value(["action"]).run()
    app.segmented_control(key="f_mode").set_value("bm25").run()
    app.slider(key="f_passages").set_value(2).run()
    ask(app, BULGARIA)
    turn = last_turn(app)
    assert all(c.unit.kind == "action" for c in turn.answer.citations)
    assert len(turn.answer.hits) <= 2
    assert turn.searched.startswith("Keywords search, 2 passages")
    app.button(key=[b.key for b in app.button if b.label == "Reset filters"][0]).click().run()
    assert app.multiselect(key="f_kinds").value == [] and app.slider(key="f_passages").value == 6


@slow
def test_export_is_markdown_with_the_citations(app, monkeypatch):
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: list[tuple[bytes, str]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, (bytes, str)):
            data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
            served.append((data, mimetype))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    ask(app, BULGARIA)
    assert app.download_button(key="export").label == "Export"
    exported = [data.decode() for data, mime in served if mime.startswith("text/markdown")][-1]
    assert exported.startswith("# EU migration policy assistant")
    assert BULGARIA.replace("?", "") in exported and "### Sources" in exported
    assert "Action 21" in exported and "WK 10190/2024 INIT" in exported and "pp. 19-20" in exported
    assert "Bulgaria pilot project" in exported and "Cited sentences:" in exported


def test_the_export_escapes_markup_from_questions_and_documents():
    turn = ui.Turn(HOSTILE, error="The question is empty.", searched="Hybrid search")
    exported = ui.conversation_markdown([turn])
    assert not re.search(r"(?<!\\)<", exported) and not re.search(r"(?<!\\)\]\(", exported)
    rendered = commonmark(exported)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


# --- documents, context, index -------------------------------------------------------------


@slow
def test_the_documents_view_lists_both_documents_with_their_notes(app, engine):
    show(app, "Documents")
    text = "\n".join(m.value for m in app.markdown)
    for document in engine.index.documents:
        assert f"**{ui.escape_inline(document.title)}**" in text
    assert "Actions 24–28 missing from this copy" in text
    captions = "\n".join(c.value for c in app.caption)
    assert ui.escape_inline("WK 10190/2024 INIT") in captions and "22 July 2024" in captions
    assert app.selectbox(key="reader_doc").options and app.selectbox(key="reader_unit").value


@slow
def test_a_citation_opens_in_context_in_the_reader(app):
    ask(app, BULGARIA)
    n = next(c.n for c in last_turn(app).answer.citations if c.unit.unit_id == ACTION_21)
    app.button(key=f"context-0-{n}").click().run()
    assert app.session_state["view"] == "Documents"
    assert app.selectbox(key="reader_unit").value == ACTION_21
    passage = "\n".join(m.value for m in app.markdown)
    assert "Bulgaria pilot project" in passage and ":orange-background[**" in passage
    app.button(key="reader_next").click().run()
    assert app.selectbox(key="reader_unit").value == "emr-action-file-2024:action-22"
    app.button(key="reader_back").click().run()
    assert app.session_state["view"] == "Ask" and len(app.chat_message) == 2


@slow
def test_the_index_view_shows_status_model_and_counts(app, engine):
    show(app, "Index")
    assert any("up to date" in s.value for s in app.success)
    values = {m.label: m.value for m in app.metric}
    assert values["Passages"] == str(len(engine.index.units)) and values["Chunks"] == str(len(engine.index.chunks))
    assert any(ui.escape_inline(engine.index.model) in c.value for c in app.caption)


@slow
def test_an_upload_is_indexed_and_can_be_cited(workspace):
    corpus, _ = workspace
    at = show(start(timeout=180), "Index")
    note = ("Moldova border cooperation pilot: the joint working group met in Chisinau on 3 May 2024 "
            "and agreed to deploy two liaison officers at the Moldova border crossing points.\n")
    at.file_uploader(key="upload_file_0").set_value(("moldova-note.txt", note.encode(), "text/plain"))
    at.text_input(key="upload_title_0").set_value("Moldova note <b>draft</b>")
    at.text_input(key="upload_reference_0").set_value("TEST 1/2024")
    at.button(key=[b.key for b in at.button if b.label == "Add and index"][0]).click().run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    assert any("Added" in s.value and "\\<b\\>draft" in s.value for s in at.success)
    assert any(d.startswith("uploads/") for d in tree(corpus))
    show(at, "Ask")
    ask(at, "When did the working group on Moldova border cooperation meet?")
    cited = [c.unit.doc_title for c in last_turn(at).answer.citations]
    assert "Moldova note <b>draft</b>" in cited


@slow
@pytest.mark.parametrize(
    "upload, sentence",
    [
        (None, "Choose a PDF, Word, HTML, Markdown or text file to add."),
        (("empty.txt", b"", "text/plain"), "empty.txt is empty (zero bytes)."),
        (("latin.txt", "Caf\xe9 cr\xe8me".encode("latin-1"), "text/plain"), None),
    ],
)
def test_upload_problems_are_one_sentence_and_change_nothing(workspace, upload, sentence):
    corpus, _ = workspace
    before = tree(corpus)
    at = show(start(timeout=120), "Index")
    if upload is not None:
        at.file_uploader(key="upload_file_0").set_value(upload)
    at.button(key=[b.key for b in at.button if b.label == "Add and index"][0]).click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].count(". ") == 0 and errors[0].endswith(".")
    if sentence:
        assert errors[0] in (sentence, ui.escape_markdown(sentence))
    assert tree(corpus) == before


@slow
def test_a_hostile_pdf_is_refused_in_one_sentence_and_the_app_keeps_answering(workspace):
    from tests.ingest.test_pdf_limits import hostile_pdf

    corpus, _ = workspace
    before = tree(corpus)
    at = show(start(timeout=120), "Index")
    at.file_uploader(key="upload_file_0").set_value(("slides.pdf", hostile_pdf(pages=10, rectangles=330_000),
                                                     "application/pdf"))
    at.button(key=[b.key for b in at.button if b.label == "Add and index"][0]).click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value.replace("\\", "") for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("slides.pdf: page 1 holds more drawing instructions"), errors
    assert tree(corpus) == before
    show(at, "Ask")
    ask(at, BULGARIA)
    assert "Action 21" in [c.unit.locator for c in last_turn(at).answer.citations]


@slow
def test_a_stale_index_keeps_answering_with_a_notice_and_builds_on_request(workspace):
    from assistant.uploads import add_document

    corpus, _ = workspace
    add_document(corpus, b"Frontex deployed a new team to the Moldova border in 2024.\n", "moldova.txt",
                 title="Moldova deployment", doc_date="2024-06-01")
    at = start(timeout=120)
    assert not at.chat_input(key="question").proto.disabled, "the last good index is served"
    ask(at, BULGARIA)
    answer = last_turn(at).answer
    assert answer.citations and answer.notes[-1].startswith("Stale index: 1 document changed (1 added)")
    show(at, "Index")
    warning = at.warning[0].value.replace("\\", "")
    assert "Stale index: 1 document changed" in warning and warning.count(". ") == 0
    assert at.button(key="rebuild").proto.type == "primary"
    at.button(key="rebuild").click().run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    assert any("up to date" in s.value for s in at.success)
    show(at, "Ask")
    ask(at, "Where did Frontex deploy a new team in 2024?")
    assert "Moldova deployment" in [c.unit.doc_title for c in last_turn(at).answer.citations]
    assert not any(note.startswith("Stale") for note in last_turn(at).answer.notes)


@slow
def test_a_missing_index_shows_one_sentence_and_the_documents_still_list(workspace, monkeypatch, tmp_path):
    empty = tmp_path / "no-index"
    monkeypatch.setenv("ASSISTANT_INDEX", str(empty))
    at = start()
    assert at.warning[0].value.startswith("No index has been built in")
    assert at.button(key="build-now").label == "Build the index now"
    assert "Filters appear once the index is built" in "\n".join(c.value for c in at.sidebar.caption)
    show(at, "Documents")
    assert "Corpus: 2 documents" in "\n".join(m.value for m in at.markdown)
    show(at, "Index")
    assert any("No index has been built" in w.value for w in at.warning)


@slow
@pytest.mark.parametrize("pointer", [b"\xff\xfe\x00\x9b2J", b"../../etc\n"], ids=["not-utf8", "a-path"])
def test_a_damaged_pointer_shows_one_sentence_no_server_path_and_the_rebuild_button(workspace, pointer):
    corpus, index_dir = workspace
    (index_dir / "CURRENT").write_bytes(pointer)
    at = show(start(timeout=120), "Index")
    errors = [e.value.replace("\\", "") for e in (*at.error, *at.warning)]
    assert any("index/CURRENT" in e for e in errors), errors
    assert not any(str(index_dir.parent) in e for e in errors), "no server path on the page"
    at.button(key="rebuild").click().run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    show(at, "Ask")
    ask(at, BULGARIA)
    assert last_turn(at).answer.citations


@slow
def test_an_index_rebuilt_outside_the_app_is_served_on_the_next_run(workspace, settings):
    from assistant.index import build_index
    from assistant.uploads import add_document

    corpus, index_dir = workspace
    at = start()
    ask(at, BULGARIA)
    add_document(corpus, b"Frontex opened a liaison office in Chisinau in March 2024.\n", "office.txt",
                 title="Chisinau office", doc_date="2024-03-15")
    build_index(index_dir, corpus, settings.model, settings.backend)  # as `assistant index` would
    ask(at, "When did Frontex open a liaison office in Chisinau?")
    assert "Chisinau office" in [c.unit.doc_title for c in last_turn(at).answer.citations]
    assert len(at.session_state["turns"]) == 2  # the conversation survives the reload


@slow
def test_clearing_the_conversation_asks_first_then_empties_it(app):
    ask(app, BULGARIA)
    app.button(key="clear").click().run()
    assert app.session_state["turns"] == []
    assert app.button(key="example-0").label.startswith("What is the status")


# --- safe Markdown ----------------------------------------------------------------------------


def commonmark(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").render(text)


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    '<img src=x onerror="window.__xss=2">',
    "[x](javascript:alert(1))",
    "![img](http://example.com/a.png)",
    "<http://example.com> and <a@b.eu>",
    "*em* __strong__ `code` ~~del~~ # heading | table |",
    "&lt;entity&gt; &amp; \\ back\\slash",
    "[ref]: http://example.com",
])
def test_escaped_text_renders_as_the_same_text_in_commonmark(text):
    rendered = commonmark(ui.escape_markdown(text)).replace(ui.WORD_JOINER, "")
    assert rendered == f"<p>{html.escape(text, quote=True).replace('&#x27;', chr(39))}</p>\n"


@hypothesis_settings(max_examples=300, deadline=None)
@given(st_.text(st_.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=("Cc", "Cs")), min_size=1))
def test_any_line_of_text_renders_literally(text):
    text = text.strip()  # a paragraph drops the whitespace at its ends
    if not text:
        return
    rendered = commonmark(ui.escape_markdown(text)).replace(ui.WORD_JOINER, "")
    assert rendered == f"<p>{html.escape(text, quote=True).replace('&#x27;', chr(39))}</p>\n"


def test_streamlit_shortcodes_directives_latex_and_autolinks_are_neutralised():
    escaped = ui.escape_markdown(":red[x] :smile: :material/home: $x^2$ https://example.com www.eu.eu a@b.eu")
    assert "\\:red\\[x\\]" in escaped and "\\:smile\\:" in escaped and "\\$x\\^2\\$" in escaped
    assert "https:" not in escaped and "www." not in escaped and "@b" not in escaped
    assert escaped.replace(ui.WORD_JOINER, "").replace("\\", "") == (
        ":red[x] :smile: :material/home: $x^2$ https://example.com www.eu.eu a@b.eu")


def test_passages_highlight_cited_sentences_and_bold_field_labels():
    text = "Action 9. Title\nStatus: Ongoing\nComments:\n- First <b>point</b>.\n- Second [x](y) point."
    markdown = ui.passage_markdown(text, ["Status: Ongoing", "Second [x](y) point.", "Not in the text."],
                                  title_line=True)
    lines = markdown.split("  \n")
    assert lines[0] == "**Action 9\\. Title**"
    assert lines[1] == ":orange-background[**Status\\: Ongoing**]"
    assert lines[2] == "**Comments\\:**"
    assert lines[3] == "\\- First \\<b\\>point\\<\\/b\\>\\."
    assert lines[4] == "\\- :orange-background[**Second \\[x\\]\\(y\\) point\\.**]"
    assert ui.highlight_spans(text, ["Not in the text."])[1] == ["Not in the text."]
    rendered = commonmark(markdown)
    assert "<a " not in rendered and "<b>" not in rendered and "&lt;b&gt;" in rendered


def test_indented_lines_do_not_become_code_blocks():
    assert "<pre>" not in commonmark(ui.passage_markdown("Intro\n\n    - nested item"))


def test_answer_markers_become_badges_and_headings_bold():
    text = "Council action file, 22 July 2024:\n- Action 21: Onboarding of <Bulgaria> to the EURP. [2]"
    assert ui.answer_markdown(text) == ("**Council action file\\, 22 July 2024\\:**\n\n"
                                         "- Action 21\\: Onboarding of \\<Bulgaria\\> to the EURP\\. :blue-badge[2]")


def test_search_choices_become_a_readable_line():
    choices = Query("", Filters(("a",), ("action",), (), ("Bulgaria",), "2024-01-01", ""), "dense", passages=4)
    assert ui.describe_search(choices, 4, "dense") == (
        "Meaning search, 4 passages, documents: a; kinds: Action; countries: Bulgaria; dated 2024-01-01 to …")
    assert ui.describe_search(Query(""), 6, "hybrid") == "Hybrid search, 6 passages, all documents"


def test_glossary_search_matches_every_word_in_any_column():
    rows = [{"term": "BG", "meaning": "Bulgaria", "kind": "country"},
            {"term": "EURP", "meaning": "EU Reintegration Programme (Frontex)", "kind": "acronym"}]
    assert ui.filter_glossary(rows, "") == rows
    assert ui.filter_glossary(rows, "frontex reintegration") == [rows[1]]
    assert ui.filter_glossary(rows, "bg") == [rows[0]]


def test_the_app_never_allows_html():
    """No unsafe_allow_html, st.html or components in app.py, whatever the value."""
    source = APP.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            assert not any(k.arg == "unsafe_allow_html" for k in node.keywords)
            assert not (isinstance(node.func, ast.Attribute) and node.func.attr in ("html", "components"))
    assert "streamlit.components" not in source
