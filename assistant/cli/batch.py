"""Reading questions for `search` and `ask`: one QUESTION, or a batch file of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError


@dataclass
class BatchItem:
    line_no: int
    raw: object  # the question as found in the file, before cleaning


def read_batch(path: Path) -> list[BatchItem]:
    """One question per line, or JSON Lines with a "question" field; blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssistantError(f"The batch file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise AssistantError(f"The batch file {path} is not UTF-8 text.") from None
    except IsADirectoryError:
        raise AssistantError(f"The batch file {path} is a folder, not a file.") from None
    items: list[BatchItem] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                record = json.loads(stripped)
            except json.JSONDecodeError:
                raise AssistantError(f"Line {line_no} of {path.name} starts like JSON but is not valid JSON.") from None
            if not isinstance(record, dict) or "question" not in record:
                raise AssistantError(f"Line {line_no} of {path.name} has no \"question\" field.")
            items.append(BatchItem(line_no, record["question"]))
        else:
            items.append(BatchItem(line_no, line))
    return items
