"""Checks of gold items, one plain line per problem: `assistant gold check` and `assistant gold add`.

An item is checked on its own (fields, labels, split, evidence against the corpus' units) and
against the others (ids, the same question, nearly the same question). Evidence comes in two
forms: {"doc_id", "locator", "quote"} for a unit of the corpus (the quote must be verbatim in
that unit's text), and {"file", "quote"} or {"doc_id", "quote"} for a whole document (the quote
must be in one of its units); a file that is not in the corpus yet (the documents of
tests/fixtures/documents/ before their ingestion) is skipped and counted.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from assistant.records import Document, Unit
from eval.gold import ANSWER_TYPES, INTENTS, SPLITS, STYLES, TYPES, UNANSWERABLE, UNANSWERABLE_KINDS, split_of

REQUIRED = ("id", "question", "answer", "type", "evidence")
OPTIONAL = ("split", "intent", "answer_type", "style", "unanswerable_kind", "mentioned_in", "feedback")
LABELS = {"intent": INTENTS, "answer_type": ANSWER_TYPES, "style": STYLES, "unanswerable_kind": UNANSWERABLE_KINDS}
# Two questions whose word sets overlap this much (Jaccard) are near-duplicates. The committed
# gold set's closest distinct pair is at 0.65 ("...has the agreement ... been signed?" vs "On what
# date was the agreement ... signed?"); one word changed in a ten-word question gives 0.82.
NEAR_DUPLICATE_JACCARD = 0.8
MAX_QUESTION_CHARS = 2000  # as assistant.search.MAX_QUESTION_CHARS: a longer question cannot be asked
_ID = re.compile(r"^q(\d+)$")


@dataclass(frozen=True)
class Problem:
    where: str  # "gold.jsonl:12"
    item_id: str
    message: str  # one sentence

    def __str__(self) -> str:
        return f"{self.where} {self.item_id or '(no id)'}: {self.message}"


@dataclass(frozen=True)
class Row:
    """One line of a gold file, parsed (data) or not (error)."""

    where: str
    data: object = None
    error: str = ""

    @property
    def item_id(self) -> str:
        return str(self.data.get("id", "")) if isinstance(self.data, dict) else ""


@dataclass
class Corpus:
    """What evidence is checked against: the corpus' documents and units."""

    documents: dict[str, Document]
    units: dict[tuple[str, str], Unit]
    by_document: dict[str, list[Unit]]
    files: dict[str, str]  # source file name -> document id

    @classmethod
    def load(cls, corpus_dir: Path) -> Corpus:
        from assistant.chunking import load_units

        documents, units = load_units(corpus_dir)
        by_document: dict[str, list[Unit]] = {}
        for unit in units:
            by_document.setdefault(unit.doc_id, []).append(unit)
        return cls({d.id: d for d in documents}, {(u.doc_id, u.locator): u for u in units}, by_document,
                   {Path(d.source_file).name: d.id for d in documents})


@dataclass
class Report:
    problems: list[Problem]
    items: dict[str, int] = field(default_factory=dict)  # file name -> items read
    skipped_quotes: int = 0  # evidence in files that are not in the corpus yet

    def summary(self) -> str:
        files = ", ".join(f"{n} in {name}" for name, n in self.items.items())
        skipped = (f"; {self.skipped_quotes} evidence quotes name files not in the corpus and were not checked"
                   if self.skipped_quotes else "")
        if not self.problems:
            return f"Checked {files}: no problems{skipped}."
        return f"Checked {files}: {len(self.problems)} problems in {len({(p.where, p.item_id) for p in self.problems})} items{skipped}."


# --- reading ---------------------------------------------------------------------------


def read_rows(path: Path) -> list[Row]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            rows.append(Row(where, json.loads(line)))
        except json.JSONDecodeError as exc:
            rows.append(Row(where, error=f"the line is not valid JSON ({exc.msg} at column {exc.colno})."))
    return rows


# --- one item ------------------------------------------------------------------------------


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def item_problems(row: Row, corpus: Corpus, skipped: list[int] | None = None) -> list[str]:
    """Problems of one item on its own, each one sentence."""
    if row.error:
        return [row.error]
    item = row.data
    if not isinstance(item, dict):
        return ["the line is not a JSON object."]
    problems = [f"the field {name!r} is missing." for name in REQUIRED if name not in item]
    problems += [f"the field {name!r} is not a gold field (known: {', '.join(REQUIRED + OPTIONAL)})."
                 for name in item if name not in REQUIRED + OPTIONAL]
    item_id = item.get("id")
    if "id" in item and not (_text(item_id) and not re.search(r"\s", str(item_id))):
        problems.append("the id must be a non-empty string without spaces.")
    if "question" in item:
        question = item["question"]
        if not _text(question):
            problems.append("the question is empty.")
        elif len(question) > MAX_QUESTION_CHARS:
            problems.append(f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,}.")
    if "answer" in item and not _text(item["answer"]):
        problems.append("the gold answer is empty; write the short answer the documents give (or why they do not).")
    kind = item.get("type")
    if "type" in item and kind not in TYPES:
        problems.append(f"the type {kind!r} is not one of {', '.join(TYPES)}.")
    if "split" in item:
        split = item["split"]
        if split not in SPLITS:
            problems.append(f"the split {split!r} is not one of {', '.join(SPLITS)}.")
        elif _text(item_id) and split != split_of(str(item_id)):
            problems.append(f"the split is {split!r} but the hash of its id puts it in {split_of(str(item_id))!r} "
                            "(eval.gold.split_of).")
    for name, known in LABELS.items():
        value = item.get(name)
        if value not in (None, "") and value not in known:
            problems.append(f"the {name} {value!r} is not one of {', '.join(known)}.")
    if item.get("unanswerable_kind") and kind in TYPES and kind != UNANSWERABLE:
        problems.append("an answerable item has an unanswerable_kind; drop it or make the type 'unanswerable'.")
    evidence = item.get("evidence")
    if "evidence" in item:
        if not isinstance(evidence, list):
            problems.append("the evidence must be a list.")
        else:
            if kind == UNANSWERABLE and evidence:
                problems.append("an unanswerable item has evidence; an item the documents answer is not unanswerable.")
            if kind in TYPES and kind != UNANSWERABLE and not evidence:
                problems.append("an answerable item needs evidence: at least one {doc_id, locator, quote} "
                                "with a verbatim quote from that unit.")
            for number, entry in enumerate(evidence, start=1):
                problems += [f"evidence {number}: {p}" for p in evidence_problems(entry, corpus, skipped)]
    mentioned = item.get("mentioned_in")
    if mentioned is not None:
        if not isinstance(mentioned, list):
            problems.append("mentioned_in must be a list.")
        else:
            for number, entry in enumerate(mentioned, start=1):
                problems += [f"mentioned_in {number}: {p}" for p in place_problems(entry, corpus)]
    return problems


def evidence_problems(entry: object, corpus: Corpus, skipped: list[int] | None = None) -> list[str]:
    if not isinstance(entry, dict):
        return ["it must be an object {doc_id, locator, quote} or {file, quote}."]
    keys = set(entry)
    if keys not in ({"doc_id", "locator", "quote"}, {"file", "quote"}, {"doc_id", "quote"}):
        return [f"it has the fields {', '.join(sorted(keys)) or 'none'}; use {{doc_id, locator, quote}} or {{file, quote}}."]
    quote = entry["quote"]
    if not _text(quote):
        return ["the quote is empty."]
    if "file" in entry:
        doc_id = corpus.files.get(Path(str(entry["file"])).name)
        if doc_id is None:
            if skipped is not None:
                skipped[0] += 1
            return []  # a document not ingested yet: nothing to check it against
        return _in_document(quote, doc_id, corpus, f"the file {entry['file']}")
    doc_id = entry["doc_id"]
    if doc_id not in corpus.documents:
        return [f"the document {doc_id!r} is not in the corpus (known: {', '.join(corpus.documents)})."]
    if "locator" not in entry:
        return _in_document(quote, doc_id, corpus, f"the document {doc_id}")
    unit = corpus.units.get((doc_id, entry["locator"]))
    if unit is None:
        return [f"{entry['locator']!r} is not a unit of {doc_id} (`assistant chunks --units` lists them)."]
    if quote in unit.text:
        return []
    if _folded(quote) in _folded(unit.text):
        return [f"the quote is in {unit.locator} of {doc_id} only with other spacing or case; copy it verbatim."]
    return [f"the quote is not verbatim in {unit.locator} of {doc_id}."]


def _in_document(quote: str, doc_id: str, corpus: Corpus, name: str) -> list[str]:
    """A quote for a whole document: in one of its units' text, or a section heading of it."""
    units = corpus.by_document.get(doc_id, [])
    if any(quote in u.text or quote in u.section for u in units):
        return []
    return [f"the quote is not verbatim in any unit of {name}."]


def place_problems(entry: object, corpus: Corpus) -> list[str]:
    """A mentioned_in entry: {doc_id, locator} of a unit, {doc_id} or {file}."""
    if not isinstance(entry, dict) or not ({"doc_id", "file"} & set(entry)):
        return ["it must be an object {doc_id, locator} or {file}."]
    if "file" in entry:
        return []
    doc_id = entry["doc_id"]
    if doc_id not in corpus.documents:
        return [f"the document {doc_id!r} is not in the corpus."]
    if entry.get("locator") and (doc_id, entry["locator"]) not in corpus.units:
        return [f"{entry['locator']!r} is not a unit of {doc_id}."]
    return []


# --- across items -----------------------------------------------------------------------


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def normalised_question(question: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: 'What is EMPACT?' == 'what is empact'."""
    return " ".join(re.findall(r"\w+", _folded(question)))


def question_words(question: str) -> frozenset[str]:
    return frozenset(normalised_question(question).split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def duplicate_problems(rows: list[Row], checked: set[int]) -> dict[int, list[str]]:
    """Same id, same question, nearly the same question; reported on the later row of a pair, if it is checked."""
    found: dict[int, list[str]] = {}
    items = [(i, r.data) for i, r in enumerate(rows) if isinstance(r.data, dict) and _text(r.data.get("question"))]
    seen_ids: dict[str, int] = {}
    for i, row in enumerate(rows):
        item_id = row.item_id
        if item_id and item_id in seen_ids and i in checked:
            found.setdefault(i, []).append(f"the id is also used at {rows[seen_ids[item_id]].where}.")
        seen_ids.setdefault(item_id, i)
    words = {i: question_words(item["question"]) for i, item in items}
    plain = {i: normalised_question(item["question"]) for i, item in items}
    for (i, a), (j, b) in combinations(items, 2):
        if j not in checked:
            continue
        other = f"{a.get('id', '?')} ({rows[i].where})"
        if plain[i] == plain[j]:
            found.setdefault(j, []).append(f"the same question as {other}.")
        else:
            overlap = jaccard(words[i], words[j])
            if overlap >= NEAR_DUPLICATE_JACCARD:
                found.setdefault(j, []).append(f"nearly the same question as {other} (word overlap {overlap:.2f}); "
                                               "ask something the gold set does not already ask.")
    return found


def check_rows(rows: list[Row], corpus: Corpus, existing: list[Row] = ()) -> tuple[list[Problem], int]:
    """Problems of `rows` (on their own and against each other and `existing`, whose own problems are not
    reported), and how many quotes were skipped because their file is not in the corpus."""
    skipped = [0]
    everything = [*existing, *rows]
    checked = set(range(len(existing), len(everything)))
    duplicates = duplicate_problems(everything, checked)
    problems = []
    for position, row in enumerate(everything):
        if position not in checked:
            continue
        for message in [*item_problems(row, corpus, skipped), *duplicates.get(position, [])]:
            problems.append(Problem(row.where, row.item_id, _sentence(message)))
    return problems, skipped[0]


def _sentence(message: str) -> str:
    return message[0].upper() + message[1:] if message else message


def check_files(paths: list[Path], corpus_dir: Path) -> Report:
    """Every item of every file, each file's items also checked against the files before it."""
    corpus = Corpus.load(corpus_dir)
    rows: list[Row] = []
    counts: dict[str, int] = {}
    for path in paths:
        rows += read_rows(path)
        counts[path.name] = sum(1 for r in rows if r.where.startswith(path.name + ":"))
    problems, skipped = check_rows(rows, corpus)
    return Report(problems, counts, skipped)


# --- adding --------------------------------------------------------------------------------


def next_id(rows: list[Row], taken: set[str] = frozenset()) -> str:
    """The next free q-number after the highest in use: q525 after q524."""
    numbers = [int(m.group(1)) for r in rows for m in [_ID.match(r.item_id)] if m]
    numbers += [int(m.group(1)) for t in taken for m in [_ID.match(t)] if m]
    return f"q{max(numbers, default=0) + 1:03d}"


FIELD_ORDER = ("id", "question", "answer", "type", "evidence", "intent", "answer_type", "style", "unanswerable_kind",
               "mentioned_in", "feedback", "split")


def complete(item: dict, rows: list[Row], taken: set[str]) -> dict:
    """The item with an id (the next free one if it has none) and the split its id's hash gives (if it has none)."""
    item = dict(item)
    if not _text(item.get("id")):
        item["id"] = next_id(rows, taken)
    item.setdefault("split", split_of(str(item["id"])))
    ordered = {name: item[name] for name in FIELD_ORDER if name in item}
    ordered.update({k: v for k, v in item.items() if k not in ordered})
    return ordered


def draft_from_feedback(record: object) -> dict:
    """A draft gold item from one "this answer is wrong" report: the question, and the report kept under "feedback".

    The draft still needs a gold answer, a type and evidence unless the report already carries
    them ("gold_answer" or "correct_answer", "type", "evidence").
    """
    if not isinstance(record, dict) or not _text(record.get("question")):
        raise ValueError("the line is not a feedback report with a question.")
    mapped = {"question", "gold_answer", "correct_answer", "type", "evidence", "intent", "answer_type", "style",
              "unanswerable_kind"}
    draft = {"question": " ".join(record["question"].split()),
             "answer": record.get("gold_answer") or record.get("correct_answer") or "",
             "type": record.get("type", ""), "evidence": record.get("evidence", [])}
    for name in ("intent", "answer_type", "style", "unanswerable_kind"):
        if record.get(name):
            draft[name] = record[name]
    draft["feedback"] = {k: v for k, v in record.items() if k not in mapped}
    return draft


def append_items(path: Path, items: list[dict]) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    with path.open("a", encoding="utf-8") as handle:
        if text and not text.endswith("\n"):
            handle.write("\n")
        for item in items:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
