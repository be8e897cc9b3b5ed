"""Reading a source file's bytes and text, within the size limit, with one sentence on any problem."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import AssistantError

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024  # the app's upload limit (.streamlit/config.toml) and the CLI's


def size_limit_sentence(name: str) -> str:
    return f"{name} is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit."


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing, empty or oversized file is refused."""
    if not path.is_file():
        raise AssistantError(f"{path} does not exist.")
    size = path.stat().st_size
    if size == 0:
        raise AssistantError(f"{path.name} is empty (zero bytes).")
    if size > MAX_FILE_BYTES:
        raise AssistantError(size_limit_sentence(path.name))
    return path.read_bytes()


def read_text_file(path: Path) -> str:
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AssistantError(f"{path.name} is not UTF-8 text; convert it to UTF-8 and add it again.") from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise AssistantError(f"{path.name} has no text in it.")
    return text
