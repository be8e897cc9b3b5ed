"""Token lengths, measured two ways: the embedding model's own tokenizer and tiktoken.

The model tokenizer decides where units are split (its input limit is what matters);
tiktoken (cl100k_base, offline) reports lengths in the units LLM prompts are budgeted in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from assistant.offline import tiktoken_encoding


@lru_cache(maxsize=4)
def model_tokenizer(model_dir: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=4)
def common_words(model_dir: Path) -> frozenset[str]:
    """Whole words of the embedding model's vocabulary: common English, not names (none if it has no tokenizer file)."""
    try:
        vocabulary = model_tokenizer(model_dir).get_vocab()
    except Exception:  # a model without a tokenizer file: every capitalised word may be a name
        return frozenset()
    return frozenset(word for word in vocabulary if word.isalpha() and not word.startswith("##"))


class TokenCounter:
    """Counts model tokens, special tokens included, as the model will see them."""

    def __init__(self, model_dir: Path) -> None:
        self._tokenizer = model_tokenizer(model_dir)

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)


def tiktoken_length(text: str, encoding: str = "cl100k_base") -> int:
    return len(tiktoken_encoding(encoding).encode(text, disallowed_special=()))
