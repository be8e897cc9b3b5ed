"""Does a sentence that gives the asked figure speak of what the question asks about?

A unit often gives several figures about several things: Action 12 gives "EUR 220 million" for the
border with Iran and only a start date for the project at the western borders; Action 6 counts the
smugglers arrested in all seven Joint Action Days and names JAD Danube only in another sentence. A
question about the western borders or JAD Danube is not answered by the other figure, however well
that sentence matches the rest of the question.

The test reads the question's focus (`QuestionAnalysis.focus`: what is asked beyond its named
targets) with the names it gives (JAD Danube; not a country, nor a fund such as BMVI, whose money
any amount may be) and, for the sentence's unit, takes the focus word that is rarest in the corpus (highest
BM25 idf) among those the unit uses: the most specific thing the unit can be about. A sentence
carrying the asked type speaks of it when that word is in the sentence or in its context, or when
the sentence holds most (KEY_COVERAGE) of the idf weight of the focus words the unit uses. Its
context is what a reader carries into it: the row's title (a comment of an action row is about that
action), the sentence before it ("the project started 1 May 2024" after the one naming EMPATHY),
the expansions of its acronyms (RSF, Resettlement Support Facility) and, for a footnote, the
sentences that hold its mark. A focus word the unit never uses says nothing here (the answerability
model reads those).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answering import weights as w
from assistant.answering.analysis import FUNDING_NAMES, QuestionAnalysis
from assistant.answering.candidates import Candidate, SentenceTable, terms_of

# Words that name the asked attribute rather than what it is of ("how much is the project worth").
ATTRIBUTE_TERMS = frozenset(terms_of(
    "worth money funding funded fund funds budget cost costs amount amounts much many number numbers total "
    "date dates day days year years month months when time euro euros eur million billion"))
FOOTNOTE_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"


@dataclass
class KeyTerms:
    """One question's focus words, and the key word of each unit it is checked against (computed once per unit)."""

    table: SentenceTable
    analysis: QuestionAnalysis
    words: frozenset[str] = field(init=False)
    name_terms: frozenset[str] = field(init=False)
    _keys: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        names = [name for name in self.analysis.targets.names if name.upper() not in FUNDING_NAMES
                 and not self.table.glossary.countries_in(name)]
        self.name_terms = frozenset(terms_of(" ".join(names))) - ATTRIBUTE_TERMS
        self.words = frozenset(terms_of(self.analysis.focus)) - ATTRIBUTE_TERMS | self.name_terms

    def _idf(self, term: str) -> float:
        return self.table.idf.get(term, self.table.max_idf)

    def key_of(self, unit_id: str) -> tuple[str, frozenset[str]]:
        """The unit's key word ('' when it uses none of the focus words), and the focus words it uses."""
        known = self._keys.get(unit_id)
        if known is None:
            used = frozenset().union(*(self.table.facts(r).terms for r in self.table.rows_of_unit[unit_id])) & self.words
            key = max(sorted(used), key=self._idf) if used else ""
            known = self._keys[unit_id] = (key, used)
        return known

    def context_terms(self, candidate: Candidate) -> frozenset[str]:
        """The sentence's terms with those a reader carries into it: title, previous sentence, acronyms, footnote mark."""
        table, text = self.table, candidate.sentence.text
        rows = table.rows_of_unit[candidate.hit.unit.unit_id]
        terms = set(candidate.facts.terms)
        for expansion in table.glossary.index_expansions(text):
            terms.update(terms_of(expansion))
        if rows and rows[0] != candidate.row:
            terms |= table.facts(rows[0]).terms
        position = rows.index(candidate.row) if candidate.row in rows else -1
        if position > 0:
            terms |= table.facts(rows[position - 1]).terms
        if candidate.sentence.field == "footnotes" and text[:1] and text[0] in FOOTNOTE_MARKS:
            for row in rows:
                if row != candidate.row and text[0] in table.index.sentences[row].text:
                    terms |= table.facts(row).terms
        return frozenset(terms)

    def speaks_of(self, candidate: Candidate) -> bool:
        """Does the sentence (with its context) name its unit's key word, or most of the focus the unit uses?"""
        key, used = self.key_of(candidate.hit.unit.unit_id)
        if not key or key in candidate.facts.terms:  # the sentence's own words, before its context is gathered
            return True
        terms = self.context_terms(candidate)
        if key in terms:
            return True
        if key in self.name_terms:
            return False
        return sum(self._idf(t) for t in used & terms) >= w.KEY_COVERAGE * sum(self._idf(t) for t in used)
