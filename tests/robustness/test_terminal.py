"""Document text cannot reach the user's terminal as escape sequences: one sanitizer for all CLI output.

A document carrying a clear-screen, a window-title and an OSC 8 hyperlink sequence is added
to a copy of the corpus and indexed; `assistant search` and `assistant ask` then print its
passages with every control character shown as text (`\\x1b`), and `--json` escapes them as
JSON does, so a JSON reader still gets the document's own characters back.
"""

from __future__ import annotations

import ast
import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from assistant.cli import cli
from assistant.index import build_index
from assistant.present.text import json_line, terminal_text
from assistant.uploads import add_upload
from tests.conftest import ROOT, copy_corpus_and_index

CLEAR_SCREEN = "\x1b[2J\x1b[H"
WINDOW_TITLE = "\x1b]0;owned\x07"
HYPERLINK = "\x1b]8;;http://127.0.0.1/evil\x1b\\the report\x1b]8;;\x1b\\"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FILLER = ("The Moldovan border police and Frontex reviewed the joint operation at the crossing points of the "
          "Prut river and agreed on the rotation of the officers deployed there for the rest of the year. ")
DOCUMENT = (
    "Moldova border note\n\n"
    f"{FILLER * 4}\n\n"
    f"Frontex deployed twelve liaison officers to Moldova{CLEAR_SCREEN} to support returns{WINDOW_TITLE} from "
    f"Chisinau, as set out in {HYPERLINK} of the joint working group.\n\n"
    f"{FILLER * 4}\n"
)
QUESTION = "How many liaison officers did Frontex deploy to Moldova to support returns?"


@pytest.mark.parametrize("attack", [CLEAR_SCREEN, WINDOW_TITLE, HYPERLINK, "\x9b2J", "\x7f", "a\rb"])
def test_the_sanitizer_leaves_no_control_character_and_shows_each_one(attack):
    shown = terminal_text(f"before {attack} after")
    assert not RAW.search(shown), repr(shown)
    assert shown.startswith("before ") and shown.endswith(" after")
    assert "\\x" in shown or "\\u" in shown


def test_tabs_newlines_and_every_script_are_kept():
    text = "Action 21\tOngoing\nΒουλγαρία — Болгария — \u202bבולגריה\u202c \u200f— بلغاريا — Türkiye"
    assert terminal_text(text) == text


@given(st.text())
def test_no_text_prints_a_raw_control_character(text):
    assert not RAW.search(terminal_text(text))


@given(st.dictionaries(st.text(), st.text() | st.lists(st.text())))
def test_json_output_is_json_and_gives_the_text_back(record):
    line = json_line(record)
    assert not RAW.search(line) and "\n" not in line
    assert json.loads(line) == record


def test_every_line_the_cli_prints_goes_through_the_sanitizer():
    """Only group.py's `say` and `emit` call click.echo; every other command prints through them."""
    offenders = []
    for path in sorted((ROOT / "assistant" / "cli").glob("*.py")):
        if path.name == "group.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("echo", "secho"):
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_a_usage_error_quoting_what_was_typed_is_sanitized():
    result = CliRunner().invoke(cli, ["search", "returns", "--kind", f"x{WINDOW_TITLE}"])
    assert result.exit_code == 2 and "Invalid value" in result.output
    assert not RAW.search(result.output.replace("\n", "")), repr(result.output)


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory, engine, settings):
    """A copy of the corpus with the document above added, and its index built (incrementally)."""
    root = tmp_path_factory.mktemp("terminal")
    corpus, index_dir = copy_corpus_and_index(root, settings)
    add_upload(corpus, DOCUMENT.encode("utf-8"), "moldova-note.txt")
    build_index(index_dir, corpus, settings.model, settings.backend)
    return {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir)}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["search", "ask"])
def test_escape_sequences_in_a_document_are_shown_not_sent(hostile_corpus, command):
    result = CliRunner().invoke(cli, [command, QUESTION], env=hostile_corpus)
    assert result.exit_code == 0, result.output
    assert "Moldova" in result.output
    assert not RAW.search(result.output.replace("\n", "")), repr(result.output)
    if command == "search":
        listed = CliRunner().invoke(cli, ["documents"], env=hostile_corpus)
        assert not RAW.search(listed.output.replace("\n", ""))


@pytest.mark.slow
@pytest.mark.parametrize("command", ["search", "ask"])
def test_json_output_escapes_them_as_json_does(hostile_corpus, command):
    result = CliRunner().invoke(cli, [command, QUESTION, "--json"], env=hostile_corpus)
    assert result.exit_code == 0, result.output
    assert not RAW.search(result.output.replace("\n", ""))
    record = json.loads(result.output)
    texts = [r["text"] for r in record.get("results", record.get("passages", []))]
    assert any("\x1b]0;owned\x07" in text for text in texts), "a JSON reader gets the document's characters back"
