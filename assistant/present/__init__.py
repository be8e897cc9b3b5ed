"""Presentation shared by the CLI and the app: safe Markdown, labels, the export, status lines, citation previews
and passages as data for the page, a PDF page with the cited sentences marked.

Nothing here decides an answer; it shows records (Answer, Hit, Unit, the index status) to
people, escaping every character of document and user text on the way.
"""

from assistant.present.export import Turn, conversation_markdown, export_escape
from assistant.present.labels import (
    UPLOAD_PREFIX,
    built_label,
    country_option_label,
    describe_search,
    document_kind_label,
    document_label,
    filter_glossary,
    kind_label,
    missing_actions_label,
    mode_label,
    pages_label,
    passage_line,
    reference_line,
    section_label,
    source_label,
    status_color,
)
from assistant.present.markdown import (
    HIGHLIGHT_COLOR,
    WORD_JOINER,
    answer_markdown,
    escape_inline,
    escape_markdown,
    highlight_spans,
    passage_markdown,
)
from assistant.present.pages import PageImage, page_image
from assistant.present.preview import answer_view, citation_preview, passage_view, plain_answer
from assistant.present.status import cached_status, status_record
from assistant.present.text import human_answer, human_search

__all__ = [
    "HIGHLIGHT_COLOR", "UPLOAD_PREFIX", "WORD_JOINER", "PageImage", "Turn", "answer_markdown", "answer_view",
    "citation_preview", "page_image", "passage_view", "plain_answer", "built_label", "cached_status",
    "conversation_markdown", "country_option_label", "describe_search", "document_kind_label", "document_label",
    "escape_inline", "escape_markdown", "export_escape", "filter_glossary", "highlight_spans", "human_answer",
    "human_search", "kind_label", "missing_actions_label", "mode_label", "pages_label", "passage_line",
    "passage_markdown", "reference_line", "section_label", "source_label", "status_color", "status_record",
]
