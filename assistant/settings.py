"""Settings in one place, with defaults that work offline; environment variables override them.

This is the only module that reads environment variables. Settings are grouped by concern
(paths, embedding, retrieval, answers, vector store, optional language model); every
threshold and weight is here or in `assistant/answering/weights.py`, each with a comment
saying where its value came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# ONNX int8 is the default runtime: equal hybrid quality to PyTorch on the gold set, 2.2 times
# the embedding throughput, 0.6 s instead of 8 s to start (eval/results/embedding_bench.md).
DEFAULT_BACKEND = "onnx-int8"


@dataclass(frozen=True)
class PathSettings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    runs_dir: Path = PROJECT_ROOT / "eval" / "runs"  # saved evaluation runs (`assistant eval`), read by the app
    data_dir: Path = PROJECT_ROOT / "data"  # the app's conversations and feedback (SQLite); not committed


@dataclass(frozen=True)
class EmbeddingSettings:
    model: str = DEFAULT_MODEL  # a name in assistant/models.py
    backend: str = DEFAULT_BACKEND  # torch, onnx or onnx-int8
    # onnxruntime intra-op threads: the target machine has 2 cores; more threads only add
    # contention (eval/results/embedding_bench.md).
    threads: int = 2


@dataclass(frozen=True)
class RetrievalSettings:
    mode: str = "hybrid"  # dense, bm25 or hybrid
    k: int = 10
    # Reciprocal rank fusion: score = sum 1 / (rrf_k + rank), rank counted from 1; 60 is the
    # value of Cormack, Clarke and Buettcher (SIGIR 2009), kept after the gold-set evaluation.
    rrf_k: int = 60
    candidates: int = 50  # chunks taken from each retriever before fusion and deduplication


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 6  # retrieved units the answer may quote from
    max_sentences: int = 6  # answer lines before structure (a lead-in's items, status lines) is added
    # When to abstain is learned and calibrated with the sentence ranker (assistant/answering/ranker.json).


@dataclass(frozen=True)
class LlmSettings:
    """The optional generative mode: an OpenAI-compatible endpoint, off when url is empty."""

    url: str = ""
    model: str = ""
    timeout: float = 20.0  # seconds; a slower answer falls back to the extractive one


@dataclass(frozen=True)
class StoreSettings:
    """Which vector store serves dense search, and where Milvus runs when it is chosen."""

    name: str = "faiss"  # faiss (the index's own) or milvus
    milvus_uri: str = ""  # "" = <index dir>/milvus.db, the local engine; http(s)://host:19530 for a server
    milvus_token: str = ""
    milvus_db: str = ""
    milvus_collection: str = "assistant_chunks"
    milvus_index: str = ""  # "" = FLAT locally, HNSW on a server
    milvus_consistency: str = "Session"
    milvus_log_level: str = "ERROR"


@dataclass(frozen=True)
class Settings:
    paths: PathSettings = field(default_factory=PathSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tiktoken_cache_dir: str = ""  # "" = beside the virtual environment

    # Shortcuts for the four values nearly every caller needs.
    @property
    def corpus_dir(self) -> Path:
        return self.paths.corpus_dir

    @property
    def index_dir(self) -> Path:
        return self.paths.index_dir

    @property
    def data_dir(self) -> Path:
        return self.paths.data_dir

    @property
    def model(self) -> str:
        return self.embedding.model

    @property
    def backend(self) -> str:
        return self.embedding.backend

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with whole groups replaced, or the shortcuts corpus_dir, index_dir, data_dir, model, backend."""
        paths = {k: changes.pop(k) for k in ("corpus_dir", "index_dir", "data_dir") if k in changes}
        embedding = {k: changes.pop(k) for k in ("model", "backend") if k in changes}
        if paths:
            changes["paths"] = replace(self.paths, **paths)  # type: ignore[arg-type]
        if embedding:
            changes["embedding"] = replace(self.embedding, **embedding)  # type: ignore[arg-type]
        return replace(self, **changes)  # type: ignore[arg-type]


def _group(cls: type, environ: Mapping[str, str], names: Mapping[str, str]) -> object:
    """A settings group from the variables that are set (names: field -> variable)."""
    values: dict[str, object] = {}
    types = {f.name: f.type for f in fields(cls)}
    for name, variable in names.items():
        raw = environ.get(variable, "")
        if raw == "":
            continue
        kind = types[name]
        values[name] = Path(raw) if "Path" in str(kind) else float(raw) if "float" in str(kind) else raw
    return cls(**values)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, overridden by ASSISTANT_* variables (see the README's settings table)."""
    env = os.environ if environ is None else environ
    return Settings(
        paths=_group(PathSettings, env, {"corpus_dir": "ASSISTANT_CORPUS", "index_dir": "ASSISTANT_INDEX",
                                           "runs_dir": "ASSISTANT_RUNS", "data_dir": "ASSISTANT_DATA"}),  # type: ignore[arg-type]
        embedding=_group(EmbeddingSettings, env, {"model": "ASSISTANT_MODEL", "backend": "ASSISTANT_BACKEND"}),  # type: ignore[arg-type]
        store=_group(StoreSettings, env, {  # type: ignore[arg-type]
            "name": "ASSISTANT_STORE", "milvus_uri": "ASSISTANT_MILVUS_URI", "milvus_token": "ASSISTANT_MILVUS_TOKEN",
            "milvus_db": "ASSISTANT_MILVUS_DB", "milvus_collection": "ASSISTANT_MILVUS_COLLECTION",
            "milvus_index": "ASSISTANT_MILVUS_INDEX", "milvus_consistency": "ASSISTANT_MILVUS_CONSISTENCY",
            "milvus_log_level": "MILVUS_LOG_LEVEL"}),
        llm=_group(LlmSettings, env, {"url": "ASSISTANT_LLM_URL", "model": "ASSISTANT_LLM_MODEL"}),  # type: ignore[arg-type]
        tiktoken_cache_dir=env.get("TIKTOKEN_CACHE_DIR", ""),
    )
