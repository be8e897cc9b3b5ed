"""Reading the question before any sentence is chosen: what it asks for, about what, and when.

The record `QuestionAnalysis` is what the rest of answering reads: the intent (status, who
leads, when, how much, how many, list, yes/no, comparison over time, definition, where, why,
what is being done), the expected answer type, the targets (units named by locator,
countries, glossary terms, other names), the time scope and a presupposition ("why did X
stop ..." presupposes that X stopped). The patterns are English and tolerate the way people
type: lower case, no question mark, "whats", everyday words.

The same module knows what an answer of each type looks like inside a sentence (a date, an
amount, a count), so a question and its candidate sentences are read alike.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.ingest import MONTH_PATTERN, Glossary
from assistant.search.locators import LocatorReference, locator_references
from assistant.search.query import without_markup

# --- what the question asks -----------------------------------------------------------------

STATUS_QUESTION = re.compile(
    r"\b(status(?! agreements?\b)|state of play|state of the|stand|stands|standing|progress|progressing|how far|latest|update|advanced|"
    r"up and running|still (?:ongoing|going|running|in place)|been (?:signed|adopted|launched|set up|implemented)|"
    r"being (?:sent|deployed|implemented|prepared|negotiated|discussed)|"
    r"where (?:are|is|do|does) .{0,80}\b(?:stand|now|at))\b",
    re.IGNORECASE,
)
LEADS_QUESTION = re.compile(r"\b(lead actors?|leads?|leading|who (?:is|are) in charge|in charge of|who (?:is|are) responsible|"
                            r"responsible for|who implements|who runs|who drives)\b", re.IGNORECASE)
# "who implements / organised / funds X", "which organisation is to implement X": the doer, which the documents
# often give in the text ("implemented by ICMPD", "organised by the EUAA") rather than in a Lead actor(s) field;
# a question about running something is answered by who implements it, not by who chaired a meeting or paid.
DOER_VERBS = {  # what the question asks the doer of, and the passive that names one ("implemented by ICMPD")
    "carries out": (r"implement\w*|run|runs|running|carr(?:y|ies|ied|ying) out|execut(?:e|es|ed|ing)|manag(?:e|es|ed|ing)|"
                    r"deliver(?:s|ed|ing)?|operat(?:e|es|ed|ing)",
                    r"implemented|run|carried out|executed|managed|delivered|operated|led|coordinated"),
    "organises": (r"organi[sz](?:e|es|ed|ing)|host(?:s|ed|ing)?|chair(?:s|ed|ing)?|convene[sd]?",
                  r"organi[sz]ed|hosted|chaired|convened|coordinated|co-organi[sz]ed"),
    "funds": (r"financ(?:e|es|ed|ing)|fund(?:s|ed|ing)?|pa(?:y|ys|id)|sponsor(?:s|ed)?",
              r"financed|funded|co-funded|paid|sponsored|supported"),
}
DOER_QUESTIONS = {kind: re.compile(rf"\b(?:{asked})\b", re.IGNORECASE) for kind, (asked, _) in DOER_VERBS.items()}
DOER_SENTENCES = {kind: re.compile(rf"\b(?:{named})\s+(?:\w+\s+){{0,2}}by\b", re.IGNORECASE)
                  for kind, (_, named) in DOER_VERBS.items()}
# "who chaired the Solidarity Platform meeting", "who organised the conference", "who took part in the meeting", "who
# signed the contract": the doer of an event or a text, which a Lead actor(s) field does not give; the documents
# name one in the text or not at all (`names_organiser`).
EVENT_NOUNS = ("meeting", "conference", "workshop", "summit", "round ?table", "session", "forum", "seminar", "event",
               "dialogue", "training", "taskforce", "task force", "talks", "consultation", "ministerial", "gathering",
               "exercise", "mission", "visit")
# Bodies whose chair a question may ask ("who chairs the returns working group"); a Lead actor(s) field does not say it.
CHAIRED_BODIES = ("working group", "group", "committee", "board", "platform", "working party")
# Texts whose signatories a question may ask ("who signed the contract in Dhaka").
SIGNED_TEXTS = ("contract", "agreement", "memorandum", "declaration", "arrangement", "roadmap", "deal", "statement")
_ASKING_BODY = (r"\b(?:who|which (?:\w+ ){0,2}(?:organi[sz]ations?|agenc(?:y|ies)|bod(?:y|ies)|countr(?:y|ies)|"
                r"member states?|presidenc(?:y|ies)|institutions?|partners?|ministers?|officials?))\b.{0,60}?\b")
ORGANISER_QUESTION = re.compile(
    _ASKING_BODY + r"(?P<verb>(?:co-)?(?:organi[sz](?:e|es|ed|ing)|host(?:s|ed|ing)?|chair(?:s|ed|ing)?|"
    r"conven(?:e|es|ed|ing))|took part|takes? part|taking part|attend(?:s|ed|ing)?|participat(?:e|es|ed|ing))\b"
    r".{0,80}?\b(?:" + "|".join((*EVENT_NOUNS, *CHAIRED_BODIES)) + r")s?\b"
    r"|" + _ASKING_BODY + r"(?P<sign>sign(?:s|ed|ing)?)\b.{0,80}?\b(?:"
    + "|".join(SIGNED_TEXTS) + r")s?\b", re.IGNORECASE)
# Nouns that, after a name, belong to the thing named ("the EASTEAMS project", "the MPF mobility scheme"). Not the
# nouns a question asks about ("funding", "budget"): "EU funding" would name the attribute, not its subject.
THING_NOUNS = frozenset("""project projects programme program scheme action contract meeting conference roundtable
centre center call package agreement mission workshop delegation system facility fund initiative partnership
operation operations campaign report plan roadmap dialogue strategy platform network visit procedure regulation
route review proposal""".split())
# Where money comes from, not what it is for: "the BMVI project" is named by its project's own name, if any.
FUNDING_NAMES = frozenset({"EU", "EUR", "MS", "BMVI", "AMIF", "ISF", "NDICI", "NDICI-GLOBAL", "IPA", "MFF", "EUTF"})
_THING_NAME_WORD = re.compile(r"[^\W\d_][\w-]*")

_ORGANISER_PAST = {"organi": "organised", "host": "hosted", "chair": "chaired", "conven": "convened",
                   "participat": "took part in", "part": "took part in", "attend": "attended", "sign": "signed"}
# A sentence that names who organised, chaired, hosted or convened something: "chaired by TR and HU", "held by OSCE
# and the Hungarian Ministry", "Frontex organized together with ...", "under the Belgian Presidency".
ORGANISER_SENTENCE = re.compile(
    r"(?i:\b(?:(?:co-)?(?:organi[sz]ed|hosted|chaired|convened)|held|led)\s+(?:\w+\s+){0,3}by\b|"
    r"\bunder the (?:[\w-]+ ){0,3}(?:chair(?:manship)?|presidency|auspices)\b)|"
    r"\b(?:[A-Z][\w-]*|It|They|We)\s+(?:\([^)]*\)\s+)?(?:(?:has|have|had|will|is|are|was|were|also|jointly)\s+)?"
    r"(?:co-)?(?:organi[sz](?:e|es|ed)|host(?:s|ed)|chair(?:s|ed)|conven(?:e|es|ed))\b")
_DOER_AUXILIARY = r"(?:\([^)]*\)\s+)?(?:(?:has|have|had|will|is|are|was|were|also|jointly)\s+)?"
# A sentence that names who took part in or attended an event: "Europol participated in all JADs", "with the
# participation of the EU", "Kick-off meeting with DE, HU and AT and Turkish authorities took place".
PARTICIPANT_SENTENCE = re.compile(
    r"(?i:\b(?:attended|joined)\s+(?:\w+\s+){0,3}by\b|\bwith the participation of\b|\bparticipants?\s+(?:included|were)\b|"
    r"^\W*(?:(?:the|a)\s+)?(?:[\w-]+\s+){0,3}(?:meeting|conference|workshop|summit|seminar|session|talks)s?\s+"
    r"with\s+(?:the\s+)?(?=[A-Z]))|"
    r"\b(?:[A-Z][\w-]*|It|They|We)\s+" + _DOER_AUXILIARY + r"(?:took part|participated|attended|joined)\b")
# A sentence that names who signed a text: "was signed by UNODC on 15 July 2024", "Tunisia and the EU signed"; not
# "the contract ... in Bangladesh was signed", which names what was signed.
SIGNER_SENTENCE = re.compile(r"(?i:\bsigned\s+(?:\w+\s+){0,3}by\b|\bsignator(?:y|ies)\b)|"
                             r"\b(?:[A-Z][\w-]*|They|We)\s+(?:(?:has|have|had|also|jointly)\s+)?(?:co-)?signed\b")
# The sentence form that names the doer, by QuestionAnalysis.organiser_verb (ORGANISER_SENTENCE for the others).
_DOER_SENTENCE = {"took part in": PARTICIPANT_SENTENCE, "attended": PARTICIPANT_SENTENCE, "signed": SIGNER_SENTENCE}
# "when was the contract signed", "on what date did Bulgaria start the procedure": the event whose date is asked,
# and the words a sentence names that event by. A date told of another event of the same thing ("the action was
# adopted in November 2023") does not say when the contract was signed.
DATED_EVENTS = {
    "signed": r"sign\w*", "adopted": r"adopt\w*", "ratified": r"ratif\w*", "lifted": r"lift\w*",
    "launched": r"launch\w*|start\w*|beg[au]n|begin\w*|initiat\w*|kick(?:ed)?[- ]off",
    "concluded": r"conclu\w*|finali[sz]\w*", "published": r"publish\w*|issued",
    "approved": r"approv\w*|endors\w*|adopt\w*", "established": r"establish\w*|set up|opened|creat\w*|launch\w*",
    "completed": r"complet\w*|finali[sz]\w*|finish\w*", "entered into force": r"(?:enter\w*|entry) into force",
}
_EVENT_ASKED = {"signed": r"sign(?:ed|s)?", "adopted": r"adopt(?:ed|s)?", "ratified": r"ratif(?:y|ied|ies)",
                "lifted": r"lift(?:ed|s)?", "launched": r"launch(?:ed|es)?|start(?:ed|s)?|beg[ia]n|begun",
                "concluded": r"conclude[ds]?|finali[sz]ed", "published": r"publish(?:ed|es)?",
                "approved": r"approved?|endorsed?", "established": r"establish(?:ed|es)?|set up|opened",
                "completed": r"complete[ds]?|finished", "entered into force": r"enter(?:ed|s)? into force"}
DATED_EVENT_QUESTION = re.compile(r"\b(?:" + "|".join(f"(?P<e{i}>{pattern})" for i, pattern in enumerate(_EVENT_ASKED.values()))
                                  + r")\b", re.IGNORECASE)
DATED_EVENT_SENTENCE = {event: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for event, words in DATED_EVENTS.items()}
# "which agencies back the scheme", "which organisations took part": organisations are the answer, as a list.
ORGANISATIONS_QUESTION = re.compile(r"\b(?:which|what) (?:\w+ ){0,2}(?:agencies|organisations|organizations|bodies|"
                                    r"institutions|authorities|actors|partners)\b", re.IGNORECASE)
# "which countries / member states took part", "which country is the campaign aimed at": countries are the answer.
COUNTRY_QUESTION = re.compile(r"\b(?:which|what) (?:\w+ ){0,2}(?:countries|country|member states?|nationalities|"
                              r"partner countries|third countries)\b", re.IGNORECASE)
WHICH_BODY_QUESTION = re.compile(r"^\W*(?:which|what) (?:\w+ )?(?:organisation|organization|agency|body|institution|"
                                 r"entity|partner|authority|ministry)\b(?!s)", re.IGNORECASE)
PERSON_QUESTION = re.compile(
    r"\b(name of (?:the )?|names of|what is (?:he|she) called|"
    r"which (?:\w+ ){0,3}(?:minister|commissioner|director|official|person|ambassador|president|prime minister|head)s?\b|"
    r"who (?:was|is|were|are) (?:the )?(?:[\w'’]+ ){0,3}(?:minister|commissioner|director|head|ambassador|official|"
    r"secretary[- ]general|president|chair(?:man|woman|person)?|spokes(?:person|man|woman)|mayor|governor|envoy|"
    r"rapporteur|representative|king|queen)s?\b|"
    # a delegation, a side or a team is headed by a person: "who headed the Frontex delegation"
    r"who (?:headed|heads|head|led|leads|represented) (?:the |a |an )?(?:[\w'’-]+ ){0,3}(?:delegation|side|team|mission)s?\b)",
    re.IGNORECASE)
WHEN_QUESTION = re.compile(r"(^\W*when\b|\bwhen (?:was|were|did|will|is|are|does|do|has|had)\b|\b(?:on|by|from) what date\b|"
                           r"\bwhat date\b|\bwhich date\b|\bdate\b|\bdeadline\b|\bwhat year\b|\bwhich year\b|"
                           r"\bhow long\b|\btimeline\b|\bsince when\b|\bby when\b|\bwhen\s*$)", re.IGNORECASE)
AMOUNT_QUESTION = re.compile(r"(\bhow much\b|\b(?:budget|cost|costs|funding|financing|worth|amount|value|money|"
                             r"eur|euros?|million|billion)\b|€)", re.IGNORECASE)
COUNT_QUESTION = re.compile(r"\b(how many|number of)\b", re.IGNORECASE)
# "how often does the working group meet": a frequency ("monthly", "every two weeks"), which need not hold a digit.
FREQUENCY_QUESTION = re.compile(r"\b(how often|how frequently|how regularly|at what intervals?|how many times a)\b",
                                re.IGNORECASE)
LIST_QUESTION = re.compile(
    r"(\b(?:which|what) (?:\w+ ){0,2}(?:countries|member states|states|islands|measures|activities|kinds|types|areas|"
    r"projects|partners|organisations|organizations|agencies|elements|steps|actions|files|crimes|challenges|"
    r"priorities|pillars|tools|topics|issues|components|fields|sectors|routes|regions|cities|dates)\b|"
    r"\b(?:list|name all|enumerate)\b|\bwhat (?:does|do|did) .{0,60}\binclude\b|\bwhat are the\b|\bsteps\b)",
    re.IGNORECASE)
COMPARISON_QUESTION = re.compile(
    r"\b(compare|comparison|differ|difference|changed?|evolv\w*|develop(?:ed|ments?)? (?:from|between|since)|"
    r"shift\w*|moved on|over time|since (?:june )?20\d\d|between (?:the )?(?:june )?20\d\d .{0,40}and|"
    r"from 20\d\d to 20\d\d|(?:2023|letter) .{0,60}(?:2024|action file)|agree)\b", re.IGNORECASE)
DEFINITION_QUESTION = re.compile(
    r"^\W*(what(?:'s| is| are|s)|define|meaning of)\s+(?:an? |the )?(\S+)\s*\??\s*$|\bstand for\b|\bwhat is meant by\b|"
    r"^\W*what(?:'s| is| are|s) (?:an? |the )?\S+ (?:in|under) \S+", re.IGNORECASE)
WHERE_QUESTION = re.compile(r"(^\W*where\b|\bwhere (?:was|were|did|is|are|will)\b|\bin which (?:city|country|place)\b)",
                            re.IGNORECASE)
# A reason asked for, with "why" or without: "how does Frontex explain the high number of crossings" asks for an
# explanation, not a number; "what caused the rise", "what are the reasons for the delay".
WHY_QUESTION = re.compile(
    r"^\W*why\b|^\W*how (?:does|do|did|can|could|would|is|are|was|were) .{0,80}?\b(?:explain|explained|justify|"
    r"justified|account for|accounted for)\b|^\W*what (?:explains|explained|caused|causes|drives|drove|led to|lies behind)\b|"
    r"^\W*(?:what|which) (?:is|are|was|were) the (?:main |key )?(?:reasons?|causes?|explanations?|drivers?)\b",
    re.IGNORECASE)
YES_NO_QUESTION = re.compile(r"^\W*(is|are|was|were|has|have|had|does|do|did|will|would|can|could|should|shall)\b",
                             re.IGNORECASE)
WHAT_DONE_QUESTION = re.compile(r"\b(what (?:is|are|was|were) (?:being )?(?:done|planned|foreseen|proposed)|way ahead|"
                                r"next steps?|what (?:will|should|does|do|is|are) .{0,80}\b(?:doing|do|done|plan|planning)|"
                                r"what (?:happened|came) next|follow[- ]up)\b", re.IGNORECASE)
# A question about the document's own date ("when was the letter sent", "what date does the note bear"): the
# document's date, shown with every citation, answers it.
DOCUMENT_DATE_QUESTION = re.compile(r"\b(published|dated|issued|sent|written|delivered|signed|bear|bears|adopted|"
                                    r"released|presented|gave|given)\b", re.IGNORECASE)
# What questions call documents, the longer names first ("action file" before "file").
_DOCUMENT_NOUNS = ("action file", "cover note", "letter", "file", "document", "note", "paper")
# A question that names a document ("when was the letter signed"), whose own date may answer it.
DOCUMENT_NAMED = re.compile(r"\b(?:" + "|".join((*_DOCUMENT_NOUNS, "annex")) + r")\b", re.IGNORECASE)
# "When was the letter sent?", "what is the date of the action file": a question that asks nothing but a document's
# own date, which its heading gives (of the kinds users add too). The words such a question may hold besides the
# document it names.
DOCUMENT_OF_QUESTION = re.compile(r"\b(" + "|".join((*_DOCUMENT_NOUNS, "press release", "report", "conclusions",
                                                     "speech", "statement")) + r")s?\b", re.IGNORECASE)
_DOCUMENT_DATE_WORDS = frozenset("""when on what what's which date day was is were did does do the a an this that its it of
has have been by from commission commission's council council's eu european presidency's latest last first
sent send dated date written write issued issue published publish signed sign delivered deliver released release
presented present bear bears adopted adopt""".split())
# A question about the plan itself ("when was the call due to conclude", "what is foreseen"): a passage that tells of
# the event as planned answers it. Not "plan": in these documents it is mostly the noun of "action plan".
PLAN_QUESTION = re.compile(r"\b(due to|expected|planned|scheduled|supposed to|foreseen|meant to|intended|"
                           r"set to|going to|envisaged|will|would)\b", re.IGNORECASE)
# The final outcome, which a document can only tell if it came after it: "was it eventually concluded".
_FINAL_WORDS = r"finally|eventually|in the end|ultimately|at last|actuall?y"
FINAL_OUTCOME = re.compile(rf"\b({_FINAL_WORDS})\b", re.IGNORECASE)
# What the question asks about an event the documents may only announce: its outcome, content or date.
OUTCOME_QUESTION = re.compile(r"\b(outcome|results?|resulted|conclu\w+|decided|decide|decision|agreed|"
                              r"(?:when|what date) (?:was|were|did) .{0,120}\bactually|"
                              r"what did .{0,80}\b(?:say|find|found|conclude|decide|agree|recommend|show|report)|"
                              rf"{_FINAL_WORDS})\b",
                              re.IGNORECASE)
# A sentence that tells of something planned, not done.
PLANNED = re.compile(r"\b(in preparation|foreseen|to be (?:adopted|held|organised|signed|proposed|presented|launched)|"
                     r"will (?:be )?\w+|planned|scheduled|expected|upcoming|forthcoming|to propose|is to|are to|"
                     r"(?:is|are|remains?|still) (?:ongoing|pending|under (?:negotiation|discussion|preparation))|"
                     r"under negotiation|in (?:the )?coming (?:days|weeks|months)|not yet|preparations? (?:to|for)|"
                     r"explor(?:e|es|ing) (?:the possibility|ways|options|whether)|next steps?)\b",
                     re.IGNORECASE)
# "why did X stop ...", "why has X given up ...": the question takes for granted that X stopped.
PRESUPPOSITION = re.compile(
    r"^\W*why (?P<aux>did|has|have|was|were|is|are|does|do|had)\b(?P<subject>.{0,80}?)\b(?:(?P<passive>been|being)\s+)?(?P<verb>stop\w*|end(?:ed)?|abandon\w*|"
    r"give up|gave up|given up|giving up|withdr[ae]w\w*|pull(?:ed)? out|turn(?:ed)? down|reject\w*|refus\w*|cancel\w*|"
    r"suspend\w*|halt\w*|drop(?:ped)?|fail(?:ed)?|quit|leave|left|terminat\w*|clos(?:e|ed)|block\w*|decline\w*|"
    r"oppos\w*|scrap\w*|delay\w*|postpon\w*|lose|lost|shut(?:ting)? down|shut|discontinu\w*|abolish\w*|dissolv\w*|"
    r"disband\w*|phas(?:e|ed|ing) out|wound up|wind(?:ing)? (?:up|down)|collaps\w*|br(?:oke|eak|oken) (?:down|off)|"
    r"stall\w*|froze|frozen|freez\w*|exit\w*|walk(?:s|ed|ing)? out|back(?:s|ed|ing)? out|opt(?:s|ed|ing)? out|"
    r"boycott\w*|sever\w*|cut (?:off|ties))\b(?P<rest>.*)$",
    re.IGNORECASE)
# "why was the regulation finally adopted", "why did Türkiye sign the roadmap": the question takes the outcome for
# granted; a passage that tells of no such outcome ("resume and conclude negotiations") does not support it.
OUTCOME_VERBS = {  # stem: (the outcome told by a verb, the outcome told by a noun)
    "adopt": ("adopted", "adoption"), "approv": ("approved", "approval"), "sign": ("signed", "signature"),
    "conclud": ("concluded", "conclusion"), "ratif": ("ratified", "ratification"),
    "finali": ("finali[sz]ed", "finali[sz]ation"), "complet": ("completed", "completion"),
    "accept": ("accepted", "acceptance"), "agree": ("agreed", "agreement"), "lift": ("lifted", "lifting")}
OUTCOME_PRESUPPOSITION = re.compile(
    r"^\W*why (?P<aux>was|were|has|have|had|did|is|are)\b(?P<subject>.{0,80}?)\b(?:(?P<passive>been)\s+)?"
    r"(?P<verb>adopt(?:ed)?|approv(?:e|ed)|sign(?:ed)?|conclud(?:e|ed)|ratif(?:y|ied)|finali[sz](?:e|ed)|"
    r"complet(?:e|ed)|accept(?:ed)?|agree(?:d)?|lift(?:ed)?)\b(?P<rest>.*)$", re.IGNORECASE)
PAST_EVENT = re.compile(r"\b(did|was|were|had|happened|concluded|agreed|decided|resulted|came out|outcome|result|say|said|"
                        r"signed|adopted|held)\b", re.IGNORECASE)
QUESTION_DATE = re.compile(r"\b(?:(\d{1,2}) )?(" + MONTH_PATTERN + r") (\d{4})\b", re.IGNORECASE)
QUARTER = re.compile(r"\bQ([1-4])\s*(20\d\d)\b", re.IGNORECASE)
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
LATEST = re.compile(r"\b(latest|now|currently|current|today|at present|most recent|newest|still)\b", re.IGNORECASE)

# --- what an answer of a kind looks like inside a sentence ---------------------------------------

AMOUNT = re.compile(r"(\bEUR\b|€|\bmillion\b|\bbillion\b|\bbn\b|\b\d+\s?m\b|\bUSD\b|\$)", re.IGNORECASE)
# A date, or a time as policy texts give deadlines: "by the end of this mandate", "in the coming weeks", "shortly".
DATE = re.compile(r"\b(\d{1,2}(?:-\d{1,2})? (?:" + MONTH_PATTERN + r")|(?:" + MONTH_PATTERN + r")(?: \d{4})?|"
                  r"\d{1,2}/\d{1,2}(?:/\d{2,4})?|Q[1-4] \d{4}|(?:19|20)\d{2}|"
                  r"(?:end|beginning|start|middle) of (?:this|the|the current|next|its|their) (?:mandate|year|month|week|"
                  r"summer|spring|autumn|winter|term|legislature|presidency|quarter|semester)|"
                  r"(?:end|beginning|start) of (?:spring|summer|autumn|winter)|(?:the )?coming (?:days|weeks|months)|"
                  r"shortly)\b", re.IGNORECASE)
FREQUENCY = re.compile(r"\b(daily|weekly|fortnightly|monthly|bimonthly|quarterly|annually|yearly|biannual\w*|"
                       r"every (?:\w+ )?(?:day|week|month|quarter|year|semester)s?|once|twice|\d+ times|"
                       r"(?:per|a) (?:day|week|month|quarter|year)|on an? (?:\w+ )?(?:basis|schedule)|regular(?:ly)?|"
                       r"periodic(?:al(?:ly)?)?)\b", re.IGNORECASE)
COUNT = re.compile(r"\b(\d{1,3}(?:[,. \u00a0\u202f]\d{3})+|\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                   r"dozens?|hundreds?|thousands?)\b(?! ?(?:%|per cent|million|billion|bn|m\b))", re.IGNORECASE)
# Titles and roles a name follows ("Commissioner Johansson", "rapporteur Juan Fernando LÓPEZ AGUILAR"); a name's
# words are capitalised or, as the European Parliament writes surnames, all in capitals.
_TITLE_BEFORE_NAME = (r"(?:Mr|Ms|Mrs|Dr|President|Commissioner|Minister|Prime Minister|Director|Ambassador|Vice-President|"
                      r"(?i:rapporteur|MEP|Secretary[- ]General|Chair(?:man|woman|person)?|Spokes(?:person|man|woman)|"
                      r"Mayor|Governor|Envoy|High Representative|Special Representative))")
_NAME_WORD = r"(?:[A-Z][a-zà-ÿ]+|[A-ZÀ-Þ]{2,}(?![a-zà-ÿ]))"
PERSON = re.compile(r"\b" + _TITLE_BEFORE_NAME + r"\.? (?P<name>(?:(?:von der|van der|de|da) )?" + _NAME_WORD
                    + r"(?: " + _NAME_WORD + r")*)")

INTENTS = ("status", "who_leads", "person", "when", "how_much", "how_many", "how_often", "list", "comparison",
           "definition", "where", "why", "what_done", "yes_no", "other")
ANSWER_TYPES = {"status": "status", "who_leads": "organisation", "person": "person", "when": "date",
                "how_much": "amount", "how_many": "count", "how_often": "frequency", "list": "list", "comparison": "text",
                "definition": "text", "where": "place", "why": "text", "what_done": "text", "yes_no": "yes_no",
                "other": "text"}
# The attribute as a reader names it, for "the documents mention X but do not give <attribute>".
ATTRIBUTE_WORDS = {"country": "the countries", "date": "a date", "amount": "an amount", "count": "a number", "frequency": "how often",
                   "person": "the person's name",
                   "organisation": "who leads it", "place": "a place", "status": "its status", "list": "the list"}
_STOPWORDS = frozenset("""a an the of to in on for and or by with from at as is are was were be been has have had do does did
what which who whom whose when where why how that this these those it its into about under over after before than
then there their they them he she his her we our you your i me my can could should would will shall may might must
not no nor so such any all some each other more most much many few own same also just only very too eu""".split())


@dataclass(frozen=True)
class Targets:
    """What the question is about."""

    locators: tuple[str, ...] = ()  # "Action 12", as the question names them
    countries: tuple[str, ...] = ()  # canonical glossary names
    terms: tuple[str, ...] = ()  # glossary acronyms and programmes named (FRESO, EURP, ...)
    names: tuple[str, ...] = ()  # other capitalised names and acronyms the question uses

    def is_empty(self) -> bool:
        return not (self.locators or self.countries or self.terms or self.names)


@dataclass(frozen=True)
class QuestionAnalysis:
    question: str
    intent: str
    answer_type: str
    targets: Targets = field(default_factory=Targets)
    references: tuple[LocatorReference, ...] = ()
    years: tuple[int, ...] = ()  # years the question names
    latest: bool = False  # asks for the current state ("now", "latest", "still")
    presupposition: str = ""  # "Frontex gave up its co-driver role", as the question takes it for granted
    presupposed_verb: str = ""
    presupposed_outcome: str = ""  # "adopt" of "why was the regulation adopted": an outcome taken for granted
    focus: str = ""  # what is asked beyond the named targets: "weather forecast next week" of "... for Athens next week?"
    organiser_verb: str = ""  # "chaired" of "who chaired the meeting": the question asks an event's organiser
    dated_event: str = ""  # "signed" of "when was the contract signed": the event whose date is asked
    amount_of: tuple[str, ...] = ()  # ("MIRAMI",) of "the budget of the MIRAMI information campaign project"
    document_date: str = ""  # "letter" of "when was the letter sent": the question asks only that document's date

    @property
    def attribute(self) -> str:
        if self.organiser_verb:
            return f"who {self.organiser_verb} it"
        if self.dated_event:
            return f"when it was {self.dated_event}" if self.dated_event != "entered into force" else "when it entered into force"
        return ATTRIBUTE_WORDS.get(self.answer_type, "the answer")

    def looking_for(self) -> str:
        """'a date · about: Action 11', shown in the app and the JSON."""
        about = ", ".join([*self.targets.locators, *self.targets.countries, *self.targets.terms, *self.targets.names][:4])
        wanted = {"text": "an explanation", "yes_no": "a yes or no", "list": "a list"}.get(self.answer_type, self.attribute)
        return wanted + (f" · about: {about}" if about else "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["references"] = [str(r) for r in self.references]
        data["looking_for"] = self.looking_for()
        data.pop("question")
        return data


# The plainer intents, most specific first: the first pattern that matches decides.
_IN_ORDER = ((WHEN_QUESTION, "when"), (STATUS_QUESTION, "status"), (DEFINITION_QUESTION, "definition"),
             (WHERE_QUESTION, "where"), (LIST_QUESTION, "list"), (WHAT_DONE_QUESTION, "what_done"),
             (YES_NO_QUESTION, "yes_no"))


# "has the agreement been signed", "is the centre being set up": the event a yes-or-no question asks about.
ASKED_EVENT = re.compile(r"\b(?:been|being|get|got|gotten)\s+(?!(?:a|an|the|any|some|more|less|able)\b)([a-z]{3,})\b",
                         re.IGNORECASE)
# A question users start with the unit it is about: "action 19 are escorts being sent", "annex item 14 deadline".
_LEADING_LOCATOR = re.compile(r"^\W*(?:action|annex item|item|section|point|measure)\s+\d+[a-z]?\b[\s,:;.-]*", re.IGNORECASE)


def classify_intent(question: str) -> str:
    """The question's intent, most specific first (a who-leads question that says "status" is still who-leads).

    A leading locator is read past, so "action 19 are escorts being sent to greece" is a yes-or-no question."""
    q = _LEADING_LOCATOR.sub("", question.strip()) or question.strip()
    if re.search(r"\bstand(?:s)? for\b|\bwhat is meant by\b", q, re.IGNORECASE):
        return "definition"
    if PRESUPPOSITION.search(q) or WHY_QUESTION.search(q):
        return "why"
    if PERSON_QUESTION.search(q):
        return "person"
    if (re.search(r"^\W*who\b|\bwho\s*$", q, re.IGNORECASE) or WHICH_BODY_QUESTION.search(q)
            or LEADS_QUESTION.search(q) and not STATUS_QUESTION.search(q)):
        return "who_leads"
    if COMPARISON_QUESTION.search(q):
        return "comparison"
    if FREQUENCY_QUESTION.search(q):
        return "how_often"
    if COUNT_QUESTION.search(q):
        return "how_many"
    if AMOUNT_QUESTION.search(q) and not WHEN_QUESTION.search(q):
        return "how_much"
    return next((intent for pattern, intent in _IN_ORDER if pattern.search(q)), "other")


def _names(question: str, glossary: Glossary) -> tuple[str, ...]:
    """Capitalised words and acronyms past the first word, not already a country or glossary term."""
    words = re.findall(r"[A-Za-zÀ-ÿ][\wÀ-ÿ'-]*", question)
    found = []
    for position, word in enumerate(words):
        if position == 0 or not word[0].isupper() or word.lower() in _STOPWORDS or len(word) < 3:
            continue
        found.append(word.strip("'"))
    return tuple(dict.fromkeys(found))


# Words that ask rather than say what is asked about; with _STOPWORDS and the targets, they are not the focus.
_ASKING_WORDS = frozenset("""whats say says said tell told give given please know find get anything something
documents document""".split())


# A script or style element with what it holds; other tags go as the search strips them (`without_markup`).
_SCRIPT = re.compile(r"<(script|style)\b[^<>]{0,300}>.*?(?:</\1\s*>|$)", re.DOTALL | re.IGNORECASE)


def focus_of(question: str, targets: Targets, glossary: Glossary, common_words: frozenset[str] = frozenset()) -> str:
    """The question's words that are not its targets, stopwords, numbers or asking words, in order.

    A passage that names the question's targets (Athens, Türkiye, Action 11) need not say anything about
    what is asked of them ("the weather forecast", "citizenship by descent"): this is what the
    answerability model compares with the passages to tell "mentions X" from "answers about X". A
    name of the question counts as a target when it is an acronym or not a common English word
    (`common_words`; without it, every capitalised name is a target).
    """
    names = set()
    for name in targets.names:
        for part in re.split(r"[-/\s]", re.sub(r"['’]s$", "", name)):
            if part and (part.isupper() or part.lower() not in common_words):
                names.add(part.lower())
    kept = []
    # Markup or code pasted into a question ("<script>window.__xss=3</script>") asks about nothing: its tags and
    # script go, and so does a word with a digit or an underscore.
    question = without_markup(_SCRIPT.sub(" ", question))
    for word in re.findall(r"[\wÀ-ÿ][\wÀ-ÿ'’]*", question):  # a hyphenated word part by part ("EU-Tunisia")
        lower = re.sub(r"['’]s$", "", word.lower()).strip("'’")
        if (lower in _STOPWORDS or lower in _ASKING_WORDS or lower in names or any(c.isdigit() or c == "_" for c in lower)
                or (targets.locators and lower in _LOCATOR_WORDS) or len(lower) < 2):
            continue
        if glossary.countries_in(word) or glossary.terms_in(word):
            continue
        kept.append(word)
    return " ".join(kept)


def analyse(question: str, glossary: Glossary, common_words: frozenset[str] = frozenset()) -> QuestionAnalysis:
    """The question read: intent, expected answer type, targets, time scope, presupposition, focus."""
    intent = classify_intent(question)
    references = tuple(locator_references(question))
    countries = tuple(glossary.countries_in(question))
    terms = tuple(glossary.terms_in(question))
    known = {w.lower() for w in (*countries, *terms)} | {a.lower() for c in glossary.countries for a in (c.name, *c.aliases)}
    names = tuple(n for n in _names(question, glossary) if n.lower() not in known)
    years = tuple(sorted({int(y) for y in YEAR.findall(question)}))
    presupposition, verb, outcome = "", "", ""
    match = PRESUPPOSITION.search(question)
    if match is None and (match := OUTCOME_PRESUPPOSITION.search(question)) is not None:
        outcome = next(stem for stem in OUTCOME_VERBS if match.group("verb").lower().startswith(stem))
    if match:
        verb = match.group("verb").lower()
        # With its auxiliary, so that the premise reads as a sentence: "Pakistan did refuse ...", "the facility was shut down".
        # An adverb the question puts before the verb stays there: "the regulation was finally adopted".
        subject, adverb = re.match(rf"(.*?)\s*\b((?:{_FINAL_WORDS}|really|suddenly))?\s*$", match.group("subject"),
                                   re.IGNORECASE).groups()
        presupposition = " ".join(f"{subject} {match.group('aux').lower()} {adverb or ''} {match.group('passive') or ''} "
                                  f"{match.group('verb')}{match.group('rest')}".split()).rstrip("?")
    targets = Targets(tuple(str(r) for r in references), countries, terms, names)
    # A definition asks what its target is and nothing more ("what does FRESO stand for"): no focus beyond it.
    focus = "" if intent == "definition" else focus_of(question, targets, glossary, common_words)
    answer_type = ANSWER_TYPES[intent]
    if intent in ("list", "other") and COUNTRY_QUESTION.search(question):
        answer_type = "country"
    elif intent in ("list", "other") and ORGANISATIONS_QUESTION.search(question):
        answer_type = "organisation"
    return QuestionAnalysis(
        question=question, intent=intent, answer_type=answer_type, targets=targets,
        references=references, years=years, latest=bool(LATEST.search(question)) or intent == "status",
        presupposition=presupposition, presupposed_verb=verb, presupposed_outcome=outcome,
        focus=focus, organiser_verb=asked_organiser(question, intent),
        dated_event=asked_dated_event(question, answer_type),
        amount_of=asked_amount_of(question, answer_type),
        document_date=asked_document_date(question, answer_type),
    )


def is_status_question(question: str) -> bool:
    return bool(STATUS_QUESTION.search(question))


def asks_who_leads(question: str) -> bool:
    return bool(LEADS_QUESTION.search(question))


def asked_answer_kind(question: str) -> str:
    """'amount' or 'date' when the question asks for one, else ''."""
    intent = classify_intent(question)
    return {"how_much": "amount", "when": "date"}.get(intent, "")


def has_count(text: str) -> bool:
    """A number of things: not a date, a year, an amount or an article number."""
    stripped = DATE.sub(" ", text)
    stripped = re.sub(r"(€|EUR|USD|\$)\s?[\d.,]+|\b(?:Article|Art\.|point|paragraph|Action|item|section|Q[1-4]|No\.?)\s*\d+",
                      " ", stripped, flags=re.IGNORECASE)
    return bool(COUNT.search(stripped))


def asked_organiser(question: str, intent: str) -> str:
    """The past tense of the organising verb ("chaired") when a who-question asks who organised an event, else ''.

    "Which presidency convened ..." reads as no plainer intent ("other"), "which agencies took part in ..." as a
    list; a question that asks when or where the event was is not asking its organiser."""
    match = ORGANISER_QUESTION.search(question) if intent in ("who_leads", "other", "list") else None
    if match is None:
        return ""
    verb = (match.group("verb") or match.group("sign")).lower()
    past = next(p for stem, p in _ORGANISER_PAST.items() if stem in verb)
    return "co-" + past if verb.startswith("co-") else past


def asked_dated_event(question: str, answer_type: str) -> str:
    """The event a date question asks the date of ("signed" of "when was the contract signed"), the last one the
    question names, else ''."""
    matches = list(DATED_EVENT_QUESTION.finditer(question)) if answer_type == "date" else []
    if not matches:
        return ""
    index = int(next(name for name, value in matches[-1].groupdict().items() if value)[1:])
    return list(_EVENT_ASKED)[index]


def asked_amount_of(question: str, answer_type: str) -> tuple[str, ...]:
    """The acronyms that name the project, call, contract or scheme whose amount the question asks, else ().

    An acronym ("MIRAMI", "EMR-WBR") standing at most two words before a noun of the thing named ("the MIRAMI
    information campaign project"); a fund's or the EU's acronym names where the money comes from, not the
    thing. Why: a passage that names several projects gives the budget of one ("PARIM II (total budget EUR 2.6
    million)"), and that figure does not say what another of them cost; only a sentence that names the asked one
    does. Acronyms only: a lower-case word outside the word list ("reintegration", split by the model's
    vocabulary) is as often the topic as a name, and a budget sentence need not repeat the topic."""
    if answer_type != "amount":
        return ()
    words = [m.group(0) for m in _THING_NAME_WORD.finditer(question)]
    names = [word for position in range(1, len(words)) if words[position].lower() in THING_NOUNS
             for word in words[max(1, position - 3):position]  # the name, and at most two words before the noun
             if word.isupper() and len(word) >= 3 and word not in FUNDING_NAMES]
    return tuple(dict.fromkeys(names))


def names_the_thing(names: tuple[str, ...], text: str) -> bool:
    """Does the sentence name one of the asked thing's names (any case: "Emmos", "EMMOS")?"""
    return any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE) for name in names)


def asked_document_date(question: str, answer_type: str) -> str:
    """The kind of document whose own date is all the question asks ("letter" of "When was the letter sent?"), else ''.

    Any other word ("when was the letter on Tunisia's MoU sent", "when was the contract signed") makes it a
    question about something the document tells of, which its sentences, not its heading, must answer.
    """
    named = DOCUMENT_OF_QUESTION.search(question) if answer_type == "date" else None
    if named is None:
        return ""
    rest = DOCUMENT_OF_QUESTION.sub(" ", question).lower()
    if any(word.strip("'’") not in _DOCUMENT_DATE_WORDS for word in re.findall(r"[\w'’]+", rest)):
        return ""
    return named.group(1).lower()


def tells_of_outcome(outcome: str, text: str) -> bool:
    """Does the sentence tell of the outcome (an OUTCOME_VERBS stem) as done: by its verb not after "to be", "will
    be" or "not yet" ("was adopted in April"), or by its noun in a sentence that plans nothing ("the signature of the
    agreement on 16 July"; not "adoption is expected")?"""
    verb, noun = OUTCOME_VERBS[outcome]
    for match in re.finditer(rf"\b(?:{verb})\b", text, re.IGNORECASE):
        if not re.search(r"\b(?:to be|will be|would be|not (?:yet )?(?:been )?)\s*$", text[:match.start()], re.IGNORECASE):
            return True
    return bool(re.search(rf"\b(?:{noun})\b", text, re.IGNORECASE)) and not PLANNED.search(text)


def names_dated_event(event: str, text: str) -> bool:
    """Does the sentence name the asked event, by any of the words it is told by ("initiated" for "started")?"""
    return bool(DATED_EVENT_SENTENCE[event].search(text))


def names_organiser(text: str, verb: str = "") -> bool:
    """Does the sentence name who did what the question asks of the event (`verb`, QuestionAnalysis.organiser_verb):
    who organised, chaired, hosted or convened it (the default), who took part in or attended it, who signed it?"""
    return bool(_DOER_SENTENCE.get(verb, ORGANISER_SENTENCE).search(text))


def has_person(text: str, common_words: frozenset[str] = frozenset()) -> bool:
    """A person named by a title and a name ("Commissioner Johansson"); "Director General" is a title, not a name."""
    for match in PERSON.finditer(text):
        words = [w for w in match.group("name").split() if w not in ("von", "der", "van", "de", "da")]
        if any(w.lower() not in common_words for w in words):
            return True
    return False


def has_answer_kind(text: str, kind: str) -> bool:
    """Does the text hold an instance of the answer type: a date, an amount, a count, a person?"""
    if kind == "count":
        return has_count(text)
    if kind == "person":
        return has_person(text)
    pattern = {"amount": AMOUNT, "date": DATE, "frequency": FREQUENCY}.get(kind)
    return bool(pattern.search(text)) if pattern is not None else True


# Words that ask what the documents say, not for one fact: "what is the latest on Egypt", "any news on Libya?".
_TOPIC_WORDS = frozenset("""what whats is are was were the a an on about of for with in to and latest news new update
updates anything something tell me us say says said situation state status current currently now today there any
happening going happened developments progress overview summary summarise summarize give please""".split())
_LOCATOR_WORDS = frozenset("action actions annex item items section sections point measure pillar paragraph no".split())
# What a question about a named unit's purpose adds ("What does action 5 aim at?", "the objective of annex item 3"):
# the unit's own text, its first cell above all, answers it.
_PURPOSE_WORDS = frozenset("""aim aims aimed at objective objectives goal goals purpose purposes intended intend meant
do does did it its this that cover covers concern concerns involve involves seek seeks foresee foresees envisage
envisages mean means""".split())


def is_topic_question(analysis: QuestionAnalysis, glossary: Glossary) -> bool:
    """A question that names what it is about (a country, a glossary term, a unit, a name) and asks nothing more.

    Whatever the documents say about its target answers it, so the answerability model, which
    weighs how specific a match is, should not turn it away; the rules for unknown countries,
    names and units have already run.
    """
    targets = analysis.targets
    if targets.is_empty() or analysis.answer_type not in ("text", "status"):
        return False
    names = {n.lower() for n in targets.names}  # names the corpus has (an unknown one was refused before this)
    for word in re.findall(r"[\wÀ-ÿ'’-]+", analysis.question):
        lower = word.lower().strip("'’")
        if lower in _TOPIC_WORDS or lower in names or lower.isdigit() or (
                targets.locators and (lower in _LOCATOR_WORDS or lower in _PURPOSE_WORDS)):
            continue
        if glossary.countries_in(word) or glossary.terms_in(word):
            continue
        return False
    return True
