"""Answering: the question read, sentences of the retrieved units chosen and cited, or abstention.

`Answerer.ask(query)` gives the extractive answer (verbatim sentences, each cited); the
optional generative mode (`generate_answer`) writes from the same passages and keeps only
sentences a retrieved passage supports. `NO_ANSWER` is the one sentence of an abstention.
"""

from assistant.answering.abstention import NO_ANSWER, POSSIBLY_RELATED, AbstentionRules
from assistant.answering.analysis import QuestionAnalysis, analyse, is_status_question
from assistant.answering.extractive import Answerer
from assistant.answering.generative import build_prompt, generate_answer

__all__ = ["NO_ANSWER", "POSSIBLY_RELATED", "AbstentionRules", "Answerer", "QuestionAnalysis", "analyse",
           "build_prompt", "generate_answer", "is_status_question"]
