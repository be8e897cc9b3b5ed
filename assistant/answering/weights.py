"""The answer's structural limits, in one place.

What is learned or calibrated lives with the ranker in ranker.json (its weights, and the
keep ratio, keep floor and answer threshold chosen with it by `python -m eval.fit_ranker`,
on the fit and calibrate splits; eval/results/ranker.md). What is here is set by reading:
how much of a unit or a list a reader wants quoted.
"""

MAX_PER_UNIT = 4  # sentences quoted from one unit, list items after a lead-in not counted
LIST_ITEMS = 8  # a lead-in ending with a colon brings up to this many of its items
STATUS_LINES = 2  # status lines of at most this many actions lead a status answer
TYPE_WINDOW = 5  # the best this many candidates are searched for the asked organiser, or for a plan told as the outcome
TYPED_WINDOW = 12  # the best this many are searched for an instance of the asked type that speaks of the key word
ABOUT_OVERLAP = 0.3  # a typed instance counts only in a sentence sharing this share of the question's idf-weighted terms
KEY_COVERAGE = 0.6  # or, short of the key word, this share of the idf weight of the focus words its unit uses
