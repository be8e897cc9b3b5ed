"""Ingest: source files (text renderings, Markdown, PDF) and their metadata -> SourceLines.

The public face of the first stage. `load_documents` reads documents.json (and the uploads'
metadata), `load_lines` turns one file into SourceLines with page numbers, and the glossary
holds the domain vocabulary that later stages use on both sides of retrieval.
"""

from assistant.ingest.cleaning import REDACTED, html_to_lines, html_to_text, markdown_to_text, strip_list_marker
from assistant.ingest.corpus import (
    METADATA_FILE,
    UPLOADS_DIR,
    UPLOADS_METADATA,
    corpus_lock,
    document_path,
    load_documents,
    read_metadata_entries,
    short_label,
)
from assistant.ingest.blocks import HEADING, ITEM, PARAGRAPH, ROW, Block, Reading, clean_line, number_value, read_blocks
from assistant.ingest.dates import (
    MONTH_PATTERN,
    MONTHS,
    UNDATED,
    check_document_date,
    check_iso_date,
    date_bounds,
    find_dates,
    human_date,
    in_date_range,
    month_number,
)
from assistant.ingest.files import (
    FORMATS_SENTENCE,
    MAX_FILE_BYTES,
    PDF_SUFFIXES,
    SUPPORTED_SUFFIXES,
    TEXT_SUFFIXES,
    decode_text,
    read_text_file,
    size_limit_sentence,
)
from assistant.ingest.glossary import GLOSSARY_FILE, Glossary, load_glossary
from assistant.ingest.hints import Hints, LoadedSource
from assistant.ingest.issuers import ISSUERS, canonical_issuer, short_issuer
from assistant.ingest.loaders import load_lines, load_source
from assistant.ingest.tables import ROW_NUMBER, SECTION_HEADING, is_header_row, is_table_row
from assistant.ingest.text import paginate_text

__all__ = [
    "FORMATS_SENTENCE", "HEADING", "ISSUERS", "ITEM", "PARAGRAPH", "ROW", "UNDATED", "Block", "Hints", "LoadedSource",
    "Reading", "canonical_issuer", "check_document_date", "clean_line", "date_bounds", "decode_text", "find_dates",
    "in_date_range", "load_source", "number_value", "read_blocks", "short_issuer",
    "GLOSSARY_FILE", "MAX_FILE_BYTES", "METADATA_FILE", "MONTHS", "MONTH_PATTERN", "PDF_SUFFIXES", "REDACTED",
    "ROW_NUMBER", "SECTION_HEADING", "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "UPLOADS_DIR", "UPLOADS_METADATA",
    "Glossary", "check_iso_date", "corpus_lock", "document_path", "html_to_lines", "html_to_text", "human_date", "is_header_row",
    "is_table_row", "load_documents", "load_glossary", "load_lines", "markdown_to_text", "month_number",
    "paginate_text", "read_metadata_entries", "read_text_file", "short_label", "size_limit_sentence",
    "strip_list_marker",
]
