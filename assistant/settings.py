"""Settings in one place, with defaults that work offline; environment variables override them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.models import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RetrievalSettings:
    mode: str = "hybrid"  # dense, bm25 or hybrid
    k: int = 10
    rrf_k: int = 60  # reciprocal rank fusion: score = sum 1 / (rrf_k + rank), rank counted from 1
    candidates: int = 50  # chunks taken from each retriever before fusion and deduplication


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 6  # retrieved units the answer may quote from
    max_sentences: int = 6
    # Abstain when the best passage's dense cosine similarity to the question is below this.
    # Calibrated on the gold set's unanswerable questions (see eval/results).
    min_similarity: float = 0.20
    llm_url: str = ""  # an OpenAI-compatible endpoint turns the optional generative mode on
    llm_model: str = ""
    llm_timeout: float = 20.0


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    model: str = DEFAULT_MODEL
    backend: str = "onnx-int8"  # embedding runtime: torch, onnx or onnx-int8 (see README: equal hybrid quality, fastest)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings() -> Settings:
    """Defaults, overridden by ASSISTANT_CORPUS, _INDEX, _MODEL, _BACKEND and ASSISTANT_LLM_URL/_MODEL."""
    settings = Settings()
    env = os.environ
    changes: dict[str, object] = {}
    if env.get("ASSISTANT_CORPUS"):
        changes["corpus_dir"] = Path(env["ASSISTANT_CORPUS"])
    if env.get("ASSISTANT_INDEX"):
        changes["index_dir"] = Path(env["ASSISTANT_INDEX"])
    if env.get("ASSISTANT_MODEL"):
        changes["model"] = env["ASSISTANT_MODEL"]
    if env.get("ASSISTANT_BACKEND"):
        changes["backend"] = env["ASSISTANT_BACKEND"]
    if env.get("ASSISTANT_LLM_URL"):
        changes["answer"] = replace(
            settings.answer, llm_url=env["ASSISTANT_LLM_URL"], llm_model=env.get("ASSISTANT_LLM_MODEL", "")
        )
    return settings.with_overrides(**changes) if changes else settings
