"""The gold set: questions with short answers and verbatim evidence keyed to citable units.

Each item's split is fixed by a hash of its id (`split_of`), so a question never moves
between the split a model was fitted on and the split it is reported on:
  fit        40%  the sentence ranker is trained on these
  calibrate  20%  the abstention decision is calibrated on these
  test       40%  every reported figure
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.errors import AssistantError

UNANSWERABLE = "unanswerable"
SPLITS = ("fit", "calibrate", "test")
# The labels an item may carry (`assistant gold check` refuses others).
TYPES = ("lookup", "status", "number", "paraphrase", "multi", UNANSWERABLE)
INTENTS = ("status", "who_leads", "person", "when", "how_much", "how_many", "list", "comparison", "definition",
           "where", "why", "what_done", "yes_no", "other")  # the intents of assistant/answering/analysis.py
ANSWER_TYPES = ("status", "organisation", "person", "date", "amount", "count", "list", "text", "place", "yes_no",
                "country")
STYLES = ("formal", "user")
UNANSWERABLE_KINDS = (
    "missing_unit",  # names an action or annex item the copy does not hold (actions 24-28)
    "redacted",  # the answer is behind [REDACTED]
    "figure_not_given",  # the documents touch the subject but give no such figure or date
    "person_not_named",  # asks for a name the documents do not give
    "not_mentioned",  # a country, body or programme the documents never mention
    "after_documents",  # an event after the newest document
    "false_premise",  # presupposes something the documents contradict or do not say
    "out_of_scope",  # not about EU migration policy at all
)


def split_of(item_id: str) -> str:
    """fit, calibrate or test, from the first byte of the id's SHA-256 (0-3 fit, 4-5 calibrate, 6-9 test)."""
    bucket = hashlib.sha256(item_id.encode("utf-8")).digest()[0] % 10
    return "fit" if bucket < 4 else "calibrate" if bucket < 6 else "test"


@dataclass(frozen=True)
class Evidence:
    doc_id: str
    locator: str
    quote: str


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answer: str
    type: str
    evidence: tuple[Evidence, ...]
    split: str = ""
    intent: str = ""  # status, who_leads, when, how_much, how_many, list, ... ("" on the first 90 items)
    answer_type: str = ""  # date, amount, count, organisation, person, list, status, ...
    style: str = ""  # "formal" or "user" (short, lower-case, misspelt, everyday words)
    unanswerable_kind: str = ""  # figure_not_given, redacted, after_documents, false_premise, ...
    mentioned_in: tuple[tuple[str, str], ...] = field(default=())  # (doc_id, locator) of units naming the target

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


def load_gold(path: Path) -> list[GoldItem]:
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(GoldItem(
                row["id"], row["question"], row["answer"], row["type"],
                tuple(Evidence(**e) for e in row["evidence"]),
                split=row.get("split") or split_of(row["id"]),
                intent=row.get("intent", ""), answer_type=row.get("answer_type", ""), style=row.get("style", ""),
                unanswerable_kind=row.get("unanswerable_kind", ""),
                mentioned_in=tuple((m["doc_id"], m.get("locator", "")) for m in row.get("mentioned_in", [])),
            ))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise AssistantError(f"Line {line_no} of {path.name} is not a gold item with id, question, answer, type and evidence.") from None
    return items


TRANSLATIONS = Path(__file__).with_name("gold_languages.jsonl")


def load_translations(path: Path, gold: list[GoldItem]) -> list[GoldItem]:
    """The gold questions asked in users' other languages (id, source, language, question per line): each is its
    English source item with the question translated, so its evidence, answer and split are the source's.

    Written by translating the source questions without running the system; a translation never leaves its
    source's split, so no question is fitted on in one language and reported in another."""
    by_id = {item.id: item for item in gold}
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items.append(replace(by_id[row["source"]], id=row["id"], question=row["question"]))
    return items
