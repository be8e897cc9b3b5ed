"""The answering engine the CLI, the app and the benchmarks share: loaded once per process.

The CLI and the app hand it one `Query` (the question, filters, mode, number of passages,
conversation context); `load_engine(settings)` loads the index, the encoder, the glossary
and the vector store the settings choose (FAISS, or Milvus), so every front end can use either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.answering import Answerer, generate_answer
from assistant.embedding import load_encoder
from assistant.index import LoadedIndex, load_index
from assistant.ingest import Glossary, load_glossary
from assistant.records import Answer, SearchResult, Unit
from assistant.search import Filters, Query, Retriever, open_store
from assistant.settings import Settings


def as_query(query: Query | str, filters: Filters | None = None, mode: str | None = None) -> Query:
    """A Query from a Query, or from a bare question with the old keyword arguments."""
    if isinstance(query, Query):
        return query
    return Query(query, filters or Filters(), mode)


@dataclass
class Engine:
    settings: Settings
    index: LoadedIndex
    glossary: Glossary
    retriever: Retriever
    answerer: Answerer

    def ask(self, query: Query | str, filters: Filters | None = None, mode: str | None = None) -> Answer:
        query = as_query(query, filters, mode)
        if self.settings.llm.url:
            return generate_answer(self.answerer, self.settings.llm, query)
        return self.answerer.ask(query)

    def search(self, query: Query | str, filters: Filters | None = None, mode: str | None = None) -> SearchResult:
        query = as_query(query, filters, mode)
        prepared = self.retriever.prepare(query.question)
        hits = self.retriever.search(prepared, k=query.k, mode=query.mode, filters=query.filters)
        return SearchResult(prepared.text, hits)

    def with_llm(self, url: str, model: str) -> Engine:
        """The same engine with the optional generative mode on."""
        return replace(self, settings=self.settings.with_overrides(llm=replace(self.settings.llm, url=url, model=model)))

    def document_units(self, doc_id: str) -> list[Unit]:
        """A document's units in reading order."""
        return self.index.document_units(doc_id)

    def countries_named(self) -> list[str]:
        """Glossary countries that some unit names, in glossary order (the country filter's options)."""
        present = self.index.countries_named()
        return [c.name for c in self.glossary.countries if c.name in present]


def load_engine(settings: Settings, check_fresh: bool = True) -> Engine:
    """Load the index (refusing a stale one), the encoder, the glossary and the chosen vector store."""
    index = load_index(
        settings.index_dir,
        settings.corpus_dir if check_fresh else None,
        settings.model if check_fresh else None,
        settings.backend if check_fresh else None,
    )
    encoder = load_encoder(index.model, index.backend)
    glossary = load_glossary(settings.corpus_dir)
    retriever = Retriever(index, encoder, glossary, settings.retrieval)
    retriever.store = open_store(settings, index)
    return Engine(settings, index, glossary, retriever, Answerer(retriever, settings.answer))


__all__ = ["Engine", "as_query", "load_engine"]
