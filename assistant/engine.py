"""The answering engine the CLI, the app and the benchmarks share: loaded once per process."""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.answers import Answerer
from assistant.embedding import load_encoder
from assistant.glossary import Glossary, load_glossary
from assistant.index import LoadedIndex, load_index
from assistant.records import Answer
from assistant.retrieval import Filters, Retriever
from assistant.settings import Settings


@dataclass
class Engine:
    settings: Settings
    index: LoadedIndex
    glossary: Glossary
    retriever: Retriever
    answerer: Answerer

    def ask(self, question: str, filters: Filters | None = None, mode: str | None = None) -> Answer:
        if self.settings.answer.llm_url:
            from assistant.generation import generate_answer

            return generate_answer(self, question, filters=filters, mode=mode)
        return self.answerer.ask(question, filters=filters, mode=mode)

    def with_llm(self, url: str, model: str) -> Engine:
        """The same engine with the optional generative mode on."""
        answer = replace(self.settings.answer, llm_url=url, llm_model=model)
        return replace(self, settings=self.settings.with_overrides(answer=answer))


def load_engine(settings: Settings, check_fresh: bool = True) -> Engine:
    """Load the index (refusing a stale one), the encoder and the glossary."""
    index = load_index(
        settings.index_dir,
        settings.corpus_dir if check_fresh else None,
        settings.model if check_fresh else None,
        settings.backend if check_fresh else None,
    )
    encoder = load_encoder(index.model, index.backend)
    glossary = load_glossary(settings.corpus_dir)
    retriever = Retriever(index, encoder, glossary, settings.retrieval)
    return Engine(settings, index, glossary, retriever, Answerer(retriever, settings.answer))
