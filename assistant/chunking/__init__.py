"""Chunking: SourceLines -> the units a reader cites -> chunks sized for the embedding model.

Units are action rows, letter sections, annex items and tables (`units_for_document`);
`unit_sentences` gives the quotable sentences of a unit by field; `chunk_corpus` runs the
whole first half of the data flow for a corpus folder.
"""

from assistant.chunking.parts import CHUNKER_VERSION, ChunkSettings, chunk_header, chunk_units, chunks_for_unit, split_body
from assistant.chunking.pipeline import ChunkedCorpus, chunk_corpus, chunk_settings_for, load_units, read_corpus
from assistant.chunking.sentences import SPLITTER_VERSION, sentence_cache, split_sentences, unit_sentences
from assistant.chunking.tokens import TokenCounter, common_words, model_tokenizer, tiktoken_length
from assistant.chunking.units import units_for_document

__all__ = [
    "CHUNKER_VERSION", "SPLITTER_VERSION", "ChunkSettings", "ChunkedCorpus", "TokenCounter", "chunk_corpus",
    "chunk_header", "chunk_settings_for", "chunk_units", "chunks_for_unit", "common_words", "load_units",
    "model_tokenizer",
    "read_corpus", "sentence_cache", "split_body", "split_sentences", "tiktoken_length", "unit_sentences",
    "units_for_document",
]
