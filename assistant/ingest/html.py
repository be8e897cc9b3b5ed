"""Saved web pages (.html) -> the article's text as Markdown lines, and what the page says about itself.

trafilatura finds the main content and drops navigation, cookie banners, breadcrumbs,
headers and footers; it writes headings as `#` lines, lists as `- ` items and tables as
Markdown tables. Figures are turned into plain blocks first, so that their captions (a
chart's title, a quote) stay text. The page's own metadata is read as hints: the
`<!-- Source: URL -->` comment or the canonical link, `<html lang>`, the title, a
structured date (`<time datetime>`, meta tags; htmldate without guessing from the text),
and class names such as "press-release" that say what kind of page it is.
"""

from __future__ import annotations

import re

from assistant.errors import AssistantError
from assistant.ingest.hints import Hints

_SOURCE_COMMENT = re.compile(r"<!--\s*Source:\s*(\S+)\s*-->", re.IGNORECASE)
_GENRE_CLASSES = (("press-release", "press_release"), ("pressrelease", "press_release"), ("press_release", "press_release"),
                  ("speech", "speech"), ("news-article", "news"), ("statement", "statement"))


def html_to_markdown(text: str, name: str) -> tuple[str, Hints]:
    """The article of a page as Markdown text, and the page's hints."""
    import lxml.html
    import trafilatura
    from lxml.etree import ParserError

    try:
        tree = lxml.html.fromstring(text)
    except (ParserError, ValueError):
        raise AssistantError(f"{name} could not be read as HTML; save the page again and add it again.") from None
    hints = _hints(text, tree)
    for element in tree.iter("figure"):
        element.tag = "div"
    for element in tree.iter("figcaption"):
        element.tag = "p"
    markdown = trafilatura.extract(tree, output_format="markdown", include_tables=True, include_formatting=True,
                                   include_comments=False, include_images=False, include_links=False,
                                   deduplicate=False, favor_precision=False)
    if not markdown or not markdown.strip():
        raise AssistantError(f"{name} has no article text that could be found; save the page's text as .txt instead.")
    return markdown, hints


def _hints(text: str, tree) -> Hints:
    from htmldate import find_date

    comment = _SOURCE_COMMENT.search(text[:4096])
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    url = comment.group(1) if comment else (canonical[0].strip() if canonical else "")
    titles = tree.xpath("//h1//text()") or tree.xpath("//title//text()")
    language = (tree.xpath("/html/@lang") or [""])[0].split("-")[0].lower()
    try:
        found = find_date(tree, extensive_search=False, original_date=True, outputformat="%Y-%m-%d") or ""
    except Exception:  # htmldate on an odd page is a hint, never a failure
        found = ""
    classes = " ".join(tree.xpath("//article/@class | //main/@class | //body/@class")).lower()
    genre = next((g for token, g in _GENRE_CLASSES if token in classes), "")
    return Hints(title=" ".join(" ".join(titles[:1]).split()), source_url=url, date=found, language=language,
                 genre=genre)
