"""The answering engine the CLI, the app and the benchmarks share: loaded once per process.

The CLI and the app hand it one `Query` (the question, filters, mode, number of passages,
conversation context); `load_engine(settings)` loads the index, the encoder, the glossary
and the vector store the settings choose (FAISS, or Milvus), so every front end can use either.
A question with earlier turns in `Query.context` is first read against them
(assistant/answering/conversation.py): "and Greece?" is searched as the question it stands for,
and the answer says what was searched (`Answer.searched`, `Answer.followup`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from assistant.answering import Answerer, generate_answer
from assistant.answering.conversation import Resolution, Resolver
from assistant.embedding import load_encoder
from assistant.index import LoadedIndex, load_index
from assistant.ingest import Glossary, load_glossary
from assistant.records import Answer, SearchResult, Unit
from assistant.search import Filters, Query, Retriever, clean_question, open_store
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
    _resolver: Resolver | None = field(default=None, repr=False)

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            self._resolver = Resolver(self.glossary, self.index.units, self.index.documents,
                                      self.index.documents_with_kind("annex_item"))
        return self._resolver

    def resolve(self, query: Query) -> tuple[Query, Resolution | None]:
        """The query to run: a follow-up (earlier turns in `query.context`) rewritten to stand alone."""
        if not query.context:
            return query, None
        asked = clean_question(query.question)  # an empty or overlong question is refused before anything else
        resolution = self.resolver.resolve(asked, query.context)
        if resolution.changed:
            query = replace(query, question=resolution.searched)
        if resolution.documents and not query.filters.doc_ids:  # "what did the 2023 letter say about it?"
            query = replace(query, filters=replace(query.filters, doc_ids=resolution.documents))
        return query, resolution

    def ask(self, query: Query | str, filters: Filters | None = None, mode: str | None = None) -> Answer:
        """The answer; from an index behind the corpus, with the stale notice as its last note."""
        query, resolution = self.resolve(as_query(query, filters, mode))
        if self.settings.llm.url:
            answer = generate_answer(self.answerer, self.settings.llm, query)
        else:
            answer = self.answerer.ask(query)
        answer.searched = answer.question
        if resolution is not None:
            answer.question = resolution.question
            answer.searched = resolution.searched
            answer.followup = resolution.to_dict()
        notice = self.index.stale_notice()
        if notice:
            answer.notes.append(notice)
        return answer

    def search(self, query: Query | str, filters: Filters | None = None, mode: str | None = None) -> SearchResult:
        query, _ = self.resolve(as_query(query, filters, mode))
        prepared = self.retriever.prepare(query.question)
        foreign = bool(self.answerer.language_of(prepared.text))  # read by the multilingual encoder, as answers are
        hits = self.retriever.search(prepared, k=query.k, mode=query.mode, filters=query.filters, foreign=foreign)
        notice = self.index.stale_notice()
        return SearchResult(prepared.text, hits, [notice] if notice else [])

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
    """Load the index, the glossary, the encoder and the chosen vector store.

    With `check_fresh` the index must be whole and built with the settings' model and chunker; one
    behind the corpus is served, each answer and search carrying the stale notice.
    """
    index = load_index(
        settings.index_dir,
        settings.corpus_dir if check_fresh else None,
        settings.model if check_fresh else None,
        settings.backend if check_fresh else None,
    )
    glossary = load_glossary(settings.corpus_dir)  # before the encoder: a damaged glossary is told at once
    encoder = load_encoder(index.model, index.backend)
    retriever = Retriever(index, encoder, glossary, settings.retrieval)
    retriever.store = open_store(settings, index)
    return Engine(settings, index, glossary, retriever, Answerer(retriever, settings.answer))


__all__ = ["Engine", "as_query", "load_engine"]
