"""Names spelled once: the kinds of units and documents, the retrieval modes and the field labels.

Every module that needs one of these lists imports it from here, so a new kind is added in
one place and the CLI's choices, the app's labels and the chunker cannot disagree.
"""

from __future__ import annotations

# The unit a reader cites, and how the app names it.
UNIT_KINDS: dict[str, str] = {
    "action": "Action",
    "annex_item": "Annex item",
    "letter_section": "Letter section",
    "action_plans_table": "Action plans table",
    "cover_note": "Cover note",
    "section": "Section",  # general documents: a heading and the paragraphs it owns
    "passage": "Paragraphs",  # general documents: paragraphs under no heading, a few at a time
    "paragraph": "Numbered paragraph",  # general documents: a paragraph the document numbers ("1. The Council ...")
}

# What a document is by its structure; the chunker picks its parser by this.
DOCUMENT_KINDS: dict[str, str] = {
    "action_file": "Action file",  # a table of actions (Action / Lead actor(s) / Status / ... or Measure / Responsible / ...)
    "letter": "Letter",  # a salutation ("Dear ...") and a body, perhaps a closing and an annex table
    "general": "Document",  # anything else: reports, conclusions, press releases, speeches, statistics
}

# What a document is for a reader (its genre), used in labels: "Commission press release, 21 November 2022".
GENRES: dict[str, str] = {
    "action_file": "action file",
    "action_plan": "action plan",
    "letter": "letter",
    "press_release": "press release",
    "news": "news article",
    "report": "report",
    "conclusions": "conclusions",
    "speech": "speech",
    "statement": "statement",
    "statistics": "statistics",
    "note": "note",
    "document": "document",
}

# Retrieval modes and their names in the app (a reader knows "meaning" and "keywords").
MODES: dict[str, str] = {
    "hybrid": "Hybrid",
    "dense": "Meaning",
    "bm25": "Keywords",
}

# Columns of the action and annex tables, as the chunker writes them into a unit's text.
FIELD_LABELS: dict[str, str] = {
    "lead_actors": "Lead actor(s)",
    "status": "Status",
    "way_ahead": "Way ahead",
    "comments": "Comments",
    "footnotes": "Footnotes",
    "letter_text": "President's letter/EUCO conclusions",
    "state_of_play": "State of Play",
}
# A label the chunker writes in the EU Action Plans table only.
PROGRESS_LABEL = "Progress"

STORES = ("faiss", "milvus")
EMBEDDING_BACKENDS = ("torch", "onnx", "onnx-int8")
