"""Composing an answer from ranked candidates: which sentences, in which order, with which citations.

The best-ranked sentence leads, and sentences close to it join (the ranker's keep ratio and
keep floor, at most MAX_PER_UNIT per unit, staying on the question's countries). Structure
is added where a reader expects it: a lead-in ending with a colon brings its list items; a
list question's item brings its lead-in and siblings; a question asking for a date, an amount,
a number, a frequency or a person gets the best sentence of the leading unit that holds one
when the chosen ones hold none; a question asking who implements, organises or funds something
gets the sentence naming the doer ("implemented by ..."); a question whether something has been
done gets the sentence naming that doing ("to be signed in coming weeks"); a who-leads question about a named
action brings its Lead actor(s) line; a status question leads with the Status line of its
action and the document's date. Documents follow the direct answer: the best sentence's
document first, then the others newest first as history ("Earlier, ..."); a question about
change over time reads them in date order instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from assistant.answering import weights as w
from assistant.answering.analysis import ASKED_EVENT, DOER_QUESTIONS, DOER_SENTENCES, asks_who_leads
from assistant.answering.candidates import (TYPE_FLAGS, Candidate, SentenceTable, is_row_title, names_asked_organiser,
                                           terms_of)
from assistant.answering.ranker import Ranker
from assistant.ingest import human_date, short_label
from assistant.records import Answer, AnswerSentence, Citation, Document

_LEADING_FIELDS = {"status": 0, "lead_actors": 1}


def _candidate(table: SentenceTable, row: int, like: Candidate) -> Candidate:
    return Candidate(row, table.index.sentences[row], like.hit, table.facts(row), like.features, like.score)


def _select(ranked: list[Candidate], countries: set[str], table: SentenceTable, max_sentences: int,
            ranker: Ranker) -> list[Candidate]:
    best = ranked[0]
    floor = max(ranker.keep_floor, ranker.keep_ratio * best.score)
    chosen = [best]
    per_unit = {best.hit.unit.unit_id: 1}
    for candidate in ranked[1:]:
        if len(chosen) >= max_sentences or candidate.score < floor:
            break
        unit_id = candidate.hit.unit.unit_id
        if per_unit.get(unit_id, 0) >= w.MAX_PER_UNIT:
            continue
        if unit_id != best.hit.unit.unit_id and (
                candidate.score < ranker.other_unit_ratio * best.score  # nearly as good: each citation is checked
                or candidate.sentence.field in ("lead_actors", "status")  # that action's Lead actor(s) or Status
                or (countries and not countries & table.countries(candidate.row))):  # off the question's countries
            continue  # another passage joins only on these terms
        per_unit[unit_id] = per_unit.get(unit_id, 0) + 1
        chosen.append(candidate)
    if is_row_title(best) and per_unit[best.hit.unit.unit_id] == 1:
        # A row's first cell restates what the question asks about; alone it says nothing of what became of it.
        fact = next((c for c in ranked[1:] if c.hit.unit.unit_id == best.hit.unit.unit_id and not is_row_title(c)), None)
        chosen = _after_best(chosen, fact)
    return chosen


def _after_best(chosen: list[Candidate], extra: Candidate | None) -> list[Candidate]:
    """`extra` right after the best sentence (the chosen ones unchanged when there is none)."""
    return chosen if extra is None else [chosen[0], extra, *chosen[1:]]


def _with_type(chosen: list[Candidate], ranked: list[Candidate], answer_type: str) -> list[Candidate]:
    """When the question asks for a typed value ("when", "how much", "how often", ...) and no chosen sentence holds
    one, the best-ranked sentence of the leading unit that does follows the best sentence."""
    if answer_type not in TYPE_FLAGS or any(c.facts.carries(answer_type) for c in chosen):
        return chosen
    unit_id = chosen[0].hit.unit.unit_id
    return _after_best(chosen, next((c for c in ranked if c.hit.unit.unit_id == unit_id
                                     and c.facts.carries(answer_type)), None))


def _with_doer(chosen: list[Candidate], ranked: list[Candidate], analysis) -> list[Candidate]:
    """A question asking who implements, organises or funds something gets the best-ranked sentence that names the
    doer ("implemented by ICMPD"), from the leading unit if it has one, else from the others; a Lead actor(s)
    field names who leads the action, which need not be who carries it out."""
    kind = next((k for k, pattern in DOER_QUESTIONS.items() if pattern.search(analysis.question)), "")
    if analysis.intent != "who_leads" or not kind:
        return chosen
    named = DOER_SENTENCES[kind]
    if any(named.search(c.sentence.text) for c in chosen):
        return chosen
    doers = [c for c in ranked if named.search(c.sentence.text)]
    unit_id = chosen[0].hit.unit.unit_id
    return _after_best(chosen, next((c for c in doers if c.hit.unit.unit_id == unit_id), doers[0] if doers else None))


def _organiser_first(chosen: list[Candidate], ranked: list[Candidate], analysis) -> list[Candidate]:
    """A question asking who organised, chaired or hosted an event is answered by the sentence that names the
    organiser of that event ("chaired by TR and HU"), the best-ranked of those close to the top, which leads the
    answer; a Lead actor(s) field names who leads the action, not who chaired one of its meetings, so it is left out."""
    if not analysis.organiser_verb:
        return chosen
    close = ranked[:w.TYPE_WINDOW]
    organiser = next((c for c in [*chosen, *close] if names_asked_organiser(analysis, c)), None)
    if organiser is None:
        return chosen
    return [organiser, *(c for c in chosen if c is not organiser and c.sentence.field != "lead_actors")]


def _with_event(chosen: list[Candidate], ranked: list[Candidate], analysis) -> list[Candidate]:
    """A question whether something has been done ("has the agreement been signed?") gets the leading unit's
    best-ranked sentence that names that doing ("agreement to be signed in coming weeks"), when no chosen one does:
    that sentence says where the event stands, whatever else the unit says about the same programme."""
    match = ASKED_EVENT.search(analysis.question)
    if analysis.intent not in ("status", "yes_no") or match is None:
        return chosen
    event = set(terms_of(match.group(1)))
    unit_id = chosen[0].hit.unit.unit_id
    if not event or any(event & c.facts.terms for c in chosen if c.hit.unit.unit_id == unit_id):
        return chosen
    return _after_best(chosen, next((c for c in ranked if c.hit.unit.unit_id == unit_id and event & c.facts.terms),
                                    None))


def with_structure(chosen: list[Candidate], intent: str, table: SentenceTable) -> list[Candidate]:
    """Lead-ins bring their items; for list questions an item brings its lead-in and siblings."""
    result: list[Candidate] = []
    added: set[int] = set()

    def add(candidate: Candidate) -> None:
        if candidate.row not in added:
            added.add(candidate.row)
            result.append(candidate)

    for candidate in chosen:
        unit_rows = table.rows_of_unit[candidate.hit.unit.unit_id]
        lead_in = candidate if candidate.facts.is_lead_in else None
        if lead_in is None and intent == "list" and candidate.facts.is_list_item:
            for row in reversed(unit_rows[:unit_rows.index(candidate.row)]):
                facts = table.facts(row)
                if facts.is_lead_in:
                    lead_in = _candidate(table, row, candidate)
                    break
                if not facts.is_list_item:
                    break
        if lead_in is not None:
            add(lead_in)
        add(candidate)
        if lead_in is None:
            continue
        items = 0
        for row in unit_rows[unit_rows.index(lead_in.row) + 1:]:
            if (not table.facts(row).is_list_item or table.index.sentences[row].field != lead_in.sentence.field
                    or items >= w.LIST_ITEMS):
                break
            items += 1
            add(_candidate(table, row, lead_in))
    return result


def _field_lines(chosen: list[Candidate], table: SentenceTable, field: str, limit: int) -> list[Candidate]:
    """The `field` line (status, lead_actors) of the actions the answer draws on, best unit first."""
    lines, seen = [], set()
    for candidate in chosen:
        unit = candidate.hit.unit
        if unit.kind != "action" or unit.unit_id in seen:
            continue
        seen.add(unit.unit_id)
        for row in table.rows_of_unit[unit.unit_id]:
            if table.index.sentences[row].field == field:
                lines.append(_candidate(table, row, candidate))
        if len(seen) == limit:
            break
    return lines


def compose(reading, table: SentenceTable, max_sentences: int, documents: list[Document] | Mapping[str, Document],
            ranker: Ranker) -> Answer:
    analysis, ranked = reading.analysis, reading.ranked
    chosen = _select(ranked, set(analysis.targets.countries), table, max_sentences, ranker)
    chosen = _with_type(chosen, ranked, analysis.answer_type)
    chosen = _with_doer(chosen, ranked, analysis)
    chosen = _organiser_first(chosen, ranked, analysis)
    chosen = _with_event(chosen, ranked, analysis)
    chosen = with_structure(chosen, analysis.intent, table)
    if analysis.intent == "status" and chosen[0].hit.unit.kind == "action":
        chosen = _field_lines(chosen, table, "status", w.STATUS_LINES) + chosen
    if analysis.intent == "who_leads" and asks_who_leads(analysis.question) and chosen[0].hit.unit.kind == "action":
        chosen = _field_lines(chosen[:1], table, "lead_actors", 1) + chosen
    unique: list[Candidate] = []
    for candidate in chosen:
        if all(candidate.row != c.row for c in unique):
            unique.append(candidate)
    by_id = documents if isinstance(documents, Mapping) else {d.id: d for d in documents}  # an index's own map
    return write_answer(reading, unique, analysis.intent == "comparison", by_id)


def write_answer(reading, chosen: list[Candidate], chronological: bool, documents: dict[str, Document]) -> Answer:
    """The chosen sentences as answer lines under their documents (the leading one first), with their citations."""
    lead_doc = chosen[0].hit.unit.doc_id
    doc_dates = {c.hit.unit.doc_id: c.hit.unit.doc_date for c in chosen}
    if chronological:
        doc_order = sorted(doc_dates, key=lambda d: (doc_dates[d], d))
    else:
        doc_order = [lead_doc] + sorted((d for d in doc_dates if d != lead_doc), key=lambda d: doc_dates[d], reverse=True)
    unit_order: dict[str, int] = {}
    for candidate in chosen:
        unit_order.setdefault(candidate.hit.unit.unit_id, len(unit_order))
    chosen = sorted(chosen, key=lambda c: (doc_order.index(c.hit.unit.doc_id), unit_order[c.hit.unit.unit_id],
                                           _LEADING_FIELDS.get(c.sentence.field, 2), c.sentence.position))
    citations: dict[str, Citation] = {}
    sentences: list[AnswerSentence] = []
    lines: list[str] = []
    current_doc = ""
    lead_date = doc_dates[doc_order[0]]
    for candidate in chosen:
        unit = candidate.hit.unit
        if unit.unit_id not in citations:
            citations[unit.unit_id] = Citation(len(citations) + 1, unit, unit.text)
        citation = citations[unit.unit_id]
        citation.sentences.append(candidate.sentence.text)
        if unit.doc_id != current_doc:
            current_doc = unit.doc_id
            label = short_label(documents[unit.doc_id]) if unit.doc_id in documents else unit.doc_title
            earlier = not chronological and unit.doc_id != doc_order[0] and unit.doc_date < lead_date
            lines.append(f"Earlier, {label}:" if earlier else f"{label}:")
        text = _display(candidate)
        sentences.append(AnswerSentence(text, candidate.sentence.text, citation.n, unit.unit_id))
        lines.append(f"- {text} [{citation.n}]")
    answer = Answer(reading.prepared.text, "\n".join(lines), False, list(citations.values()), reading.hits, [],
                    sentences=sentences)
    redacted = list(dict.fromkeys(c.hit.unit.locator for c in chosen if c.hit.unit.redacted))
    if redacted:
        answer.notes.append(f"Parts of {', '.join(redacted)} are redacted in the source ([REDACTED]); "
                            "the answer cannot include what they said.")
    named = [h.unit.locator for h in reading.hits if h.named]
    if named:
        answer.notes.append(f"The question names {', '.join(named)}, so it is read first.")
    return answer


def _display(candidate: Candidate) -> str:
    unit, text = candidate.hit.unit, candidate.sentence.text
    if candidate.sentence.field == "status":
        return f"{unit.locator} — {text}, as of {human_date(unit.doc_date)}"
    if candidate.sentence.field == "title":
        return text
    return f"{unit.locator}: {text}"


def is_document_of(noun: str, document: Document) -> bool:
    """Is the document what the question calls it ("letter", "action file", "report", "document")?"""
    title, genre = document.title.lower(), document.genre.replace("_", " ")
    if noun in ("action file", "file"):
        return document.kind == "action_file" or noun in title
    if noun == "letter":
        return document.kind == "letter" or "letter" in title
    return noun == "document" or noun in title or noun == genre or noun.rstrip("s") == genre.rstrip("s")


def document_date_answer(reading, candidate: Candidate, documents: dict[str, Document], noun: str) -> Answer:
    """'The Commission letter is dated 25 June 2023 [1].' over the document's best-matching sentence, for a question
    that asks only a document's own date; the other documents of that kind are named with their dates in a note."""
    document = documents[candidate.hit.unit.doc_id]
    answer = write_answer(reading, [candidate], False, documents)
    name = short_label(document).rsplit(",", 1)[0].removeprefix("The ")
    answer.answer = f"The {name} is dated {human_date(document.date)} [1].\n" + answer.answer
    others = sorted((d for d in documents.values() if d.id != document.id and d.date and is_document_of(noun, d)),
                    key=lambda d: d.date, reverse=True)
    if others:
        answer.notes.append("Other documents of this kind: " + "; ".join(short_label(d) for d in others) + ".")
    return answer
