"""Reading a source file's bytes and text, within the size limit, with one sentence on any problem.

Text files are decoded by what their bytes are, not assumed UTF-8: a byte-order mark
first, then UTF-8, then charset-normalizer's best guess (Windows-1252, Latin-1, UTF-16
without a mark, ...). A file whose bytes fit no text encoding is refused.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from assistant.errors import AssistantError

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
DOCX_SUFFIXES = (".docx",)
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + DOCX_SUFFIXES + PDF_SUFFIXES
FORMATS_SENTENCE = "PDF, Word (.docx), HTML, Markdown or plain text"
MAX_FILE_BYTES = 20 * 1024 * 1024  # the app's upload limit (.streamlit/config.toml) and the CLI's

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


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


def decode_text(data: bytes, name: str) -> str:
    """The text the bytes hold, in whatever encoding they are in; one sentence if they are not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), name)
            except UnicodeDecodeError:
                raise AssistantError(f"{name} starts like {encoding.upper()} text but is not; save it again as text.") from None
    try:
        return _checked(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    return _checked(_detected(data, name), name)


def _detected(data: bytes, name: str) -> str:
    """charset-normalizer's reading, with Windows-1252 first when it reads the bytes about as well.

    On short texts several code pages read equally well ("déjà" is "déjŕ" in Windows-1250 and
    "déją" in Windows-1257) and the detector's order among them is arbitrary; text that is not
    UTF-8 in this field is most often Windows-1252, so it is taken unless the detector finds
    it clearly worse (Greek, Cyrillic and other scripts read as gibberish in it).
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise AssistantError(f"{name} is not text in any encoding that could be detected; save it as UTF-8 text.")
    chaos = min(m.chaos for m in matches)
    western = [m for m in matches if m.encoding in ("cp1252", "latin_1", "iso8859_15") and m.chaos <= chaos + 0.1]
    return str(western[0] if western else matches[0])


def _checked(text: str, name: str) -> str:
    text = text.lstrip("\ufeff")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f")
    if controls > max(2, len(text) // 100):
        raise AssistantError(f"{name} holds binary data, not text; add the original document instead.")
    return text


def read_text_file(path: Path) -> str:
    text = decode_text(read_bytes(path), path.name)
    if not text.strip():
        raise AssistantError(f"{path.name} has no text in it.")
    return text
