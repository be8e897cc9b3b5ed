"""The two kinds of failure a user can be told about in one sentence."""


class AssistantError(Exception):
    """A problem the user can fix; its message is one plain sentence."""


class StaleIndexError(AssistantError):
    """The index on disk does not match the corpus, model or chunker and must be rebuilt."""
