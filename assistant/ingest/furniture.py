"""Furniture: text on a page that is not part of the document, and is never indexed.

What counts as furniture, by category (each line dropped is reported with its category):

- ``web``: web-page chrome a saved or copied page still carries: skip links, cookie
  notices and their buttons, share/print/follow prompts, breadcrumbs, reading times,
  wiki revision notices ("(diff) ← Older revision | ...").
- ``page``: page furniture: page numbers ("/ 5", "page 2 / 3", "- 3 -"), continuation
  marks ("./.."), registry stamps ("Ref. Ares(2023)1028224 - 13/02/2023"), and running
  headers or footers (the same short line repeated on three or more pages or blocks).
- ``contact``: letterhead footers and contact blocks: postal addresses, telephone, fax and
  e-mail lines, and a "Press contacts" block with the names and numbers under it.
- ``media``: links to media standing alone ("Video: https://...", a bare URL).
- ``metadata``: lines that are the document's metadata rather than its text: a line naming
  only the issuing body or its office ("Council of the EU", "The President"), a dateline
  alone on its line ("Brussels, 4 March 2016"), a repost's "Source: ..., published on ..."
  line, a list of short metadata items holding a date or time ("• 20/07/2015", "• 12:45",
  "• Press release"), the lines above a Markdown document's "# Title", and the title line
  itself. Their content is read into the document's metadata (date, issuer, reference,
  title) before they are dropped.

Everything else is text: it lands in exactly one unit (tests/chunking/test_general.py).
"""

from __future__ import annotations

import re

WEB, PAGE, CONTACT, MEDIA, METADATA = "web", "page", "contact", "media", "metadata"

_WEB = re.compile(
    r"^(?:skip to (?:main )?content|skip to navigation|jump to (?:navigation|search)|share this page|share(?: this)?:?"
    r"(?:\s+(?:facebook|x|twitter|linkedin|e-?mail|whatsapp|print))*|print(?: this page| friendly pdf)?|"
    r"back to top|top of page|follow us(?: on .*)?|subscribe(?: to our newsletter)?|accept (?:all|only essential) cookies|"
    r"(?:refuse|reject|decline) (?:all |non-essential )?cookies|cookie settings|manage cookies|ok|i accept|"
    r"you are here:?.*|breadcrumbs?|page contents|on this page|related (?:links|content|documents)|"
    r"\d+\s+min(?:ute)?s?\s+read|this is the stable version\.?|revision as of .*|"
    r"\(diff\).*(?:older|newer) revision.*|download (?:pdf|file)|pdf herunterladen|open in new window|"
    r"find out more on how we use cookies\.?)$",
    re.IGNORECASE,
)
_COOKIES = re.compile(r"\b(?:this (?:site|website) uses cookies|we use cookies|uses? cookies to)\b", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–]?\s*\d{1,4}\s*(?:(?:/|of)\s*\d+)?\s*[-–]?$|^/\s*\d+$", re.IGNORECASE)
_CONTINUATION = re.compile(r"^\s*\./\.\.\s*$")
_STAMP = re.compile(r"\bRef\.\s*Ares\(\d{4}\)\s*\d+", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+\d{2}[\d\s()./-]{6,}\d|\b(?:tel|tél|fax|phone|e-?mail)\b\.?\s*[:./])", re.IGNORECASE)
_ADDRESS = re.compile(r"\b(?:rue de la loi|wetstraat|rue de la science|avenue d'auderghem|plac\s+luxembourg)\b|"
                      r"\b\d{4}\s+(?:bruxelles|brussel|brussels|luxembourg|strasbourg)\b", re.IGNORECASE)
_PRESS_CONTACTS = re.compile(r"^(?:press|media) contacts?:?$", re.IGNORECASE)
_MEDIA = re.compile(r"^(?:(?:video|audio|watch|listen|photos?|images?|podcast)\s*:\s*)?(?:https?://|www\.)\S+$", re.IGNORECASE)
_SOURCE_REPOST = re.compile(r"^source\s*:.*\b(?:published|posted)\b", re.IGNORECASE)
_OFFICE = re.compile(r"^(?:the (?:president|vice-president|secretary[- ]general|high representative)|"
                     r"general secretariat|secretariat[- ]general|directorate-general for .*|representation in .*|"
                     r"the commissioner(?: for .*)?)$", re.IGNORECASE)
_TIME = re.compile(r"^\d{1,2}[:.]\d{2}(?:\s*(?:am|pm|cet|cest))?$", re.IGNORECASE)


def web_or_page_furniture(text: str) -> str:
    """The furniture category of one line taken alone, or '' if the line may be text."""
    line = text.strip()
    if not line:
        return ""
    if _WEB.match(line) or (_COOKIES.search(line) and len(line.split()) <= 40):
        return WEB
    if _CONTINUATION.match(line) or _PAGE_NUMBER.match(line) or (_STAMP.search(line) and len(line.split()) <= 8):
        return PAGE
    if _MEDIA.match(line):
        return MEDIA
    if len(line.split()) <= 20 and (_PHONE.search(line) or _ADDRESS.search(line)) and not line.endswith((".", "?", "!")):
        return CONTACT
    if _SOURCE_REPOST.match(line):
        return METADATA
    return ""


def is_press_contacts(text: str) -> bool:
    return bool(_PRESS_CONTACTS.match(text.strip()))


def is_office_line(text: str) -> bool:
    """'The President', 'General Secretariat', 'Directorate-General for ...': an office in a letterhead."""
    return bool(_OFFICE.match(text.strip().rstrip(",")))


def is_time(text: str) -> bool:
    return bool(_TIME.match(text.strip()))


def furniture_key(text: str) -> str:
    """A running header or footer is the same line on every page, whatever its page number."""
    return re.sub(r"\d+|\s+", lambda m: "" if m.group(0).isspace() else "#", text).lower()
