"""The extractive answer's weights and margins, in one place.

Set by hand in the first version on the gold set (commits a7ad59c and 54026c8, "Answers:
titles are context not answers, lead-actor questions, tighter margin for other units");
they were never fitted. The answer issue replaces the weights by a learned ranker.
"""

# A sentence's score: SENTENCE * cosine(question, sentence) + LEXICAL * share of the question's
# terms it holds + RANK / the rank of its unit.
SENTENCE_WEIGHT, LEXICAL_WEIGHT, RANK_WEIGHT = 1.0, 0.25, 0.15
LATEST_FACT_BONUS = 0.08  # Comments / State of Play / Progress lines, for status questions
LATEST_FACT_FIELDS = ("comments", "state_of_play", "progress")
LEAD_ACTORS_BONUS = 0.2  # the Lead actor(s) line, for "who leads" questions
COVER_NOTE_PENALTY = 0.05  # the cover note matches any mention of "the action file"

# Which sentences join the best one.
MARGIN = 0.15  # sentences of the best sentence's unit within this score of it are kept
OTHER_UNIT_MARGIN = 0.08  # ... and of other units within this
OTHER_DOCUMENT_MARGIN = 0.25  # the best sentence of another document within this, for comparison
MAX_PER_UNIT = 3
LIST_ITEMS_AFTER_LEAD_IN = 2  # a lead-in ending with a colon brings this many items
STATUS_LINES = 2  # status lines of at most this many actions lead a status answer
