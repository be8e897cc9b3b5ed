"""The bodies that issue EU migration-policy documents: their names, how texts and addresses name them.

Each issuer has one canonical name (what Document.issuing_body stores when the issuer is
read from a document), a short name for labels ("Commission press release, 21 November
2022"), the ways letterheads and texts write it, and the web addresses it publishes under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass(frozen=True)
class Issuer:
    name: str
    short: str  # for labels
    aliases: tuple[str, ...]  # as texts write it, matched whole-word, any case
    hosts: tuple[str, ...] = ()  # web addresses (host, or host/path prefix) it publishes under


ISSUERS: tuple[Issuer, ...] = (
    Issuer("European Commission", "Commission", ("European Commission", "the Commission", "Commission européenne",
                                                   "Europäische Kommission", "EC"),
           ("ec.europa.eu", "commission.europa.eu", "home-affairs.ec.europa.eu", "representation.ec.europa.eu")),
    Issuer("Council of the European Union", "Council", ("Council of the European Union", "Council of the EU",
                                                         "Council of the Union", "General Secretariat of the Council"),
           ("consilium.europa.eu/en/press", "data.consilium.europa.eu")),
    Issuer("European Council", "European Council", ("European Council", "President of the European Council"),
           ("consilium.europa.eu/en/european-council",)),
    Issuer("European Parliament", "Parliament", ("European Parliament", "MEPs", "the Parliament"),
           ("europarl.europa.eu",)),
    Issuer("Eurostat", "Eurostat", ("Eurostat",), ("ec.europa.eu/eurostat",)),
    Issuer("EUAA", "EUAA", ("European Union Agency for Asylum", "EUAA", "EASO", "European Asylum Support Office"),
           ("euaa.europa.eu", "easo.europa.eu")),
    Issuer("Frontex", "Frontex", ("Frontex", "European Border and Coast Guard Agency"), ("frontex.europa.eu",)),
    Issuer("Europol", "Europol", ("Europol",), ("europol.europa.eu",)),
    Issuer("EEAS", "EEAS", ("European External Action Service", "EEAS"), ("eeas.europa.eu",)),
    Issuer("European Court of Auditors", "Court of Auditors", ("European Court of Auditors",), ("eca.europa.eu",)),
    Issuer("FRA", "FRA", ("European Union Agency for Fundamental Rights", "FRA"), ("fra.europa.eu",)),
)
_BY_NAME = {issuer.name: issuer for issuer in ISSUERS}


def _pattern(alias: str) -> re.Pattern[str]:
    flags = 0 if alias.isupper() else re.IGNORECASE  # "EC", "FRA" only in capitals
    return re.compile(r"(?<![\w-])" + re.escape(alias) + r"(?![\w-])", flags)


_PATTERNS = [(issuer, _pattern(alias)) for issuer in ISSUERS for alias in issuer.aliases]


def issuer_named(text: str) -> Issuer | None:
    """The issuer a short text names in full ('EUROPEAN COMMISSION', 'European Union Agency for Asylum (EUAA)')."""
    cleaned = " ".join(text.split()).strip(" ,.:;")
    for issuer, pattern in _PATTERNS:
        match = pattern.search(cleaned)
        if match and (len(cleaned) - (match.end() - match.start())) <= max(12, len(cleaned) // 2):
            return issuer
    return None


def is_body_line(text: str) -> bool:
    """A line that is only an issuer's name (a letterhead or site line: 'Council of the EU')."""
    cleaned = " ".join(text.split()).strip(" ,.:;")
    return any(pattern.fullmatch(cleaned) for _, pattern in _PATTERNS if not pattern.pattern.startswith("(?<![\\w-])the"))


def issuer_of_url(url: str) -> Issuer | None:
    """The issuer an official address belongs to (the longest matching host or host/path prefix)."""
    parsed = urlparse(url)
    host, path = parsed.netloc.lower().removeprefix("www."), parsed.path.lower()
    best: tuple[int, Issuer] | None = None
    for issuer in ISSUERS:
        for spec in issuer.hosts:
            domain, _, prefix = spec.partition("/")
            if (host == domain or host.endswith("." + domain)) and path.startswith("/" + prefix if prefix else "/"):
                if best is None or len(spec) > best[0]:
                    best = (len(spec), issuer)
    return best[1] if best else None


def issuer_mentions(text: str) -> dict[str, int]:
    """How often each issuer is named in a text (canonical name -> count)."""
    counts: dict[str, int] = {}
    for issuer, pattern in _PATTERNS:
        found = len(pattern.findall(text))
        if found:
            counts[issuer.name] = counts.get(issuer.name, 0) + found
    return counts


def canonical_issuer(value: str) -> str:
    """A user's or a file's issuer as the canonical name when it is one we know, else as given."""
    issuer = issuer_named(value)
    return issuer.name if issuer is not None else " ".join(value.split())


def short_issuer(name: str) -> str:
    issuer = _BY_NAME.get(name) or issuer_named(name)
    return issuer.short if issuer is not None else ""
