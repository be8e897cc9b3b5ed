"""Corpus -> units -> chunks for a whole corpus folder, the first half of the data flow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.chunking.parts import ChunkSettings, chunk_units
from assistant.chunking.tokens import TokenCounter
from assistant.chunking.units import units_for_document
from assistant.errors import AssistantError
from assistant.ingest import Glossary, corpus_lock, document_path, load_documents, load_glossary, load_lines
from assistant.models import model_path, model_spec
from assistant.records import Chunk, Document, SourceLine, Unit
from assistant.settings import DEFAULT_MODEL


@dataclass
class ChunkedCorpus:
    documents: list[Document]
    units: list[Unit]
    chunks: list[Chunk]
    settings: ChunkSettings


def chunk_settings_for(model: str) -> ChunkSettings:
    return ChunkSettings(max_tokens=model_spec(model).max_seq_length, tokenizer=model)


CorpusRead = list[tuple[Document, list[SourceLine]]]  # each document with its file's lines, read at one moment


def read_corpus(corpus_dir: Path, only: set[str] | None = None) -> CorpusRead:
    """Every document's metadata and lines (or those of the documents `only` names), read while no document is
    added or removed."""
    with corpus_lock(corpus_dir):
        documents = [d for d in load_documents(corpus_dir) if only is None or d.id in only]
        return [(document, load_lines(document_path(corpus_dir, document))) for document in documents]


def load_units(corpus_dir: Path, glossary: Glossary | None = None, model: str = DEFAULT_MODEL,
               read: CorpusRead | None = None) -> tuple[list[Document], list[Unit]]:
    """The corpus's documents and units; `read` is a corpus already read (by `read_corpus`), else it is read now."""
    read = read_corpus(corpus_dir) if read is None else read
    glossary = glossary if glossary is not None else load_glossary(corpus_dir)
    units: list[Unit] = []
    for document, lines in read:
        units.extend(units_for_document(document, lines, glossary, model))
    return [document for document, _ in read], units


def chunk_corpus(corpus_dir: Path, model: str, read: CorpusRead | None = None) -> ChunkedCorpus:
    """Units and chunks of the corpus (or of `read`, the corpus as `read_corpus` read it at one moment)."""
    glossary = load_glossary(corpus_dir)
    documents, units = load_units(corpus_dir, glossary, model, read)
    if not documents:
        raise AssistantError(f"The corpus in {corpus_dir.name} has no documents ({corpus_dir.name}/documents.json lists "
                             "none and none were added); add documents with `assistant add`, or restore "
                             "corpus/documents.json from the repository.")
    settings = chunk_settings_for(model)
    counter = TokenCounter(model_path(model))
    by_id = {d.id: d for d in documents}
    return ChunkedCorpus(documents, units, chunk_units(units, by_id, settings, counter, glossary), settings)
