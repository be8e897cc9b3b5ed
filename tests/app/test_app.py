"""The Streamlit app, driven headless with AppTest on the real index, and its safe-Markdown helpers."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st_

from assistant import present as ui
from assistant.search import Filters, Query
from tests.conftest import copy_corpus_and_index, save_two_runs

slow = pytest.mark.slow  # the app on the real model and index

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
BULGARIA = "what is the status of returns cooperation with Bulgaria?"
ACTION_21 = "emr-action-file-2024:action-21"
LETTER_ID = "commission-letter-2023"
HOSTILE = ("<script>alert(1)</script> [x](javascript:alert(1)) ![img](http://example.com/a.png) "
           "<img src=x onerror=alert(2)> returns with Bulgaria?")


# --- helpers ---------------------------------------------------------------------------


def start(timeout: float = 60, conversation: str = ""):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if conversation:
        at.query_params["c"] = conversation
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


def click(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def last_turn(at):
    return at.session_state["turns"][-1]


def assistant_markdown(at) -> str:
    return "\n".join(m.value for m in at.chat_message[-1].markdown)


def answer_data(at, message: int = -1) -> dict:
    """What the answer view of a chat message was given (its lines, citation previews, copy text)."""
    views = [e for e in at.chat_message[message].get("bidi_component") if e.proto.component_name == "assistant_answer"]
    assert len(views) == 1
    return json.loads(views[0].proto.json)


def buttons(at, prefix: str, within=None) -> list:
    return [b for b in (within or at).button if b.key and b.key.startswith(prefix)]


def all_markdown(at) -> list:
    """Every element whose body is Markdown, wherever it sits on the page."""
    return [*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Conversations and feedback go to a folder of the test's own."""
    folder = tmp_path / "data"
    monkeypatch.setenv("ASSISTANT_DATA", str(folder))
    return folder


@pytest.fixture
def app(engine, data_dir):
    """The app on the real index (the `engine` fixture rebuilds it first if it is stale)."""
    return start()


@pytest.fixture
def workspace(tmp_path, corpus_dir, engine, settings, monkeypatch, data_dir):
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
    data = answer_data(app)
    lines = data["lines"]
    assert lines[0] == {"kind": "heading", "earlier": False, "text": "Council action file, 22 July 2024:"}
    assert lines[1]["status"] and lines[1]["pieces"][0]["text"].startswith("Action 21 — Status: Ongoing")
    n = next(c.n for c in turn.answer.citations if c.unit.unit_id == ACTION_21)
    preview = data["citations"][str(n)]
    assert preview["locator"] == "Action 21" and preview["pages"] == "pp. 19-20"
    assert preview["document"] == "Council action file, 22 July 2024" and preview["quote"]
    assert data["copy"].startswith(turn.answer.answer) and "WK 10190/2024 INIT" in data["copy"]
    labels = [b.label for b in buttons(app, "source-", app.chat_message[-1])]
    assert any("Action 21" in label and "19" in label for label in labels)


@slow
def test_the_answer_keeps_its_order_older_documents_marked_earlier(app):
    ask(app, BULGARIA)
    answer = last_turn(app).answer
    headings = [line["text"] for line in answer_data(app)["lines"] if line["kind"] == "heading"]
    expected = [line.strip() for line in answer.answer.split("\n") if line.strip().endswith(":")]
    assert headings == expected and headings[-1].startswith("Earlier, Commission letter")


@slow
def test_questions_asked_one_after_another_are_each_answered_and_timed(app):
    """How long an answer takes is a benchmark figure (eval/bench_app.py), not a test."""
    ask(app, BULGARIA)
    ask(app, "What is being done with Türkiye against migrant smuggling?")
    turns = app.session_state["turns"]
    assert [t.question for t in turns[-2:]] == [BULGARIA, "What is being done with Türkiye against migrant smuggling?"]
    assert all(t.answer is not None and t.seconds > 0 for t in turns[-2:])


@slow
def test_a_follow_up_is_searched_as_it_stands_alone_and_can_be_searched_as_typed(app):
    ask(app, BULGARIA)
    ask(app, "and Greece?")
    answer = last_turn(app).answer
    assert answer.question == "and Greece?"
    assert answer.searched == "What is the status of returns cooperation with Greece?"
    assert {c.unit.locator for c in answer.citations} & {"Action 19", "Action 20"}
    captions = [c.value for c in app.chat_message[-1].caption]
    assert any("Searched: What is the status of returns cooperation with Greece" in c for c in captions)
    looking = [c for c in captions if "Looking for: " in c]  # how the question was read, escaped for Markdown
    assert len(looking) == 1 and looking[0].replace("\\", "").endswith("Looking for: " + answer.analysis["looking_for"])
    assert answer.analysis["looking_for"] == "its status · about: Greece"
    click(app, f"literal-{app.session_state['conversation_id']}-1")
    literal = last_turn(app)
    assert literal.question == "and Greece?" and literal.answer.searched == "and Greece?"
    assert literal.answer.followup == {}


@slow
def test_suggested_follow_ups_come_from_the_cited_units_and_ask_when_clicked(app):
    ask(app, BULGARIA)
    suggestions = buttons(app, "suggest-")
    assert suggestions and suggestions[0].label == ui.escape_inline("Who leads Action 21?")
    suggestions[0].click().run()
    assert last_turn(app).question == "Who leads Action 21?"
    assert "Lead actor(s)" in last_turn(app).answer.answer


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
    click(app, buttons(app, "source-")[0].key)  # the source panel open too
    views = ["Ask", "Documents", "Index", "Evaluation"]
    for view in views:
        show(app, view)
        for element in [*app.markdown, *app.caption]:
            assert not element.proto.allow_html, element.value
        assert not app.get("html") and not app.get("iframe")
        for component in app.get("bidi_component"):
            assert component.proto.component_name in ("assistant_layout", "assistant_answer", "assistant_passage")


@slow
def test_notes_and_possibly_related_passages_show_when_the_documents_do_not_answer(app):
    ask(app, "What is the weather forecast on Mars for next week?")
    answer = last_turn(app).answer
    assert answer.abstained and answer.hits
    assert any("Possibly related" in i.value for i in app.chat_message[-1].info)
    assert "**Possibly related passages**" in assistant_markdown(app)
    related = buttons(app, "related-", app.chat_message[-1])
    assert len(related) == len(answer.hits)
    shown = [float(b.label.replace("\\", "").rsplit("similarity ", 1)[1]) for b in related]
    assert shown == sorted(shown, reverse=True)  # sorted by the similarity they show


@slow
def test_a_document_filter_keeps_citations_in_that_document(app):
    app.multiselect(key="f_docs").set_value([LETTER_ID]).run()
    ask(app, BULGARIA)
    citations = last_turn(app).answer.citations
    assert citations and all(c.unit.doc_id == LETTER_ID for c in citations)
    assert not any("action file" in b.label for b in buttons(app, "source-", app.chat_message[-1]))
    assert "documents: Commission letter" in last_turn(app).described


@slow
def test_kind_filter_mode_and_passages_reach_the_engine(app):
    app.multiselect(key="f_kinds").set_value(["action"]).run()
    app.segmented_control(key="f_mode").set_value("bm25").run()
    app.slider(key="f_passages").set_value(2).run()
    ask(app, BULGARIA)
    turn = last_turn(app)
    assert all(c.unit.kind == "action" for c in turn.answer.citations)
    assert len(turn.answer.hits) <= 2
    assert turn.described.startswith("Keywords search, 2 passages")


@slow
def test_reset_filters_clears_every_filter(app, engine):
    from datetime import date

    app.multiselect(key="f_docs").set_value([LETTER_ID]).run()
    app.multiselect(key="f_countries").set_value(["Bulgaria"]).run()
    app.multiselect(key="f_kinds").set_value(["annex_item"]).run()
    app.multiselect(key="f_sections").set_value([app.multiselect(key="f_sections").options[0]]).run()
    dates = next(d for d in app.date_input if d.key.startswith("f_dates_"))
    dates.set_value((date(2024, 1, 1), date(2024, 7, 22))).run()
    app.segmented_control(key="f_mode").set_value("dense").run()
    app.slider(key="f_passages").set_value(3).run()
    click(app, "reset-filters")
    assert app.multiselect(key="f_docs").value == [] and app.multiselect(key="f_countries").value == []
    assert app.multiselect(key="f_kinds").value == [] and app.multiselect(key="f_sections").value == []
    dates = next(d for d in app.date_input if d.key.startswith("f_dates_"))
    assert dates.value == (date(2023, 6, 25), date(2024, 7, 22))
    assert app.segmented_control(key="f_mode").value == "hybrid" and app.slider(key="f_passages").value == 6
    ask(app, BULGARIA)
    assert last_turn(app).described == "Hybrid search, 6 passages, all documents"


@slow
def test_the_export_covers_the_stored_conversation_with_the_citations(app, data_dir):
    import app_conversation
    from assistant.conversations import ConversationStore

    ask(app, BULGARIA)
    ask(app, "who leads it?")
    assert app.download_button(key="export").label == "Export"
    exported = app_conversation.export_markdown(ConversationStore(data_dir), app.session_state["conversation_id"], "")
    assert exported.startswith("# EU migration policy assistant")
    assert BULGARIA.replace("?", "") in exported and "### Sources" in exported and "## 2. who leads it" in exported
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
def test_a_citation_opens_the_source_panel_beside_the_chat_with_its_neighbours(app):
    ask(app, BULGARIA)
    answer = last_turn(app).answer
    n = next(c.n for c in answer.citations if c.unit.unit_id == ACTION_21)
    click(app, f"source-{app.session_state['conversation_id']}-0-{n}")
    assert app.session_state["view"] == "Ask"  # no tab switch
    assert app.session_state["source"]["unit"].unit_id == ACTION_21
    passages = [e for e in app.get("bidi_component") if e.proto.component_name == "assistant_passage"]
    data = json.loads(passages[0].proto.json)
    marked = [p["text"] for line in data["lines"] for p in line if p.get("mark")]
    assert marked and set(marked) <= set(answer.citations[n - 1].sentences) | {"Status: Ongoing"}
    assert [p.get("scroll") for line in data["lines"] for p in line if p.get("mark")][0] is True
    assert data["reveal"]  # the panel is brought into view when it opens
    assert any("Status: Ongoing" in m.value and "Lead: Frontex" in m.value for m in app.markdown)
    assert app.button(key="source-previous").label == "Action 20"
    click(app, "source-next")
    assert app.session_state["source"]["unit"].unit_id == "emr-action-file-2024:action-22"
    click(app, "source-reader")
    assert app.session_state["view"] == "Documents" and app.selectbox(key="reader_unit").value == \
        "emr-action-file-2024:action-22"
    click(app, "reader_back")
    assert app.session_state["view"] == "Ask" and len(app.chat_message) == 2
    click(app, "source-close")
    assert app.session_state["source"] is None


@slow
def test_the_home_page_names_the_documents_with_dates_and_passages_and_offers_three_examples(app, engine):
    text = "\n".join(m.value for m in app.markdown)
    counts = {}
    for unit in engine.index.units.values():
        counts[unit.doc_id] = counts.get(unit.doc_id, 0) + 1
    for document in engine.index.documents:
        assert f"**{ui.escape_inline(document.title)}**" in text
        assert f"{counts[document.id]} passages" in text
    assert "22 July 2024" in text and "25 June 2023" in text
    examples = buttons(app, "example-")
    assert len(examples) == 3
    examples[2].click().run()
    assert last_turn(app).question == examples[2].label


@slow
def test_the_glossary_reads_as_a_list_in_the_sidebar(app):
    entries = "\n".join(m.value for m in app.sidebar.markdown)
    assert "**BG** — Bulgaria" in entries and "**EURP** — EU Reintegration Programme" in entries
    assert not app.sidebar.get("arrow_data_frame")
    app.text_input(key="glossary_query").set_value("reintegration").run()
    entries = "\n".join(m.value for m in app.sidebar.markdown)
    assert "**EURP**" in entries and "**BG**" not in entries


@slow
def test_a_conversation_is_restored_after_a_reload_renamed_and_deleted(app, data_dir):
    ask(app, BULGARIA)
    ask(app, "and Greece?")
    conversation = app.session_state["conversation_id"]
    assert app.query_params["c"] == conversation
    again = start(conversation=conversation)  # a reload: a new session with the same address
    assert [t.question for t in again.session_state["turns"]] == [BULGARIA, "and Greece?"]
    assert len(again.chat_message) == 4
    assert again.button(key=f"conversation-{conversation}").label == ui.escape_inline(BULGARIA)
    ask(again, "who leads it?")  # the follow-up still reads the restored turns
    assert last_turn(again).answer.searched.startswith("Who leads returns cooperation with Greece")
    again.text_input(key=f"rename-{conversation}").set_value("Returns <b>cooperation</b>").run()
    click(again, "conversation-rename-save")
    assert again.button(key=f"conversation-{conversation}").label == ui.escape_inline("Returns <b>cooperation</b>")
    click(again, "conversation-new")
    assert again.session_state["turns"] == [] and "c" not in again.query_params
    click(again, f"conversation-{conversation}")
    assert len(again.session_state["turns"]) == 3
    click(again, "conversation-delete-confirm")
    assert again.session_state["turns"] == [] and not buttons(again, f"conversation-{conversation}")
    assert start(conversation=conversation).session_state["turns"] == []  # a deleted one is not reopened


@slow
def test_only_the_recent_turns_are_drawn_and_earlier_ones_come_from_the_store(app, data_dir):
    import app_conversation
    from assistant.conversations import ConversationStore, StoredTurn

    store = ConversationStore(data_dir)
    conversation = store.create("long")
    for number in range(40):
        store.add_turn(conversation.id, StoredTurn(f"question {number}", error="not asked"))
    at = start(conversation=conversation.id)
    assert len(at.session_state["turns"]) == app_conversation.RECENT
    assert len(at.chat_message) == 2 * app_conversation.RECENT
    at.toggle(key="show_earlier").set_value(True).run()
    assert len(at.chat_message) == 2 * 40
    ask(at, BULGARIA)
    assert last_turn(at).position == 40 and len(at.session_state["turns"]) == app_conversation.RECENT


@slow
def test_feedback_on_an_answer_is_kept_and_exported_as_candidate_gold_items(app, data_dir):
    from assistant.conversations import FEEDBACK_FIELDS, ConversationStore

    ask(app, BULGARIA)
    key = f"{app.session_state['conversation_id']}-0"
    app.text_area(key=f"comment-{key}").set_value("Missing the 2023 state of play")
    click(app, f"send-{key}")
    assert any("Thank you" in c.value for c in app.chat_message[-1].caption)
    items = ConversationStore(data_dir).feedback()
    assert len(items) == 1 and tuple(items[0]) == FEEDBACK_FIELDS
    assert items[0]["question"] == BULGARIA and items[0]["comment"] == "Missing the 2023 state of play"
    assert items[0]["answer_given"] == last_turn(app).answer.answer
    assert ACTION_21 in items[0]["cited_units"] and items[0]["conversation_id"] == app.session_state["conversation_id"]
    assert app.download_button(key="export-feedback").label == "Feedback"


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
        (None, "Choose a PDF, Word (.docx), HTML, Markdown or plain text file to add."),
        (("big.pdf", b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024), "application/pdf"), "big.pdf is larger than the 20 MB limit."),
        (("program.exe", b"MZ\x90\x00", "application/octet-stream"),
         "program.exe is not a PDF, Word (.docx), HTML, Markdown or plain text file."),
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


APP_MODULES = sorted(ROOT.glob("app*.py"))
COMPONENTS = ROOT / "app_components.py"


@pytest.mark.parametrize("path", APP_MODULES, ids=lambda p: p.name)
def test_the_app_never_allows_html(path):
    """No unsafe_allow_html or st.html anywhere in the app; components only in app_components.py."""
    source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            assert not any(k.arg == "unsafe_allow_html" for k in node.keywords)
            assert not (isinstance(node.func, ast.Attribute) and node.func.attr == "html")
            if isinstance(node.func, ast.Attribute) and node.func.attr == "components":
                assert path == COMPONENTS
    if path != COMPONENTS:
        assert "streamlit.components" not in source and "st.components" not in source


def test_the_components_are_static_and_write_text_only_as_text():
    """Their HTML, CSS and script are constants; no call that parses a string as HTML or code."""
    import app_components

    tree = ast.parse(COMPONENTS.read_text(encoding="utf-8"))
    registered = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and isinstance(node.func, ast.Attribute) and node.func.attr == "component"]
    assert len(registered) == 3
    for call in registered:
        for keyword in call.keywords:
            if keyword.arg in ("html", "css", "js"):
                assert isinstance(keyword.value, ast.Name) and keyword.value.id.isupper(), ast.unparse(call)
    script = app_components.ANSWER_JS + app_components.PASSAGE_JS
    for parser in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(",
                   "DOMParser", "createContextualFragment", "setHTML", "srcdoc", "javascript:"):
        assert parser not in script, parser
    assert "textContent" in script and "createTextNode" in script
    assert "<" not in app_components.LAYOUT_CSS + app_components.ANSWER_CSS + app_components.PASSAGE_CSS


@slow
def test_a_cited_pdf_page_is_shown_with_the_sentence_marked(workspace, settings):
    from assistant.index import build_index
    from assistant.uploads import add_upload

    corpus, index_dir = workspace
    pdf = ROOT / "tests" / "fixtures" / "documents" / \
        "commission-note-si-2022-436-eu-action-plan-central-mediterranean-2022-11-20.pdf"
    add_upload(corpus, pdf.read_bytes(), pdf.name)
    build_index(index_dir, corpus, settings.model, settings.backend)
    at = start(timeout=120)
    ask(at, "Who prepared the note on the plan for the Central Mediterranean?")
    citation = next(c for c in last_turn(at).answer.citations if c.unit.doc_id.startswith(ui.UPLOAD_PREFIX))
    click(at, f"source-{at.session_state['conversation_id']}-0-{citation.n}")
    at.toggle(key=f"source-page-{citation.unit.unit_id}").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    images = at.get("image")
    assert len(images) == 1, "the page image is shown"
    caption = images[0].proto.imgs[0].caption
    assert caption.startswith(f"Page {citation.unit.page_start} of 3") and "found and marked" in caption


# --- the Evaluation tab ----------------------------------------------------------------------


APP_EVALUATION = ROOT / "app_evaluation.py"


def test_the_evaluation_tab_never_allows_html():
    source = APP_EVALUATION.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            assert not any(k.arg == "unsafe_allow_html" for k in node.keywords)
            assert not (isinstance(node.func, ast.Attribute) and node.func.attr in ("html", "components"))
    assert "streamlit.components" not in source


def test_app_py_only_adds_the_tab_and_one_call():
    """The Evaluation tab's rendering lives in app_evaluation.py; app.py imports it and calls it once."""
    source = APP.read_text(encoding="utf-8")
    assert source.count("render_evaluation(") == 1 and "from app_evaluation import render_evaluation" in source


@pytest.fixture
def runs(evaluation, tmp_path, monkeypatch):
    """A runs folder with the session's run (A) and a copy (B) whose hybrid ranking lost five first hits and
    whose answer to one question changed and carries markup."""
    folder = tmp_path / "runs"
    runs = save_two_runs(evaluation.record, folder, HOSTILE)
    monkeypatch.setenv("ASSISTANT_RUNS", str(folder))
    return runs


def evaluation_tab():
    return show(start(timeout=120), "Evaluation")


def frame(where, *columns: str):
    """The first dataframe (under `where`: the page or a block) whose columns start with these."""
    return next(d.value for d in where.dataframe if tuple(d.value.columns[:len(columns)]) == columns)


@slow
def test_the_evaluation_tab_shows_the_latest_run_with_tables_and_charts(runs):
    at = evaluation_tab()
    assert at.selectbox(key="ev_run").value == "20250102T000000-bbbbbb"
    modes = frame(at, "mode", "recall@1")
    assert list(modes["mode"]) == ["bm25", "dense", "hybrid"]
    assert modes.set_index("mode").loc["hybrid", "recall@5"] == round(
        runs["record"]["summary"]["modes"]["hybrid"]["overall"]["recall@5"], 3)
    assert set(frame(at, "type", "recall@1")["type"]) == {"lookup", "status", "number", "paraphrase", "multi"}
    assert list(frame(at, "split", "answerable")["split"]) == ["test", "calibrate", "fit", "all"]
    assert len(frame(at, "threshold")) == len(runs["record"]["summary"]["answers"]["calibration"]["table"])
    assert len(at.get("vega_lite_chart")) == 3  # by mode, by type, the abstention trade-off
    assert any("rrf\\_k 10" in c.value for c in at.caption)


@slow
def test_two_runs_compared_in_the_tab_give_p_values_and_the_questions_that_changed(runs):
    at = evaluation_tab()
    at.selectbox(key="ev_a").set_value("20250101T000000-aaaaaa").run()
    at.button(key="ev_compare").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    section = next(e for e in at.expander if e.label.startswith(ui.escape_inline("Retrieval, hybrid")))
    assert "5 questions worse" in section.label
    hybrid = frame(section, "group", "n", "metric").set_index("metric")
    assert hybrid.loc["recall@1", "B - A"].startswith("-") and hybrid.loc["recall@1", "p"] != "1.000"
    assert list(hybrid.columns) == ["group", "n", "A", "B", "B - A", "p", "95% interval", "verdict"]
    worse = frame(section, "change", "id")
    assert set(worse["id"]) == set(runs["demoted"]) and set(worse["change"]) == {"worse"}
    assert runs["changed"] in set(frame(at, "change", "id", "type", "split", "A")["id"])
    dense = next(e for e in at.expander if e.label.startswith(ui.escape_inline("Retrieval, dense")))
    assert "no significant difference" in dense.label and "0 questions worse" in dense.label
    assert any("Settings changed\\: rrf\\_k 60 → 10" in c.value for c in at.caption)
    # the drill-down offers the questions that changed first
    assert at.selectbox(key="ev_question").options[0].startswith(runs["changed"])


@slow
def test_drilling_down_shows_gold_evidence_highlighted_passages_and_the_answer_escaped(runs):
    at = evaluation_tab()
    question = runs["changed"]
    item = runs["record"]["questions"][question]
    at.selectbox(key="ev_question").set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(m.value for m in at.markdown)
    assert ui.escape_markdown(item["answer"]) in text
    assert all(":orange-background[" + ui.escape_inline(e["quote"]) + "]" in text for e in item["evidence"])
    assert ui.answer_markdown(HOSTILE) in text and "\\<script\\>" in text
    relevant = [e for e in at.expander if e.label.endswith("relevant")]
    assert relevant and any(":orange-background[**" in m.value for e in relevant for m in e.markdown)
    for element in all_markdown(at):
        assert not re.search(r"(?<!\\)<", element.value), element.value
        assert not element.proto.allow_html


@slow
def test_with_no_saved_run_the_tab_says_how_to_make_one(tmp_path, monkeypatch, engine):
    monkeypatch.setenv("ASSISTANT_RUNS", str(tmp_path / "none"))
    monkeypatch.setattr("eval.runs.REFERENCE", tmp_path / "no-reference.json")
    at = evaluation_tab()
    assert [i.value for i in at.info] == ["No saved evaluation runs yet: `assistant eval` saves one under eval/runs/."]
