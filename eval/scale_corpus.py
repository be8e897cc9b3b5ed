"""A scale corpus: many documents of the kinds we index, recombined from the real units, deterministically.

Templates are the real units: the two shipped documents (an action file with numbered action
rows, a letter with sections and annex items) and the 13 real documents of
tests/fixtures/documents/ (general documents: news, conclusions, speeches, reports), chunked and
embedded by the real pipeline once (`load_templates`). A generated document takes a template
document's kind and structure; each of its units copies a template unit of the same kind, swaps
a quarter of its sentences for sentences of the same field from other units of that kind, and
substitutes countries (names and codes), years, amounts and action numbers. So texts, lengths,
fields and vocabulary are those of real documents, and every sentence is still a verbatim part
of its unit.

Vectors are not computed by the encoder (a million units would take ~7 hours here): a generated
sentence gets the real vector of the template sentence it copies, and a chunk the normalised mean
of the real vectors of the sentences it holds (the template chunk's own vector when it holds
none). The manifest says so (`vectors_from`). Questions are embedded by the real encoder.

`generate(templates, units, seed)` yields documents with their records and vectors, in the form
`assistant.index.write_generation` takes, and writes each document's text to the corpus folder
(documents.json at the end), so that `assistant add` and incremental builds work on it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from assistant.records import Chunk, Document, Sentence, Unit

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
SWAP_SHARE = 0.25  # of a unit's sentences taken from other units of its kind
KIND_WEIGHTS = {"action_file": 0.35, "letter": 0.25, "general": 0.40}  # of the documents generated
YEARS = tuple(range(2015, 2025))
VECTORS_FROM = ("derived: a generated sentence has the real vectors (MiniLM and multilingual e5) of the template "
                "sentence it copies; "
                "a chunk the normalised mean of its sentences' real vectors (all-MiniLM-L6-v2, onnx-int8)")


@dataclass
class Template:
    unit: Unit
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentences: list[Sentence]
    sentence_vectors: np.ndarray  # each row the sentence's MiniLM vector, then its multilingual (e5) vector


@dataclass
class TemplateDocument:
    document: Document
    units: list[Template]


@dataclass
class Templates:
    documents: dict[str, list[TemplateDocument]]  # by document kind
    by_kind: dict[str, list[Template]] = field(default_factory=dict)  # unit kind -> templates
    sentences: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = field(default_factory=dict)  # (unit kind, field)
    countries: list[tuple[str, str]] = field(default_factory=list)  # (name, code) of glossary countries

    def __post_init__(self) -> None:
        for documents in self.documents.values():
            for document in documents:
                for template in document.units:
                    self.by_kind.setdefault(template.unit.kind, []).append(template)
                    for sentence, vector in zip(template.sentences, template.sentence_vectors):
                        if sentence.field != "title":
                            self.sentences.setdefault((template.unit.kind, sentence.field), []).append(
                                (sentence.text, vector))


def load_templates(work: Path, model: str, backend: str) -> Templates:
    """The real units with their real vectors: the shipped corpus and the fixture documents, indexed once."""
    from assistant.index import build_index, index_status, load_index
    from assistant.ingest import load_glossary
    from assistant.uploads import add_paths

    corpus, index_dir = work / "corpus", work / "index"
    if not (corpus / "documents.json").is_file():
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("uploads"))
        report = add_paths(corpus, [str(FIXTURES)])
        if report.failed:
            raise RuntimeError(f"fixture documents could not be added: {report.failed}")
    if not index_status(index_dir, corpus, model, backend).fresh:
        build_index(index_dir, corpus, model, backend)
    index = load_index(index_dir)
    glossary = load_glossary(corpus)
    documents: dict[str, list[TemplateDocument]] = {}
    for document in index.documents:
        units = []
        for unit in index.document_units(document.id):
            chunk_rows = index.chunk_rows_of[unit.unit_id]
            sentence_rows = index.sentence_rows_of[unit.unit_id]
            units.append(Template(unit, [index.chunks[r] for r in chunk_rows], index.vectors[chunk_rows],
                                  [index.sentences[r] for r in sentence_rows],
                                  np.hstack([index.sentence_vectors[sentence_rows],
                                             index.multilingual_vectors[sentence_rows]])))
        documents.setdefault(document.kind, []).append(TemplateDocument(document, units))
    countries = [(c.name, c.code) for c in glossary.countries if c.code and len(c.code) == 2]
    index.close()
    return Templates(documents, countries=countries)


class _Substitution:
    """One unit's substitutions: countries (names and codes), years, amounts, applied to every text of it."""

    def __init__(self, rng: random.Random, template: Unit, countries: list[tuple[str, str]], year_shift: int) -> None:
        self.pairs: dict[str, str] = {}
        codes = {name: code for name, code in countries}
        for name in template.countries:
            if name in codes and rng.random() < 0.7:
                other, other_code = countries[rng.randrange(len(countries))]
                if other != name:
                    self.pairs[name] = other
                    self.pairs[codes[name]] = other_code
        self._pattern = (re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(self.pairs, key=len, reverse=True))
                                    + r")\b") if self.pairs else None)
        self.year_shift = year_shift
        self.amount_scale = rng.choice((0.5, 0.8, 1.25, 1.5, 2.0, 3.0))

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self.pairs[m.group(1)], text)
        if self.year_shift:
            text = _YEAR.sub(lambda m: str(int(m.group(0)) + self.year_shift), text)
        return _AMOUNT.sub(lambda m: f"{m.group(1)}{_scaled(m.group(2), self.amount_scale)}{m.group(3)}", text)


_YEAR = re.compile(r"\b20(1[5-9]|2[0-4])\b")
_AMOUNT = re.compile(r"(€\s?|EUR\s)(\d+(?:[.,]\d+)?)(\s?(?:m|million|bn|billion)\b)")


def _scaled(number: str, scale: float) -> str:
    value = float(number.replace(",", ".")) * scale
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _renumber(text: str, old: int | None, new: int | None, label: str) -> str:
    if old is None or new is None or old == new:
        return text
    return re.sub(rf"\b{label} {old}\b", f"{label} {new}", text)


def _unit_from(template: Template, doc: Document, unit_id: str, number: int | None, rng: random.Random,
               templates: Templates, countries: list[tuple[str, str]], year_shift: int,
               ) -> tuple[Unit, list[Chunk], list[Sentence], np.ndarray, np.ndarray, np.ndarray]:
    unit = template.unit
    substitute = _Substitution(rng, unit, countries, year_shift)
    # sentence swaps, within the unit's kind and field
    swaps: dict[str, tuple[str, np.ndarray]] = {}
    for sentence in template.sentences:
        pool = templates.sentences.get((unit.kind, sentence.field), [])
        if sentence.field != "title" and len(pool) > 1 and rng.random() < SWAP_SHARE:
            text, vector = pool[rng.randrange(len(pool))]
            if text != sentence.text and "\n" not in text and sentence.text not in swaps:
                swaps[sentence.text] = (text, vector)

    def rewrite(text: str) -> str:
        for old, (new, _) in swaps.items():
            text = text.replace(old, new, 1)
        text = substitute(text)
        if unit.kind in ("action", "annex_item"):
            label = "Action" if unit.kind == "action" else "Annex item"
            text = _renumber(text, unit.number, number, label)
        return text

    label_locator = unit.locator
    if unit.kind == "action":
        label_locator = f"Action {number}"
    elif unit.kind == "annex_item":
        label_locator = f"Annex item {number}"
    new_text = rewrite(unit.text)
    fields = {k: rewrite(v) for k, v in unit.fields.items()}
    generated = replace(unit, unit_id=unit_id, doc_id=doc.id, doc_title=doc.title, doc_reference=doc.reference,
                        doc_date=doc.date, locator=label_locator, number=number if unit.number is not None else None,
                        title=rewrite(unit.title), section=rewrite(unit.section), text=new_text, fields=fields,
                        countries=sorted({substitute.pairs.get(c, c) for c in unit.countries}))
    sentences, sentence_vectors = [], []
    for position, sentence in enumerate(template.sentences):
        source_text, vector = swaps.get(sentence.text, (sentence.text, template.sentence_vectors[position]))
        text = rewrite(sentence.text)
        if text not in new_text:  # a swap or substitution that overlapped another: keep the unit's own words
            continue
        sentences.append(Sentence(unit_id, len(sentences), text, sentence.field))
        sentence_vectors.append(vector)
    chunks, chunk_vectors = [], []
    dimension = template.chunk_vectors.shape[1]
    for part, chunk in enumerate(template.chunks):
        index_text = rewrite(chunk.index_text)
        digest = hashlib.sha256(index_text.encode("utf-8")).hexdigest()[:20]
        chunks.append(Chunk(f"{unit_id}#{chunk.part}", unit_id, chunk.part, chunk.parts, rewrite(chunk.text),
                            index_text, digest))
        held = [v[:dimension] for s, v in zip(sentences, sentence_vectors) if s.text in chunks[-1].text]
        vector = np.mean(held, axis=0) if held else template.chunk_vectors[part]
        chunk_vectors.append(vector / (np.linalg.norm(vector) or 1.0))
    both = np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, template.sentence_vectors.shape[1])
    return (generated, chunks, sentences, np.asarray(chunk_vectors, dtype=np.float32).reshape(-1, dimension),
            both[:, :dimension], both[:, dimension:])


def _shift_date(date: str, shift: int) -> str:
    if not date:
        return ""
    year = int(date[:4]) + shift
    return f"{year:04d}{date[4:]}"


def generate(templates: Templates, units: int, seed: int, corpus: Path | None = None) -> Iterator[tuple]:
    """Documents until `units` units are generated, each (Document, units, chunks, sentences, vectors, vectors).

    With `corpus`, each document's text is written to corpus/docs/<id>.txt and documents.json at the end.
    """
    rng = random.Random(seed)
    kinds = [k for k in KIND_WEIGHTS if templates.documents.get(k)]
    weights = [KIND_WEIGHTS[k] for k in kinds]
    made, number = 0, 0
    entries = []
    if corpus is not None:
        (corpus / "docs").mkdir(parents=True, exist_ok=True)
    while made < units:
        number += 1
        kind = rng.choices(kinds, weights)[0]
        source = rng.choice(templates.documents[kind])
        doc_id = f"scale-{kind.replace('_', '-')}-{number:07d}"
        latest = max([int(source.document.date[:4])] if source.document.date else [2024])
        shift = rng.randint(2015, 2024) - latest if source.document.date else 0
        reference = source.document.reference
        if kind == "action_file":
            reference = f"WK {rng.randint(1000, 19999)}/{_shift_date(source.document.date, shift)[:4]} INIT"
        document = replace(source.document, id=doc_id, date=_shift_date(source.document.date, shift),
                           reference=reference, source_file=f"docs/{doc_id}.txt", missing_actions=(),
                           notes="Generated for the scale benchmark (eval/scale_corpus.py).", derived=(),
                           text_hash="", title=source.document.title)
        records = []
        plan = list(source.units)
        if kind == "action_file":  # a cover note and 10-40 numbered actions drawn from all the action rows
            cover = [t for t in plan if t.unit.kind != "action"]
            rows = templates.by_kind.get("action", [])
            plan = cover + [rng.choice(rows) for _ in range(rng.randint(10, 40))]
        elif kind == "letter":  # sections as in the letter, 8-20 annex items drawn from all annex items
            items = templates.by_kind.get("annex_item", [])
            plan = [t for t in plan if t.unit.kind != "annex_item"] + [rng.choice(items)
                                                                        for _ in range(rng.randint(8, 20))]
        counters: dict[str, int] = {}
        for template in plan:
            if made + len(records) >= units:
                break
            kind_of_unit = template.unit.kind
            counters[kind_of_unit] = counters.get(kind_of_unit, 0) + 1
            count = counters[kind_of_unit]
            suffix = template.unit.unit_id.split(":", 1)[-1]
            numbered = kind_of_unit in ("action", "annex_item")
            unit_id = f"{doc_id}:{kind_of_unit.replace('_', '-')}-{count}" if numbered else f"{doc_id}:{suffix}-{count}"
            records.append(_unit_from(template, document, unit_id, count if numbered else template.unit.number,
                                      rng, templates, templates.countries, shift))
        if not records:
            continue
        made += len(records)
        doc_units = [r[0] for r in records]
        if corpus is not None:
            text = "\n\n".join(u.text for u in doc_units) + "\n"
            (corpus / document.source_file).write_text(text, encoding="utf-8")
            # The duplicate check of `assistant add` compares text hashes; a generated document's is that of its
            # own text (computing the real normalised-text hash would read every file back through the loaders).
            document = replace(document, text_hash=hashlib.sha256(text.encode("utf-8")).hexdigest())
            entries.append(document.to_dict())
        yield (document, doc_units, [c for r in records for c in r[1]], [s for r in records for s in r[2]],
               np.concatenate([r[3] for r in records]), np.concatenate([r[4] for r in records]),
               np.concatenate([r[5] for r in records]))
    if corpus is not None:
        (corpus / "documents.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
        shutil.copy2(ROOT / "corpus" / "glossary.json", corpus / "glossary.json")
