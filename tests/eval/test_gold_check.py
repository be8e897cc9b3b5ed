"""`assistant gold check` and `gold add`: the committed gold set passes, each kind of broken item gets one clear line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.settings import PROJECT_ROOT
from eval.gold import SPLITS, split_of
from eval.gold_check import Corpus, Row, check_rows, read_rows

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
GOLD_NEW = PROJECT_ROOT / "eval" / "gold_new_added.jsonl"
GOLD_ITEMS = sum(1 for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip())
NEXT = max(int(json.loads(line)["id"][1:]) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()) + 1
FIRST, SECOND, THIRD = (f"q{NEXT + i}" for i in range(3))  # the ids `gold add` gives the next items
ACTION_FILE = "emr-action-file-2024"
# A valid item that the gold set does not hold yet (q001 asks about the same row in other words).
GOOD = {"id": "q990", "question": "Which bodies must implement the toolbox against transport operators facilitating "
        "smuggling, according to the 2024 file?", "answer": "The Commission, the Member States, Frontex and Eurocontrol.",
        "type": "lookup", "evidence": [{"doc_id": ACTION_FILE, "locator": "Action 2",
                                        "quote": "Commission, MS, Frontex, Eurocontrol"}], "split": split_of("q990")}
WRONG_SPLIT = next(s for s in SPLITS if s != split_of("q990"))
Q001 = json.loads(GOLD.read_text(encoding="utf-8").splitlines()[0])


@pytest.fixture(scope="module")
def corpus():
    return Corpus.load(PROJECT_ROOT / "corpus")


@pytest.fixture(scope="module")
def gold_rows():
    return read_rows(GOLD) + read_rows(GOLD_NEW)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_committed_gold_set_passes_every_check():
    result = invoke("gold", "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Checked {GOLD_ITEMS} in gold.jsonl, 106 in gold_new_added.jsonl: no problems")
    assert "not in the corpus and were not checked" in result.output  # the fixtures' documents, not ingested yet


def test_the_good_item_passes(corpus, gold_rows):
    problems, _ = check_rows([Row("new.jsonl:1", GOOD)], corpus, gold_rows)
    assert problems == []


def _with(**changes) -> dict:
    item = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def _evidence(**changes) -> list[dict]:
    return [{**GOOD["evidence"][0], **changes}]


BROKEN = [
    ("quote not in the unit", _with(evidence=_evidence(quote="Commission, MS, Frontex, Europol")),
     f"Evidence 1: the quote is not verbatim in Action 2 of {ACTION_FILE}."),
    ("quote in another unit", _with(evidence=_evidence(locator="Action 3")),
     f"Evidence 1: the quote is not verbatim in Action 3 of {ACTION_FILE}."),
    ("quote with other spacing", _with(evidence=_evidence(quote="commission,  MS, Frontex, Eurocontrol")),
     "only with other spacing or case; copy it verbatim."),
    ("a locator that is no unit", _with(evidence=_evidence(locator="Action 25")),
     "Evidence 1: 'Action 25' is not a unit of emr-action-file-2024"),
    ("a document not in the corpus", _with(evidence=_evidence(doc_id="no-such-document")),
     "Evidence 1: the document 'no-such-document' is not in the corpus"),
    ("a file in the corpus without the quote",
     _with(evidence=[{"file": "council-action-file-eastern-mediterranean-route-2024-07-22.txt", "quote": "Not there."}]),
     "Evidence 1: the quote is not verbatim in any unit of the file council-action-file"),
    ("evidence of another shape", _with(evidence=[{"doc": ACTION_FILE, "quote": "x"}]),
     "Evidence 1: it has the fields doc, quote; use {doc_id, locator, quote} or {file, quote}."),
    ("an unknown type", _with(type="lokup"), "The type 'lokup' is not one of lookup, status"),
    ("the split is not its hash's", _with(split=WRONG_SPLIT),
     f"The split is {WRONG_SPLIT!r} but the hash of its id puts it in {split_of('q990')!r}"),
    ("a split that does not exist", _with(split="train"), "The split 'train' is not one of fit, calibrate, test."),
    ("the same id", _with(id="q001", split=split_of("q001")), "The id is also used at gold.jsonl:1."),
    ("the same question", _with(question=Q001["question"].upper().replace("?", " ?")),
     "The same question as q001 (gold.jsonl:1)."),
    ("nearly the same question", _with(question=Q001["question"].replace("implementing", "carrying out")),
     "Nearly the same question as q001 (gold.jsonl:1) (word overlap 0.8"),
    ("unanswerable with evidence", _with(type="unanswerable", unanswerable_kind="redacted"),
     "An unanswerable item has evidence"),
    ("answerable without evidence", _with(evidence=[]), "An answerable item needs evidence"),
    ("an unknown intent", _with(intent="who_does"), "The intent 'who_does' is not one of status, who_leads"),
    ("an unknown answer type", _with(answer_type="number"), "The answer_type 'number' is not one of"),
    ("an unknown style", _with(style="casual"), "The style 'casual' is not one of formal, user."),
    ("an unknown unanswerable kind", _with(type="unanswerable", evidence=[], unanswerable_kind="unknowable"),
     "The unanswerable_kind 'unknowable' is not one of missing_unit"),
    ("a kind on an answerable item", _with(unanswerable_kind="redacted"), "An answerable item has an unanswerable_kind"),
    ("no answer field", _with(answer=None), "The field 'answer' is missing."),
    ("an empty answer", _with(answer="  "), "The gold answer is empty"),
    ("an empty question", _with(question=""), "The question is empty."),
    ("a misspelt field", {**GOOD, "evidance": []}, "The field 'evidance' is not a gold field"),
    ("a mentioned_in unit that is not there", _with(mentioned_in=[{"doc_id": ACTION_FILE, "locator": "Action 26"}]),
     "Mentioned_in 1: 'Action 26' is not a unit of emr-action-file-2024."),
]


@pytest.mark.parametrize("item, expected", [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_each_broken_item_gets_one_clear_line(corpus, gold_rows, item, expected):
    problems, _ = check_rows([Row("new.jsonl:1", item)], corpus, gold_rows)
    assert len(problems) == 1, [str(p) for p in problems]
    line = str(problems[0])
    assert line.startswith(f"new.jsonl:1 {item.get('id')}: ") and expected in line, line
    assert line.count("\n") == 0 and line.endswith(".")


def test_gold_check_prints_one_line_per_problem_and_exits_1(tmp_path):
    broken = tmp_path / "broken.jsonl"
    items = [case[1] for case in BROKEN]
    broken.write_text("".join(json.dumps(i) + "\n" for i in items) + "not json\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["gold", "check", str(GOLD), str(broken)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("broken.jsonl:")]
    assert lines[-1] == f"broken.jsonl:{len(items) + 1} (no id): The line is not valid JSON (Expecting value at column 1)."
    flagged = {line.split(":")[1].split(" ")[0] for line in lines}
    assert flagged == {str(n) for n in range(1, len(items) + 2)}  # every broken line, and only those
    assert f"Error: Checked {GOLD_ITEMS} in gold.jsonl" in result.output and "problems in" in result.output


def test_evidence_in_a_file_not_in_the_corpus_is_skipped_and_counted(corpus, gold_rows):
    item = _with(evidence=[{"file": "eurostat-asylum-applications-annual-statistics-2024-03-20.html",
                            "quote": "anything"}])
    problems, skipped = check_rows([Row("new.jsonl:1", item)], corpus, gold_rows)
    assert problems == [] and skipped == 1


# --- gold add ------------------------------------------------------------------------------


@pytest.fixture
def gold_copy(tmp_path) -> Path:
    copy = tmp_path / "gold.jsonl"
    shutil.copy(GOLD, copy)
    return copy


def _added(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[GOLD_ITEMS:]]


def test_gold_add_appends_an_item_with_the_next_id_and_the_split_of_its_hash(gold_copy):
    result = invoke("gold", "add", "--gold", str(gold_copy), "--question", GOOD["question"], "--answer", GOOD["answer"],
                    "--type", "lookup", "--evidence", ACTION_FILE, "Action 2", "Commission, MS, Frontex, Eurocontrol",
                    "--style", "formal", "--intent", "who_leads")
    assert result.exit_code == 0, result.output
    [item] = _added(gold_copy)
    assert item["id"] == FIRST and item["split"] == split_of(FIRST) and item["intent"] == "who_leads"
    assert result.output.strip() == f"Added {FIRST} (lookup, split {split_of(FIRST)}) to gold.jsonl."
    assert invoke("gold", "check", str(gold_copy), str(GOLD_NEW)).exit_code == 0


def test_gold_add_refuses_an_item_that_fails_a_check_and_changes_nothing(gold_copy):
    before = gold_copy.read_bytes()
    result = CliRunner().invoke(cli, ["gold", "add", "--gold", str(gold_copy), "--json",
                                      json.dumps({**GOOD, "split": WRONG_SPLIT})])
    assert result.exit_code == 1
    assert "--json q990: The split is" in result.output
    assert result.output.strip().endswith("Error: 1 of 1 items failed the checks and were not added.")
    assert gold_copy.read_bytes() == before


def test_gold_add_from_feedback_adds_complete_reports_and_leaves_drafts_to_complete(gold_copy, tmp_path):
    feedback = tmp_path / "feedback.jsonl"
    drafts = tmp_path / "drafts.jsonl"
    reports = [
        {"question": "what frontex sends to bulgaria for returns", "answer_given": "The documents do not answer this "
         "question.", "comment": "It is in Action 21.", "created_at": "2024-09-01T10:00:00"},
        {"question": GOOD["question"], "answer_given": "Frontex.", "comment": "Eurocontrol is missing.",
         "gold_answer": GOOD["answer"], "type": "lookup", "evidence": GOOD["evidence"]},
        {"question": Q001["question"], "answer_given": "x", "comment": "already in the gold set"},
    ]
    feedback.write_text("".join(json.dumps(r) + "\n" for r in reports), encoding="utf-8")
    args = ["gold", "add", "--gold", str(gold_copy), "--from-feedback", str(feedback), "--drafts", str(drafts)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert [i["question"] for i in _added(gold_copy)] == [GOOD["question"]]
    assert _added(gold_copy)[0]["feedback"] == {"answer_given": "Frontex.", "comment": "Eurocontrol is missing."}
    assert f"feedback.jsonl:1 {FIRST}: The gold answer is empty" in result.output
    assert f"feedback.jsonl:3 {THIRD}: The same question as q001" in result.output
    assert f"2 drafts still need a gold answer, a type or evidence (or repeat a gold question) and were not added; " \
           f"they are in {drafts}" in result.output
    draft = json.loads(drafts.read_text(encoding="utf-8").splitlines()[0])
    assert draft["question"] == reports[0]["question"] and draft["answer"] == "" and draft["evidence"] == []
    assert draft["feedback"]["comment"] == "It is in Action 21." and draft["split"] == split_of(draft["id"])

    again = CliRunner().invoke(cli, args)  # the drafts are not overwritten
    assert again.exit_code == 1 and "already holds drafts" in again.output

    draft.update(answer="Return specialists and interpreters, under the Bulgaria pilot project.", type="lookup",
                 evidence=[{"doc_id": ACTION_FILE, "locator": "Action 21", "quote": "Bulgaria pilot project"}])
    drafts.write_text(json.dumps(draft) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["gold", "add", "--gold", str(gold_copy), "--file", str(drafts)])
    assert result.exit_code == 0, result.output
    assert [i["id"] for i in _added(gold_copy)] == [SECOND, FIRST]


def test_gold_add_takes_exactly_one_source_of_items(gold_copy):
    result = CliRunner().invoke(cli, ["gold", "add", "--gold", str(gold_copy)])
    assert result.exit_code == 1 and "Give the item one way" in result.output
