"""Follow-up questions read against the conversation: "and Greece?" becomes a question that stands alone.

An analyst asks "what is the status of returns cooperation with Bulgaria?", then "and
Greece?", "who leads it?", "what about the way ahead?", "and in 2023?". Each follow-up is
rewritten into the standalone question a person would have typed, from the earlier turns,
and that is what is searched (the app shows it: "Searched: ..."). No model is needed: the
rules work on classes of follow-ups, read with `analyse` (targets, intent, years):

- substitution: a fragment naming a new entity ("and Greece?", "what about Europol?",
  "and action 12?", "and in 2023?") takes the previous question and puts the new entity in
  the place of the one of the same kind (country, organisation, programme, unit, year);
- reference: a pronoun ("who leads it?", "is Greece using it?", "what was agreed there?",
  "when did its steering committee meet?") is replaced by what the previous question was
  about (its topic: the phrase with its targets, without the question's frame);
- ellipsis: a short question with no target of its own ("how many counselling sessions?",
  "since when?", "has the contract been signed?", "what about the way ahead?") keeps its
  own frame and gets the previous topic added;
- time and document scope: "back then", "at the time", "what happened next", "before that",
  "the 2023 letter" are made explicit ("in 2023", "after June 2023"), and a unit of another
  document is not carried over.

The unit the previous answer cited first is carried ("(Action 21)", which retrieval then
reads first) only when the follow-up brings no target of its own, stays within that unit's
document and time, and its own words occur in that unit; otherwise the topic words alone are
searched. A question that names its own targets with no pronoun is left as it is.

Each turn is kept as a `ContextTurn` (the question, what was searched, the topic, the units
cited first), passed to `Engine.ask` in `Query.context` as JSON strings, oldest first; a plain
string there is an earlier question with nothing else known.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

from assistant.answering.analysis import YEAR, analyse
from assistant.index.bm25 import tokenize
from assistant.ingest import Glossary, human_date, short_label
from assistant.records import Answer, Document, Unit
from assistant.vocabulary import FIELD_LABELS, GENRES

MAX_TURNS = 6  # earlier turns a follow-up is read against: the cost of a question does not grow with the conversation
SHORT = 3  # a question with at most this many content words and no target of its own leans on the previous turn
ANCHOR_OVERLAP = 0.5  # share of the follow-up's own word stems that must occur in the unit carried over

KINDS = ("standalone", "substitution", "reference", "ellipsis")

# --- words -----------------------------------------------------------------------------------------

_STOP = frozenset("""a an the of to in on for and or by with from at as is are was were be been being has have had do does
did what which who whom whose when where why how that this these those it its into about under over after before than then
there their they them he she his her we our you your i me my can could should would will shall may might must not no so
such any all some each other more most much many few own same also just only very too eu tell please know anything else
here now yet still well next again back far since ever already currently today latest""".split())
_CONNECTOR = re.compile(r"^\W*(?:(?:and|but|also|so|ok(?:ay)?|well|then|now|right)\b[\s,]*)+", re.IGNORECASE)
_QUESTION_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|has|have|had|do|does|did|"
                            r"will|would|can|could|should|shall|may|might|must|tell|list|give|show|describe|explain)\b",
                            re.IGNORECASE)
# "what about X", "and for X", "same for X", "as for X", "how about X"
_FRAGMENT = re.compile(r"^\W*(?:(?:and|but|also|so|ok(?:ay)?)[\s,]+)?(?:(?:what|how)\s+about|what\s+of|as\s+for|regarding|"
                       r"(?:and\s+)?(?:the\s+)?same\s+(?:for|with|in|about)|and\s+(?:for|in|with|regarding|on|at|about|by))"
                       r"\s+(?P<x>.+?)\W*$", re.IGNORECASE)
_AND_X = re.compile(r"^\W*(?:and|but|also|or|plus)[\s,]+(?P<x>.+?)\W*$", re.IGNORECASE)
_TOO = re.compile(r"^\W*(?:and\s+)?(?P<x>.+?)\s+(?:too|as well)\W*$", re.IGNORECASE)
_FRAGMENT_WORDS = 6  # "and the western borders?" is a fragment; a longer tail is a question of its own

# Pronouns that stand for what the previous question was about.
_PRONOUN = re.compile(r"\b(?:that one|this one|the same|the latter|the former|it|this|these|those|them|they)\b", re.IGNORECASE)
# "that" standing for a thing: after a preposition or an auxiliary ("about that", "did that ..."), or at the end.
_THAT = re.compile(r"(?:\b(?:about|of|for|on|with|in|to|from|by|after|before|since|at|than|did|does|do|is|was|are|were|has|"
                   r"had|will|would|can|could)\s+|^\W*)(?P<word>that)\b(?!\s+(?:the|a|an|it|they|there|he|she|we)\b)|"
                   r"\b(?P<end>that)(?=\s*(?:[?.!,;]|$))", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(?:its|their)\b", re.IGNORECASE)
_THERE = re.compile(r"\bthere\b", re.IGNORECASE)
_EXISTENTIAL_THERE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+there\b|\bthere\s+(?:is|are|was|were|be|been|has|"
                                r"have|had|will|would|seems?)\b", re.IGNORECASE)
# Time said relative to the previous answer.
_BACK_THEN = re.compile(r"\b(?:back then|at (?:that|the) time|(?:back )?in those days|then)\b", re.IGNORECASE)
_NEXT = re.compile(r"\b(?:next|after that|afterwards|later(?: on)?|since then|subsequently|what happened then)\b", re.IGNORECASE)
_BEFORE = re.compile(r"\b(?:before that|before then|earlier|previously|prior to that)\b", re.IGNORECASE)
_NOW = re.compile(r"\b(?:now|currently|today|at present|these days|latest)\b", re.IGNORECASE)

# The question's frame, taken off to leave what it is about.
_FRAME = re.compile(
    r"^\W*(?:(?:and|but|also|so|ok(?:ay)?|well)[\s,]+)*"
    r"(?:(?:please\s+)?(?:tell me|can you tell me|do you know|i want to know|explain|describe|list|summari[sz]e|show me)"
    r"(?:\s+(?:about|what|how|who|when|whether|if))?\s+)?"
    r"(?:(?:what|which|who|whom|whose|when|where|why|how)(?:'s|s)?(?:\s+(?:much|many|far|long|often|soon|exactly))?\s+)?"
    r"(?:(?:is|are|was|were|has|have|had|does|do|did|will|would|can|could|should|shall)\s+)?"
    r"(?:(?:being|been|there)\s+)?",
    re.IGNORECASE)
_ASPECT = re.compile(r"^(?:the\s+)?(?:current\s+|latest\s+|overall\s+)?(?:status|state of play|state|progress|situation|latest|"
                     r"news|update|role|purpose|aim|goal|point|content|outcome|result|results)\s+(?:of|on|with|for|in|about)\s+",
                     re.IGNORECASE)
_TIME_PHRASE = re.compile(r"\s*\b(?:(?:since|in|from|by|until|before|after|during|for)\s+(?:(?:early|mid|late|the end of)\s+)?"
                          r"(?:(?:\d{1,2}\s+)?[A-Z][a-z]+\s+)?(?:19|20)\d\d(?:\s*[-–/]\s*(?:19|20)?\d\d)?|so far|to date|"
                          r"until now|by now|up to now|now|currently|today|yet|at the moment|at present|these days)\b",
                          re.IGNORECASE)
_AUXILIARY = frozenset("is are was were be been being has have had do does did will would can could should shall may might "
                       "must to not".split())
_VERB_STEMS = ("say|said|mean|meant|do|done|doing|make|made|get|got|go|went|gone|take|took|taken|give|gave|given|put|"
               "want|happen|include|cover|stand|meet|met|agree|propose|suggest|ask|announce|intend|implement|spend|"
               "provide|prepare|discuss|involve|achieve|sign|adopt|launch|start|begin|began|begun|decide|conclude|"
               "become|became|receive|aim|expect|continue|remain|deploy|establish|develop|set|hold|held|organi[sz]e|"
               "present|publish|finish|complete|end|stop|join|leave|left")
_VERB = re.compile(r"^(?:" + _VERB_STEMS + r")(?:s|es|ed|d|ing)?$", re.IGNORECASE)
# Words that are nouns as often as verbs ("the action plan", "Frontex support"): verbs only after an auxiliary or a pronoun.
_NOUN_OR_VERB = re.compile(r"^(?:plan|use|support|work|report|fund|run|lead|need|show|deal|concern|help|cost|change|"
                           r"increase|return|control|manage|focus|finance|visit|review|result)(?:s|es|ed|d|ing)?$",
                           re.IGNORECASE)
_PREPOSITION = frozenset("of on in at with for to from by about into onto under over between among against through "
                         "within without via per towards toward across along during".split())
_ORGANISATION = re.compile(r"\b(?:agency|office|organi[sz]ation|service|centre|center|council|commission|parliament|"
                           r"delegations?|presidency|board|committee|ministry|network|court|bank|police)\b", re.IGNORECASE)
_ASPECT_FIELDS = {  # a fragment naming a field of a unit asks for that field of the same thing
    "way ahead": "What is the way ahead for {topic}",
    "next steps": "What are the next steps for {topic}",
    "status": "What is the status of {topic}",
    "state of play": "What is the state of play of {topic}",
    "lead actors": "Who leads {topic}", "lead actor": "Who leads {topic}", "lead": "Who leads {topic}",
    "comments": "What do the comments say about {topic}",
    "budget": "What is the budget of {topic}", "funding": "How much funding goes to {topic}",
    "timeline": "What is the timeline of {topic}", "deadline": "What is the deadline for {topic}",
}


def _content_words(text: str) -> list[str]:
    words = re.findall(r"[\wÀ-ÿ'-]+", text.lower())
    return [w for w in words if w not in _STOP and not w.isdigit() and len(w) > 1]


def _stems(text: str) -> set[str]:
    return set(tokenize([text])[0]) if text.strip() else set()


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([?,;.!)])", r"\1", " ".join(text.split()))
    return re.sub(r"\(\s+", "(", text).strip(" ,;")


def _core(text: str) -> str:
    """A question without its closing question mark and spaces."""
    return text.strip().rstrip("?!. ").strip()


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# --- the turns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextTurn:
    """An earlier turn, as a follow-up needs it: what was asked, what was searched, about what, citing which units."""

    question: str
    searched: str = ""  # the standalone question searched ("" = the question itself)
    topic: str = ""  # what the turn was about ("the Bulgaria pilot project on returns"); "" = read from the question
    units: tuple[str, ...] = ()  # unit ids the answer cited, in answer order (then the best passages)
    anchor: str = ""  # the locator carried into `searched`, if any ("Action 21")

    @property
    def standalone(self) -> str:
        return self.searched or self.question

    def to_context(self) -> str:
        """The turn as one string for `Query.context`."""
        data = {k: v for k, v in asdict(self).items() if v}
        data["units"] = list(self.units)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_context(cls, item: object) -> ContextTurn:
        """A turn from `Query.context`: the JSON of `to_context`, or a plain earlier question."""
        if isinstance(item, ContextTurn):
            return item
        text = str(item)
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("question"), str):
                return cls(data["question"], str(data.get("searched", "")), str(data.get("topic", "")),
                           tuple(str(u) for u in data.get("units", ()) if u), str(data.get("anchor", "")))
        return cls(text)


@dataclass(frozen=True)
class Resolution:
    """How a question was read against the conversation."""

    question: str  # as asked
    searched: str  # the standalone question that is searched
    kind: str = "standalone"  # standalone, substitution, reference, ellipsis
    topic: str = ""  # what this turn is about, for the next follow-up
    carried: str = ""  # the earlier topic brought in ("" when none)
    anchor: str = ""  # the locator of the earlier unit carried over ("" when none)
    documents: tuple[str, ...] = ()  # the one document the follow-up names ("the 2023 letter"): searched alone
    reasons: tuple[str, ...] = ()  # why, in words, for people and tests

    @property
    def changed(self) -> bool:
        return self.searched != self.question

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        data["documents"] = list(self.documents)
        data["changed"] = self.changed
        return data


def context_turn(answer: Answer, question: str = "") -> ContextTurn:
    """The turn an answer makes, to hand to the next question's `Query.context`."""
    rank = {h.unit.unit_id: h.rank for h in answer.hits}
    # The cited unit retrieval ranked best leads: a change-over-time answer cites the oldest document first.
    units = sorted(dict.fromkeys(c.unit.unit_id for c in answer.citations), key=lambda u: rank.get(u, len(rank) + 1))
    units += [h.unit.unit_id for h in answer.hits[:2] if h.unit.unit_id not in units]
    followup = answer.followup or {}
    searched = answer.searched if answer.searched and answer.searched != answer.question else ""
    return ContextTurn(question or answer.question, searched, str(followup.get("topic", "")), tuple(units),
                       str(followup.get("anchor", "")))


# --- what a question is about ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    kind: str  # country, organisation, programme, unit, name, year
    value: str  # canonical: "Greece", "Europol", "Action 12", "2023"
    start: int
    end: int


def _term_kind(term: str, glossary: Glossary) -> str:
    expansion = next((a.expansion for a in glossary.acronyms if a.term == term), "")
    return "organisation" if _ORGANISATION.search(expansion) else "programme"


_LOCATOR = re.compile(r"\b(?:annex\s+items?|actions?|items?|sections?|measures?|pillars?|paragraphs?|points?|"
                      r"recommendations?)\s+(?:no\.?\s*|nr\.?\s*|number\s+|#\s*)?\d{1,3}(?:\.\d{1,3}){0,3}\b", re.IGNORECASE)


def mentions(text: str, glossary: Glossary) -> list[Mention]:
    """The entities a text names, where, and of which kind, in reading order."""
    found: list[Mention] = []
    for country in glossary.countries:
        names = sorted((country.name, *country.aliases), key=len, reverse=True)
        patterns = [re.compile(r"(?<![\w-])" + re.escape(n) + r"(?:'s)?(?![\w-])", re.IGNORECASE) for n in names]
        if country.code:
            patterns.append(re.compile(r"(?<![\w-])" + re.escape(country.code) + r"(?![\w-])"))
        for pattern in patterns:
            for match in pattern.finditer(text):
                found.append(Mention("country", country.name, match.start(), match.end()))
    for term in glossary.terms_in(text):
        flags = 0 if term.isupper() and len(term) < 5 else re.IGNORECASE
        for match in re.finditer(r"(?<![\w-])" + re.escape(term) + r"s?(?![\w-])", text, flags):
            found.append(Mention(_term_kind(term, glossary), term, match.start(), match.end()))
    for match in _LOCATOR.finditer(text):
        found.append(Mention("unit", " ".join(match.group(0).split()), match.start(), match.end()))
    for match in YEAR.finditer(text):
        found.append(Mention("year", match.group(0), match.start(), match.end()))
    known = [(m.start, m.end) for m in found]
    for name in analyse(text, glossary).targets.names:
        if name in {m.value for m in found} or re.fullmatch(r"(?:January|February|March|April|May|June|July|August|"
                                                                 r"September|October|November|December)", name):
            continue
        for match in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text):
            if not any(s <= match.start() < e for s, e in known):
                found.append(Mention("name", name, match.start(), match.end()))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Mention] = []
    for mention in found:  # overlapping mentions: the longest, first
        if kept and mention.start < kept[-1].end:
            continue
        kept.append(mention)
    return kept


def topic_of(question: str, glossary: Glossary) -> str:
    """What a question is about: its phrase with the targets, without the question's frame or its time words.

    "What has the Bulgaria pilot project on returns achieved so far?" -> "the Bulgaria pilot project on returns";
    "How much is the EU putting into surveillance at Türkiye's border with Iran?" -> "surveillance at Türkiye's
    border with Iran"; "What is RECAMAS?" -> "RECAMAS".
    """
    text = re.sub(r"\s*\([^()]*\)\s*", " ", question)  # what an earlier resolution added
    text = _core(text)
    text = _FRAME.sub("", text, count=1)
    focus = ""
    match = re.match(r"^(?:the\s+)?([a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s+(?=(?:is|are|was|were|has|have|had|does|do|did|will|"
                     + _VERB_STEMS + r")(?:s|es|ed|d)?\b)", text, re.IGNORECASE) if re.match(r"^\W*(?:what|which|how many|how much)\s+(?!is|are|was|were|has|"
                                                      r"have|had|does|do|did|will)\w", question, re.IGNORECASE) else None
    if match and match.group(1).split()[0].lower() not in _AUXILIARY:
        focus = match.group(1)  # "What meeting was ..." -> "meeting"; "How many pledges did ..." -> "pledges"
    first = text.split()[0] if text.split() else ""
    if re.match(r"^\W*(?:who|what|which)\s+" + re.escape(first) + r"\b", question, re.IGNORECASE) and (
            _VERB.match(first) or _NOUN_OR_VERB.match(first)):
        text = text[len(first):].lstrip()  # "Who leads action 16" -> "action 16"
    text = _ASPECT.sub("", text)
    text = _TIME_PHRASE.sub(" ", text)
    segments = _segments(text)
    if not segments:
        return focus
    scored = []
    targets = mentions(question, glossary)
    for position, segment in enumerate(segments):
        inside = [m for m in mentions(segment, glossary) if m.kind != "year"]
        score = (any(m.kind == "unit" for m in inside), len({m.value for m in inside}), len(_content_words(segment)),
                 position)
        scored.append((score, segment))
    best = max(scored)[1]
    if focus and focus.lower() not in best.lower():
        if not targets or not any(m.kind == "unit" for m in targets):
            return f"the {focus} of {best}" if best.lower().startswith("the ") else f"{focus}, {best}"
    return best


def _segments(text: str) -> list[str]:
    """The noun phrases of a question's remainder: split at verbs, leading prepositions dropped."""
    words = text.split()
    segments: list[list[str]] = [[]]
    for position, word in enumerate(words):
        bare = word.strip(",;:.?!\"“”").lower()
        before = words[position - 1].strip(",;").lower() if position else ""
        verbish = bare in _AUXILIARY - {"to", "not"} or bool(_VERB.match(bare)) and before not in ("the", "a", "an") or (
            bool(_NOUN_OR_VERB.match(bare)) and (before in _AUXILIARY or before in ("it", "they", "we", "he", "she"))) or (
            re.fullmatch(r"[a-z]{3,}(?:ed|ing)", bare) is not None and position + 1 < len(words)
            and words[position + 1].strip(",;").lower() in _PREPOSITION | {"the", "a", "an"} and segments[-1] != []
            and not words[position - 1].lower() in ("the", "a", "an"))
        if verbish or bare in ("and", "or", "but") and position + 1 < len(words) and _VERB.match(words[position + 1]):
            segments.append([])
            continue
        if bare in ("when", "where", "which", "who", "whether", "if", "because", "while"):
            segments.append([])
            continue
        segments[-1].append(word.strip(",;:?!\"“”"))
    cleaned = []
    for segment in segments:
        while segment and segment[0].lower() in _PREPOSITION | {"and", "or"}:
            segment = segment[1:]
        while segment and (segment[-1].lower() in _PREPOSITION | _STOP and segment[-1].lower() != "it"
                           or len(segment) > 1 and re.fullmatch(r"[a-z]{3,}ed", segment[-1])):
            segment = segment[:-1]  # "the pilot project on returns achieved" -> "the pilot project on returns"
        phrase = " ".join(segment)
        if _content_words(phrase) or re.search(r"\d", phrase):
            cleaned.append(phrase)
    return cleaned


# --- documents and time ------------------------------------------------------------------------------------


def _year(date: str) -> str:
    return date[:4] if re.match(r"\d{4}", date or "") else ""


def scope_documents(question: str, documents: Sequence[Document], units: Iterable[Unit] = (),
                    annex_docs: set[str] | None = None) -> set[str]:
    """Ids of the documents a question restricts itself to ("the 2023 letter", "the annex", "in 2024"), or none.

    `annex_docs` are the documents with annex items, when known (the index has them without a pass over the units);
    else they are read from `units`.
    """
    # "in 2023", "the 2023 letter" restrict to 2023; "since 2023", "before 2024" do not name one year's documents.
    years = {m.group(0) for m in YEAR.finditer(question)
             if not re.search(r"\b(?:since|after|from|until|till|before|by|post|pre|through)\s+(?:\w+\s+)?$",
                              question[:m.start()], re.IGNORECASE)}
    lowered = question.lower()
    if annex_docs is None:
        annex_docs = {u.doc_id for u in units if u.kind == "annex_item"}
    by_year = {d.id for d in documents if _year(d.date) in years} if years else set()
    by_kind: set[str] = set()
    for document in documents:
        names = {GENRES.get(document.genre, document.genre), GENRES.get(document.kind, ""),
                 document.kind.replace("_", " ")} - {"", "document"}
        if any(re.search(r"\b" + re.escape(name) + r"s?\b", lowered) for name in names):
            by_kind.add(document.id)
    if re.search(r"\bannex(?:es)?\b", lowered):
        by_kind |= annex_docs
    if by_year and by_kind:
        return (by_year & by_kind) or by_year
    return by_year or by_kind


# --- resolving ------------------------------------------------------------------------------------------


@dataclass
class _Reading:
    """The follow-up, read once."""

    text: str  # as asked, cleaned
    body: str  # without a leading "and", "so", ...
    fragment: str  # the X of "and X?", "what about X?", "X too?" ("" when the question is a question of its own)
    own: list[Mention]  # entities it names (years aside)
    years: list[str]
    content: list[str]
    pronoun: bool
    possessive: bool
    there: bool
    back_then: bool
    next_: bool
    before: bool


def _read(question: str, glossary: Glossary) -> _Reading:
    text = " ".join(question.split())
    body = _CONNECTOR.sub("", text) or text
    fragment = ""
    for pattern in (_FRAGMENT, _AND_X, _TOO):
        match = pattern.match(text)
        if match:
            tail = match.group("x").strip()
            if len(tail.split()) <= _FRAGMENT_WORDS and not _QUESTION_WORD.search(tail):
                fragment = tail
                break
    found = mentions(text, glossary)
    own = [m for m in found if m.kind != "year"]
    years = [m.value for m in found if m.kind == "year"]
    if not fragment and not _QUESTION_WORD.search(body):
        rest = body
        inside = mentions(body, glossary)
        for mention in sorted(inside, key=lambda m: -m.start):
            rest = rest[:mention.start] + " " + rest[mention.end:]
        if inside and not _content_words(re.sub(r"\b(?:and|or|in|for|with)\b", " ", rest)):
            fragment = _core(body)  # "Greece?", "Cyprus and Malta?", "2023?"
    pronoun = bool(_PRONOUN.search(body) or _THAT.search(body))
    there = bool(_THERE.search(body)) and not _EXISTENTIAL_THERE.search(body)
    return _Reading(text, body, fragment, own, years, _content_words(_TIME_WORDS.sub(" ", body)), pronoun,
                    bool(_POSSESSIVE.search(body)), there, bool(_BACK_THEN.search(body)) and not _NEXT.search(body),
                    bool(_NEXT.search(body)), bool(_BEFORE.search(body)))


_WH_ONLY = re.compile(r"^\W*(since when|until when|till when|for how long|how long|how come|why not|why|how|when|where|"
                      r"who|what for|how much|how many)\W*$", re.IGNORECASE)
_TIME_WORDS = re.compile(_BACK_THEN.pattern + "|" + _NEXT.pattern + "|" + _BEFORE.pattern + "|" + _NOW.pattern, re.IGNORECASE)


class Resolver:
    """Reads follow-ups against earlier turns, with the glossary and the index's units and documents."""

    def __init__(self, glossary: Glossary, units: Mapping[str, Unit], documents: Sequence[Document],
                 annex_docs: set[str] | None = None) -> None:
        self.glossary = glossary
        self.units = units
        self.documents = list(documents)
        self._by_id = {d.id: d for d in self.documents}
        # read once (a follow-up never passes over the units of a large index)
        self.annex_docs = annex_docs if annex_docs is not None else {
            u.doc_id for u in units.values() if u.kind == "annex_item"}

    # The one public step -------------------------------------------------------------------------------
    def resolve(self, question: str, context: Sequence[object]) -> Resolution:
        """The standalone question to search for `question`, asked after the turns in `context` (oldest first)."""
        turns = [ContextTurn.from_context(item) for item in context][-MAX_TURNS:]
        turns = [t for t in turns if t.question.strip()]
        question = " ".join(question.split())
        if not turns:
            return Resolution(question, question, topic=topic_of(question, self.glossary))
        turns = self._complete(turns)
        return self._resolve(question, turns)

    def _complete(self, turns: list[ContextTurn]) -> list[ContextTurn]:
        """Plain earlier questions resolved in turn, so that a chain of follow-ups reads as it did."""
        done: list[ContextTurn] = []
        for turn in turns:
            if not turn.searched and not turn.topic and done:
                resolution = self._resolve(turn.question, done)
                turn = ContextTurn(turn.question, resolution.searched if resolution.changed else "", resolution.topic,
                                   turn.units, resolution.anchor)
            elif not turn.topic:
                turn = ContextTurn(turn.question, turn.searched, topic_of(turn.standalone, self.glossary), turn.units,
                                   turn.anchor)
            done.append(turn)
        return done

    def _resolve(self, question: str, turns: list[ContextTurn]) -> Resolution:
        reading = _read(question, self.glossary)
        own_topic = topic_of(question, self.glossary)
        leans = (reading.fragment or reading.pronoun or reading.possessive or reading.there or reading.back_then
                 or reading.next_ or reading.before or (not reading.own and len(reading.content) <= SHORT))
        if not leans:
            return Resolution(question, question, "standalone", own_topic, reasons=("names its own subject",))
        if reading.fragment:
            return self._fragment(reading, turns)
        return self._reference(reading, turns, own_topic)

    # "and Greece?", "what about Europol?", "and in 2023?", "what about the way ahead?" ---------------------
    def _fragment(self, reading: _Reading, turns: list[ContextTurn]) -> Resolution:
        previous = turns[-1]
        new = mentions(reading.fragment, self.glossary)
        if new:
            base = _without_anchor(previous.standalone, previous.anchor)
            searched, topic, replaced = base, previous.topic, []
            for kind in dict.fromkeys(m.kind for m in new):
                surface = " and ".join(dict.fromkeys(_surface(m, reading.fragment) for m in new if m.kind == kind))
                source = next((t for t in reversed(turns) if any(m.kind == kind for m in mentions(
                    _without_anchor(t.standalone, t.anchor), self.glossary))), None)
                if source is not None and source is not previous:
                    base = _without_anchor(source.standalone, source.anchor)
                    searched, topic = base, source.topic
                swapped = _substitute(searched, kind, surface, self.glossary)
                if swapped is None:
                    searched = _with_extras(searched, [("in " if kind == "year" else "") + surface])
                else:
                    searched = swapped
                    replaced.append(kind)
                topic = _substitute(topic, kind, surface, self.glossary) or topic
            anchor = self._anchor(reading, previous, searched)
            if anchor:
                searched = _with_extras(searched, [anchor])
            scope = tuple(sorted(scope_documents(reading.fragment, self.documents, annex_docs=self.annex_docs)))
            reason = ("put " + ", ".join(m.value for m in new) + " in place of the earlier "
                      + "/".join(dict.fromkeys(m.kind for m in new)) if replaced else
                      "added " + ", ".join(m.value for m in new) + " to the earlier question")
            return Resolution(reading.text, _finish(searched), "substitution", topic, previous.topic, anchor,
                              documents=scope, reasons=(reason,))
        aspect = reading.fragment.lower().strip(" ?")
        aspect = re.sub(r"^(?:the|its|their)\s+", "", aspect)
        template = _ASPECT_FIELDS.get(aspect)
        topic = previous.topic or topic_of(previous.standalone, self.glossary)
        if template:
            searched = template.format(topic=topic)
        else:
            searched = _with_extras(f"What about {reading.fragment}", [topic])
        anchor = self._anchor(reading, previous, searched)
        if anchor:
            searched = _with_extras(searched, [anchor])
        return Resolution(reading.text, _finish(searched), "ellipsis", topic, topic, anchor,
                          reasons=(f"asked about {reading.fragment} of the earlier topic",))

    # "who leads it?", "since when?", "how many counselling sessions?", "what happened next?" ----------------
    def _reference(self, reading: _Reading, turns: list[ContextTurn], own_topic: str) -> Resolution:
        previous = turns[-1]
        topic = previous.topic or topic_of(previous.standalone, self.glossary)
        text = _core(reading.body)
        reasons = []
        replaced = False
        if reading.pronoun and topic and ", " not in topic:  # a topic of several phrases is added, not put in
            text, replaced = _replace_pronoun(text, topic)
            if replaced:
                reasons.append(f"read “it” as {topic}")
        if reading.possessive:
            text = _POSSESSIVE.sub("the", text)
        if reading.there:
            places = [m.value for m in mentions(previous.standalone, self.glossary) if m.kind == "country"]
            place = " and ".join(dict.fromkeys(places)) if places else ""
            if place:
                text = _THERE.sub(f"in {place}", text, count=1)
            elif topic:
                text = _THERE.sub(f"at {topic}", text, count=1)
                replaced = True
        extras: list[str] = []
        unit = self._first_unit(previous)
        wh = _WH_ONLY.match(reading.body)
        if wh and not reading.content:
            before = _core(_without_anchor(previous.standalone, previous.anchor))
            if re.match(r"^(?:is|are|was|were|has|have|had|does|do|did|will|would|can|could)\b", before, re.IGNORECASE):
                text = f"{wh.group(1)} {before[:1].lower()}{before[1:]}"  # "since when" + "is Türkiye part of ..."
            else:
                text = f"{wh.group(1)}: {before[:1].lower()}{before[1:]}"  # "why" + ": what does Frontex do in ..."
            replaced = True
            reasons.append(f"asked “{wh.group(1)}” of the earlier question")
        scope = scope_documents(reading.text, self.documents, annex_docs=self.annex_docs)
        named_document = tuple(sorted(scope))
        if len(scope) == 1 and (unit is None or unit.doc_id not in scope):
            extras.append("in " + short_label(self._by_id[named_document[0]]))
        if scope:
            reasons.append("searched only " + "; ".join(short_label(self._by_id[d]) for d in named_document))
        when = self._when(previous, unit)
        if reading.back_then and when:
            text = _BACK_THEN.sub(f"in {when[:4]}" if len(when) >= 4 else when, text, count=1)
            reasons.append(f"read “back then” as {when[:4]}")
        if reading.next_ and when:
            extras.append(f"after {human_date(when)}")
            reasons.append(f"read “next” as after {human_date(when)}")
        if reading.before and when:
            extras.append(f"before {human_date(when)}")
        carried = ""
        if topic and not replaced and not _contains_words(text, topic):
            extras.insert(0, topic)
            carried = topic
        elif replaced:
            carried = topic
        # "next", "before" and "the latest / now" move in time: the newest state may be in another passage
        allow = not reading.next_ and not reading.before and not _NOW.search(reading.text)
        anchor = self._anchor(reading, previous, text) if allow else ""
        if anchor:
            extras.append(anchor)
        searched = _finish(_with_extras(_capitalised(text), extras))
        kind = "reference" if (reading.pronoun or reading.possessive or reading.there) else "ellipsis"
        if carried and not reasons:
            reasons.append(f"added the earlier topic, {carried}")
        leans_on_topic = replaced or reading.pronoun or reading.possessive or not reading.own
        this_topic = carried if (carried and leans_on_topic) else (own_topic or carried)
        return Resolution(reading.text, searched, kind, this_topic, carried, anchor, documents=named_document,
                          reasons=tuple(reasons))

    # The earlier unit, carried over only when it still fits -------------------------------------------------
    def _first_unit(self, turn: ContextTurn) -> Unit | None:
        for unit_id in turn.units[:1]:
            unit = self.units.get(unit_id)
            if unit is not None:
                return unit
        return None

    def _when(self, turn: ContextTurn, unit: Unit | None) -> str:
        """The date the earlier turn was about: a year it named, else its first unit's document date."""
        years = YEAR.findall(_without_anchor(turn.standalone, turn.anchor))
        if unit is not None and (not years or _year(unit.doc_date) in years):
            return unit.doc_date
        return years[0] if years else ""

    def _anchor(self, reading: _Reading, previous: ContextTurn, searched: str) -> str:
        unit = self._first_unit(previous)
        if unit is None or not unit.locator or not _LOCATOR.fullmatch(_locator_reference(unit)):
            return ""
        if reading.own:
            return ""  # a new target: retrieval decides which passage is about it
        if any(m.kind == "unit" for m in mentions(searched, self.glossary)):
            return ""
        scope = scope_documents(reading.text, self.documents, annex_docs=self.annex_docs)
        if (reading.years or scope) and unit.doc_id not in scope:
            return ""  # the follow-up moved to another document or time
        own = _stems(" ".join(reading.content)) - _stems(" ".join(FIELD_LABELS.values()) + " lead leads")
        if own:
            shared = own & _stems(unit.text)
            if len(shared) < ANCHOR_OVERLAP * len(own):
                return ""  # its words are not in that passage: it asks about something else
        return _locator_reference(unit)


def _locator_reference(unit: Unit) -> str:
    """The locator as a question names it: "Action 21", "Annex item 5", "section 12"."""
    return re.sub(r"^Letter, section", "section", unit.locator)


def _surface(mention: Mention, fragment: str) -> str:
    typed = fragment[mention.start:mention.end]
    if mention.kind in ("country", "unit", "year"):
        return mention.value
    return typed if typed and not typed.islower() else mention.value


def _substitute(text: str, kind: str, surface: str, glossary: Glossary) -> str | None:
    """`text` with its first mention of this kind replaced by `surface` (all of its years for a year), or None."""
    if not text:
        return None
    found = [m for m in mentions(text, glossary) if m.kind == kind]
    if not found:
        return None
    targets = found if kind == "year" else [m for m in found if m.value == found[0].value]
    for mention in sorted(targets, key=lambda m: -m.start):
        original = text[mention.start:mention.end]
        value = surface + ("'s" if original.endswith("'s") and not surface.endswith("'s") else "")
        text = text[:mention.start] + value + text[mention.end:]
    return text


def _replace_pronoun(text: str, topic: str) -> tuple[str, bool]:
    """The first pronoun standing for the earlier topic replaced by it."""
    match = _PRONOUN.search(text)
    if match:
        return text[:match.start()] + topic + text[match.end():], True
    match = _THAT.search(text)
    if match:
        group = "word" if match.group("word") else "end"
        return text[:match.start(group)] + topic + text[match.end(group):], True
    return text, False


def _contains_words(text: str, topic: str) -> bool:
    words = set(_content_words(topic))
    return bool(words) and words <= set(_content_words(text))


def _without_anchor(searched: str, anchor: str) -> str:
    if not anchor:
        return searched
    text = re.sub(r"(?:;\s*)?" + re.escape(anchor) + r"(?=\s*\))", "", searched)
    text = re.sub(r"\(\s*;?\s*\)", "", text)
    text = re.sub(r"\(\s*;\s*", "(", text)
    return _tidy(text)


def _with_extras(text: str, extras: list[str]) -> str:
    """'how many counselling sessions (the Bulgaria pilot project on returns; Action 21)'."""
    unique: dict[str, str] = {}
    for extra in extras:
        if extra.strip() and extra.strip().lower() not in text.lower():
            unique.setdefault(extra.strip().lower(), extra.strip())
    extras = list(unique.values())
    if not extras:
        return _core(text)
    core = _core(text)
    match = re.search(r"\(([^()]*)\)$", core)
    if match:  # one parenthesis, however many extras
        return core[:match.start()].rstrip() + " (" + "; ".join([match.group(1), *extras]) + ")"
    return f"{core} ({'; '.join(extras)})"


def _finish(text: str) -> str:
    return _capitalised(_tidy(_core(text))) + "?"


# --- suggested follow-ups -------------------------------------------------------------------------------


def suggest_followups(answer: Answer, limit: int = 3) -> list[str]:
    """Questions the cited units can answer next ("Who leads Action 21?", "What is the way ahead for Action 21?").

    Drawn from the fields of the units the answer cites, never about a field the question already asked for.
    """
    if answer.abstained and not answer.citations:
        return []
    intent = str((answer.analysis or {}).get("intent", ""))
    asked = (answer.searched or answer.question).lower()
    suggestions: list[str] = []
    for citation in answer.citations[:2]:
        unit = citation.unit
        name = _locator_reference(unit) if _LOCATOR.fullmatch(_locator_reference(unit)) else ""
        if not name:
            continue
        name = _capitalised(name)
        options = []
        if unit.fields.get("lead_actors") and intent != "who_leads":
            options.append(f"Who leads {name}?")
        if unit.fields.get("way_ahead") and "way ahead" not in asked:
            options.append(f"What is the way ahead for {name}?")
        if unit.fields.get("status") and intent != "status":
            options.append(f"What is the status of {name}?")
        if unit.fields.get("state_of_play") and "state of play" not in asked:
            options.append(f"What is the state of play of {name}?")
        for option in options:
            if option.lower().rstrip("?") not in asked and option not in suggestions:
                suggestions.append(option)
    return suggestions[:limit]


__all__ = ["ContextTurn", "Resolution", "Resolver", "context_turn", "mentions", "scope_documents", "suggest_followups",
           "topic_of"]
