"""The `assistant` command: add, documents, remove, chunks, glossary, index, status, search, ask, chat, feedback,
eval, gold, bench, models.

JSON output shapes of `search` and `ask` are a contract other tools rely on: keys are
only ever added, never renamed or removed. One module per group of commands registers them
on the group in `group.py`.
"""

from __future__ import annotations

import sys

from assistant.cli import ask, corpus, documents, evaluate, feedback, gold, index, models  # noqa: F401  (register the commands)
from assistant.cli.group import cli


def main() -> None:
    cli(prog_name="assistant")


__all__ = ["cli", "main"]

if __name__ == "__main__":
    sys.exit(main())
