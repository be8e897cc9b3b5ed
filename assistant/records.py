"""The records handed from one stage of the pipeline to the next, defined once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


_LATER_FIELDS = ("genre", "source_url", "derived", "text_hash")


@dataclass(frozen=True)
class Document:
    """One entry of corpus/documents.json: a source document and what a citation needs."""

    id: str
    title: str
    issuing_body: str  # "" when neither the user nor the document says
    reference: str  # "—" when the document has none
    date: str  # "2024-07-22", "2024-06" (a month only) or "" (undated); see assistant/ingest/dates.py
    kind: str  # by structure: "action_file", "letter" or "general" (vocabulary.DOCUMENT_KINDS)
    language: str  # ISO 639-1
    source_file: str
    notes: str = ""
    missing_actions: tuple[int, ...] = ()
    genre: str = ""  # for labels: "press_release", "report", ... (vocabulary.GENRES); "" = from the kind
    source_url: str = ""  # where the document was published, when the file says so
    derived: tuple[str, ...] = ()  # the fields read from the document itself rather than given
    text_hash: str = ""  # sha256 of the normalized text, for duplicate checks (assistant.ingest.text_fingerprint)

    def __post_init__(self) -> None:  # JSON gives lists; the record keeps tuples
        object.__setattr__(self, "missing_actions", tuple(self.missing_actions))
        object.__setattr__(self, "derived", tuple(self.derived))

    def to_dict(self) -> dict[str, Any]:
        """The documents.json entry; fields added later are left out while empty, so that an
        unchanged entry keeps its content hash (and a served index stays fresh)."""
        data = {name: getattr(self, name) for name in _DOCUMENT_FIELDS}  # flat: asdict's deep copy is not needed
        data["missing_actions"] = list(self.missing_actions)
        data["derived"] = list(self.derived)
        for name in _LATER_FIELDS:
            if not data[name]:
                del data[name]
        return data


_DOCUMENT_FIELDS = tuple(f.name for f in fields(Document))


@dataclass(frozen=True)
class SourceLine:
    """One line of a document's text rendering, with the page it sits on.

    Prose is a line of text; a table row is one line of tab-separated cells that may
    hold HTML fragments. Every loader (text, Markdown, PDF) produces these, so one
    chunker serves all formats.
    """

    text: str
    page: int
    line_no: int


@dataclass
class Unit:
    """The unit a reader cites: an action, an annex item, a letter section, a table."""

    unit_id: str
    doc_id: str
    doc_title: str
    doc_reference: str
    doc_date: str
    doc_kind: str
    kind: str  # "action", "annex_item", "letter_section", "action_plans_table", "cover_note"
    locator: str  # "Action 21", "Annex item 5", "Letter, section 7"
    number: int | None
    title: str
    section: str
    page_start: int
    page_end: int
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    redacted: bool = False
    countries: list[str] = field(default_factory=list)

    @property
    def pages(self) -> str:
        if self.page_start == self.page_end:
            return str(self.page_start)
        return f"{self.page_start}-{self.page_end}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pages"] = self.pages
        return data

    def citation_fields(self) -> dict[str, Any]:
        """Where a passage is: the fields every search result and citation in the JSON contracts carry."""
        return {
            "unit_id": self.unit_id,
            "doc_title": self.doc_title,
            "doc_date": self.doc_date,
            "locator": self.locator,
            "pages": self.pages,
            "doc_reference": self.doc_reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Chunk:
    """A piece of a unit sized for the embedding model; it keeps its unit's id.

    `text` is what is shown and quoted; `index_text` adds the glossary expansions of
    codes and acronyms that occur in it, so that "Bulgaria" finds a row saying "BG".
    """

    chunk_id: str
    unit_id: str
    part: int
    parts: int
    text: str
    index_text: str
    content_hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sentence:
    """A sentence or list item of a unit, verbatim, with the field it belongs to."""

    unit_id: str
    position: int  # order within the unit
    text: str
    field: str  # "title", "lead_actors", "status", "way_ahead", "comments", "body", ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    """One retrieved unit with its best-matching chunk and its score."""

    rank: int
    score: float
    chunk: Chunk
    unit: Unit
    similarity: float = 0.0  # cosine of the question and the unit's best chunk, whatever the mode
    named: bool = False  # the question names this unit by its locator ("action 12"), so it comes first

    def to_dict(self) -> dict[str, Any]:
        """The search JSON contract: keys are stable, new ones may only be added."""
        return {
            "rank": self.rank,
            "chunk_id": self.chunk.chunk_id,
            **self.unit.citation_fields(),
            "doc_id": self.unit.doc_id,
            "score": round(float(self.score), 6),
            "text": self.unit.text,
            "kind": self.unit.kind,
            "section": self.unit.section,
            "matched_part": self.chunk.part,
            "similarity": round(float(self.similarity), 6),
            "fields": dict(self.unit.fields),
            "named_in_question": self.named,
        }


@dataclass
class SearchResult:
    """What a search returns: the question as cleaned, and the ranked units."""

    question: str
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)  # e.g. the stale-index notice

    def to_dict(self) -> dict[str, Any]:
        """The search JSON contract (`assistant search --json`)."""
        return {"question": self.question, "results": [h.to_dict() for h in self.hits], "notes": list(self.notes)}


@dataclass
class Citation:
    """A numbered citation; it can only point at a retrieved unit."""

    n: int
    unit: Unit
    quote: str  # the passage cited (the whole unit text)
    sentences: list[str] = field(default_factory=list)  # the answer sentences taken from it

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            **self.unit.citation_fields(),
            "quote": self.quote,
            "cited_sentences": list(self.sentences),
        }


@dataclass(frozen=True)
class AnswerSentence:
    """One line of an answer: `quote` is verbatim in citation `n`'s passage; `text` shows it."""

    text: str
    quote: str
    n: int
    unit_id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """An answer built from the documents' own sentences, each with a citation."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)
    mode: str = "extractive"
    sentences: list[AnswerSentence] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)  # how the question was read (intent, targets, ...)
    abstention: str = ""  # why it abstained: not_in_documents, nothing_found, redacted, premise_not_supported, not_given
    searched: str = ""  # the question as searched: a follow-up read against the conversation stands alone here
    followup: dict[str, Any] = field(default_factory=dict)  # how a follow-up was read (assistant/answering/conversation.py)

    def to_dict(self) -> dict[str, Any]:
        """The ask JSON contract: keys are stable, new ones may only be added."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [h.to_dict() for h in self.hits],
            "notes": list(self.notes),
            "mode": self.mode,
            "sentences": [s.to_dict() for s in self.sentences],
            "analysis": dict(self.analysis),
            "abstention": self.abstention,
            "searched": self.searched or self.question,
            "followup": dict(self.followup),
        }
