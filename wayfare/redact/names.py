"""Person names, found only in context.

A name is one to four capitalised words ("Maria Gonzalez", "Siobhan O'Connor", "José María
de la Cruz") right after a cue:

* introductions: "my name is", "I'm", "I am", "this is";
* labels: "name:", "passenger:", "guest name:", "the passenger is", "account holder";
* titles: "Mr.", "Mrs", "Ms", "Dr.", "Mme", "Herr", "Señora" (the title itself stays);
* companions and bookings: "traveling with", "joined by", "booked for", "reservation under",
  "in the name of", "my wife", "my son is", "tell", "ask";
* greetings and sign-offs: "Hi Maria,", "Dear Mr. Tanaka", "Thanks, Priya", "Sure, Olivia!".

or right before one: "Maria and I are flying", "Maria here -", "Maria is my travel buddy".

Lists continue a match: "passengers: John Smith, Jane Smith and Leo Smith". Airline-style
"GONZALEZ/MARIA MS" is caught without a cue. Candidates that are cities, airlines, hotels,
weekdays, landmarks and the like (``lexicon``) are dropped, so "flying with Delta", "booked for
Kyoto" and "tickets for Lincoln Memorial" stay as they are.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lexicon import FUNCTION_WORDS, HARD_STOP, PLACE_SUFFIX, SOFT_STOP
from .patterns import CAP_WORD, LOW, UP, lazy
from .types import Finding, PiiType

_PARTICLE = (
    r"(?:de|da|del|della|di|do|dos|das|du|van|von|der|den|ter|le|la|bin|binti|ibn|al|el|y"
    r"|Ó|Ní|Nic|Mac)"
)
_INITIAL = rf"[{UP}]\."
_CAPS_WORD = rf"[{UP}]{{2,}}(?:[-'\u2019][{UP}]+)*"
_WORD_OR_INITIAL = rf"(?:{CAP_WORD}|{_INITIAL})"
_END = r"(?![\w]|-\w)"  # "Senso-ji" is not the name "Senso"
# One to four name words; particles between words ("Ludwig van Beethoven", "Daniel Ó Briain").
# A first word may have a lower-case hyphen part when a surname follows ("Ji-woo Park"); at the
# end of a name it may not ("tickets for Senso-ji").
_FIRST_WORD = rf"(?:{CAP_WORD}-[{LOW}]+(?=[ \t]+[{UP}])|{_WORD_OR_INITIAL})"
# Words are joined by spaces, or by a hyphen before a particle ("Luinenburg-van Hemert").
_JOIN = rf"(?:[ \t]+|-(?={_PARTICLE}[ \t]))"
_SEQ = rf"{_FIRST_WORD}(?:{_JOIN}(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD_OR_INITIAL}){{0,3}}{_END}"
_NAME_SEQ = lazy(_SEQ)
_NAME_SEQ_AFTER_TITLE = lazy(rf"(?:{_PARTICLE}[ \t]+){{0,2}}{_SEQ}")  # "Mr. de la Cruz"
_CAPS_SEQ = lazy(rf"{_CAPS_WORD}(?:[ \t]+{_CAPS_WORD}){{0,3}}(?![\w])")
_LOWER_SEQ = lazy(r"[a-zà-ÿ][a-zà-ÿ'\-]+(?:[ \t]+[a-zà-ÿ][a-zà-ÿ'\-]+){0,2}")
_WORD = lazy(r"\S+")

_LIST_SEP = lazy(r"(?:[ \t]*,[ \t]*(?:(?i:and)[ \t]+)?|[ \t]+(?i:and|&|y|et|und)[ \t]+)")
_GAP = lazy(
    r"[ \t]*(?:(?i:is|was|are|'s|\u2019s|named|called)[ \t]+)?(?:[:=\-\u2013\u2014,][ \t]*)?"
)
_TITLE_WORDS = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Mme|Mlle|Sr|Sra|Srta|Herr|Frau|Señor|Señora|Señorita|Monsieur"
    r"|Madame|Signor|Signora|MR|MRS|MS|DR"
)
_TITLE = rf"\b(?:{_TITLE_WORDS})\.?(?:[ \t]*(?:&|and)[ \t]*(?:{_TITLE_WORDS})\.?)?(?=[ \t])"
_TITLE_THEN_SPACE = lazy(rf"{_TITLE}[ \t]*")

_MY_NAME = (
    r"my\s+name\s+is|my\s+name['\u2019]s|name\s+is|i\s+am\s+called|i['\u2019]m\s+called"
    r"|my\s+names?\s+are"
    # the same in other languages
    r"|je\s+m['\u2019]appelle|mon\s+nom\s+est|me\s+llamo|mi\s+nombre\s+es|ich\s+hei(?:ß|ss)e"
    r"|mein\s+name\s+ist|mi\s+chiamo|il\s+mio\s+nome\s+è|ik\s+heet|mijn\s+naam\s+is"
    r"|jag\s+heter|mitt\s+namn\s+är|jeg\s+hedder|jeg\s+heter|meu\s+nome\s+é|me\s+chamo"
    r"|chamo-me|nazywam\s+się|mam\s+na\s+imię|jmenuji\s+se|zovem\s+se|benim\s+ad\u0131m"
    r"|minun\s+nimeni\s+on|nevem"
)
_LABEL = (
    r"(?:full|first|last|given|sur|family|guest|passenger|traveller|traveler|contact|holder"
    r"|cardholder|booker|lead)?\s*names?\s*(?:is\s*)?[:=]"
    r"|name\s+on\s+(?:the\s+|my\s+|your\s+|his\s+|her\s+)?(?:card|booking|ticket|reservation"
    r"|passport)(?:\s+(?:is|reads|says))?"
    r"|(?:lead\s+|main\s+|primary\s+)?(?:passenger|passengers|guest|guests|traveller|travellers"
    r"|traveler|travelers|pax|contact|emergency\s+contact|cardholder|card\s+holder"
    r"|account\s+holder|occupant|attendee|adult|child|infant)"
    r"\s*(?:\d{1,2}|#\d{1,2})?\s*(?:[:=\-\u2013]|\s(?:is|are|will\s+be)\b)"
    r"|account\s+holder|card\s*holder|beneficiary"
    # a question for the name and its answer: "What's your name? Ana", "... name on the
    # account? User: Guilherme Alves"
    r"|what['\u2019]?s\s+(?:your|the|his|her|their)\s+(?:full\s+|first\s+|last\s+|sur|family\s+)?"
    r"name(?:\s+on\s+the\s+\w+)?\s*\?(?:\s*(?:user|customer|guest|client|caller|me|a)\s*:)?"
    r"|contact\s+person(?:\s+\w+){0,3}\s*[:=]"
    r"|(?:(?:booking|booked|reservation|table|room|tickets?)\s+)?for\s+(?:one|two|three|four|five"
    r"|six|\d)(?:\s+(?:people|persons|adults|guests|pax"
    r"|travell?ers|passengers))?\s*:"
)
# "add Sathvik Kibe to the booking": the object says it is a person on a booking.
_ADD = (
    r"(?:add|adding|remove|removing|include|including)(?=[ \t]+[A-Z][^\n,.]{1,40}?[ \t]"
    r"(?:to|from|on|onto)[ \t]+(?:the|my|our|this|your)[ \t]+(?:booking|reservation|ticket"
    r"|itinerary|trip|room|tour|flight|table|order))"
)
_ADD_OBJECT_END = lazy(r"[ \t]+(?:to|from|on|onto)[ \t]")
_INTRO = (
    r"i['\u2019]m|i\s+am|this\s+is|soy|je\s+suis|ich\s+bin|sono|ik\s+ben|eu\s+sou|jestem"
    r"|c['\u2019]est|aquí\s+(?:está|habla)|ici"
    r"|it['\u2019]s(?=[ \t]+\S+[ \t]+(?:again|here|speaking|from)\b)"  # "It's Tomasz again"
)
_GREETING = (
    r"hi|hello|hey|dear|thanks|thank\s+you|cheers|regards|best|sincerely|kind\s+regards"
    r"|best\s+regards|warm\s+regards|many\s+thanks|bye|welcome|welcome\s+back|congrats"
    r"|congratulations|good\s+(?:morning|afternoon|evening)"
)
_ACK = r"sure|got\s+it|ok|okay|perfect|great|of\s+course|no\s+problem|sorry|noted|done"
_RELATION = (
    r"(?:my|his|her|our|their)\s+(?:wife|husband|partner|spouse|son|daughter|kids?|children|child|mom|mum|mother"
    r"|dad|father|brother|sister|friend|friends|colleague|colleagues|boss|fianc[ée]e?"
    r"|girlfriend|boyfriend|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|niece"
    r"|nephew|baby|parents|in-laws|mother-in-law|father-in-law|coworker|co-worker|assistant"
    r"|manager|teenager|toddler|stepson|stepdaughter|twins|travel\s+buddy|plus[\s-]one)"
)
_COMPANION = (
    r"(?:travel(?:l)?ing|going|flying|coming|staying|sharing(?:\s+a\s+room)?|visiting|meeting"
    r"|joining\s+me|together)\s+with|(?:joined|accompanied)\s+by|along\s+with|together\s+with"
    r"|(?:booked|booking|book|reserved|reserve|reservation|reservations|ticket|tickets|seat"
    r"|room|upgrade|cancel|cancellation|check-?in|boarding\s+pass(?:es)?|transfer|pickup"
    r"|pick\s+up|itinerary|reminder|table|message|note|gift|cake|flowers)\s+(?:is\s+|was\s+"
    r"|are\s+)?(?:for|under)"
    r"|(?:is|are|was|['\u2019]s|it['\u2019]s|it\s+is)\s+under|under\s+the\s+name(?:\s+of)?|in\s+the\s+name\s+of"
    r"|on\s+behalf\s+of|registered\s+(?:to|under)|addressed\s+to|made\s+out\s+to|issued\s+to"
    r"|(?:add|adding|remove|removing)\s+passenger|tell|ask|remind|let|inform|notify|email|text"
    r"|(?:was|is|were|be|are|am|i['\u2019]m|goes\s+by|go\s+by)\s+called|named|calls\s+me"
    r"|(?:['\u2019]s|his|her|my|your|their|our)\s+name(?=[ \t]+[A-Z])"
)
_CUES = lazy(
    rf"(?:\b(?i:(?P<myname>{_MY_NAME})|(?P<label>{_LABEL})|(?P<intro>{_INTRO})"
    rf"|(?P<relation>{_RELATION})|(?P<companion>{_COMPANION})|(?P<add>{_ADD}))(?![\w])"
    rf"|(?P<greeting>\b(?i:{_GREETING}))(?=[ \t]*,?[ \t]*[{UP}])"
    rf"|(?P<ack>\b(?i:{_ACK}))(?=[ \t]*,[ \t]*[{UP}])"
    rf"|(?P<form>\b(?:Name|NAME))(?=[ \t]+[{UP}])"
    rf"|(?P<title>{_TITLE}))"
)
# First words of every cue above (lower-cased). Scanning the whole text with _CUES is slow, so
# detect() only tries _CUES.match where a word from this set starts. Keep in sync with the cues.
_CUE_START = frozenset(
    """
    what's what\u2019s what
    my his her our their name names i i'm i\u2019m full first last given sur family guest guests
    passenger passengers
    traveller travellers traveler travelers contact holder cardholder booker lead main primary
    pax emergency card account occupant attendee adult child infant beneficiary booking booked
    reservation reservations table room ticket tickets for this it's it\u2019s hi hello hey dear
    thanks thank cheers regards best sincerely kind warm many bye welcome congrats
    congratulations good sure got ok okay perfect great of no sorry noted done traveling
    travelling going flying coming staying sharing visiting meeting joining together joined
    accompanied along book reserved reserve seat upgrade cancel cancellation check-in checkin
    boarding transfer pickup pick itinerary reminder message note gift cake flowers is are was
    under in on registered addressed made issued add adding remove removing tell ask remind let
    calls named goes go were be am
    inform notify email text mr mrs ms miss mx dr prof mme mlle sr sra srta herr frau señor
    señora señorita monsieur madame signor signora
    je mon me mi ich mein il ik mijn jag mitt jeg meu chamo-me nazywam mam jmenuji zovem benim
    minun nevem soy sono eu jestem c'est c\u2019est aquí ici
    """.split()
)
_WORD_START = lazy(r"[^\W\d_][\w'\u2019-]*")

# Cues after the name: "Maria and I", "Maria here", "Maria is my travel buddy".
_POSTFIX = lazy(
    r"(?=[ \t]+(?:(?:and|&)[ \t]+I\b|here\b(?![ \t]+(?:is|are|in|at|for))|is[ \t]+my\b"
    r"|(?:and|&)[ \t]+me\b))"
)
_BEFORE_POSTFIX = lazy(rf"{_WORD_OR_INITIAL}(?:[ \t]+{_WORD_OR_INITIAL}){{0,3}}$")
_PNR_TITLES = r"(?:MR|MRS|MS|MISS|MSTR|DR|CHD|INF)"
# "GONZALEZ/MARIA MS": needs a title after it, or a cue before it ("the ticket says
# NGUYEN/LAN"), so that routes like "JFK/LHR" stay.
_PNR_NAME = lazy(
    rf"\b(?P<name>{_CAPS_WORD}/{_CAPS_WORD}(?:[ \t]+(?!{_PNR_TITLES}\b){_CAPS_WORD})?)"
    rf"(?P<title>[ \t]*{_PNR_TITLES}\b)?"
)
_PNR_CUE = lazy(
    r"(?i:\b(?:name|names|ticket|passenger|passengers|boarding\s+pass|pnr|says|reads|shows)\b)"
)
_ENDS_NAME = lazy(r"[ \t]*(?:[,.!?;:)|<(\n\u2014\u2013-]|$)")


def _keep(words: list[str], kind: str) -> int:
    """How many leading words of a candidate to keep as a name (0 = not a name)."""
    if kind == "title":
        return len(words)
    keep = 0
    for w in words:
        if w.lower().rstrip(".") in HARD_STOP:
            break
        keep += 1
    if keep == 0:
        return 0
    core = [w.lower() for w in words[:keep] if not w.endswith(".")]
    if not core or all(w in SOFT_STOP or w in HARD_STOP for w in core):
        return 0
    if core[-1] in PLACE_SUFFIX:
        return 0
    return keep


def _match_name(text: str, pos: int, kind: str) -> tuple[int, int] | None:
    """A name starting at ``pos`` (after the cue and its punctuation), or None."""
    m = (_NAME_SEQ_AFTER_TITLE if kind == "title" else _NAME_SEQ)().match(text, pos)
    if m is None and kind in ("myname", "label", "title", "form"):
        m = _CAPS_SEQ().match(text, pos)
    if m is None and kind == "myname":
        m = _LOWER_SEQ().match(text, pos)
        if m is None:
            return None
        words = list(_WORD().finditer(text, m.start(), m.end()))
        keep = 0
        for w in words:
            if w[0] in FUNCTION_WORDS or w[0] in HARD_STOP:
                break
            keep += 1
        return (m.start(), words[keep - 1].end()) if keep else None
    if m is None and kind in ("intro", "label", "greeting", "relation", "companion", "list"):
        return _lower_known_name(text, pos)
    if m is None:
        return None
    words = list(_WORD().finditer(text, m.start(), m.end()))
    keep = _keep([w[0] for w in words], kind)
    if keep == 0:
        return None
    end = words[keep - 1].end()
    if kind in ("greeting", "ack") and not _ENDS_NAME().match(text, end):
        return None  # "Hi Maria," yes; "Best Western hotels" no
    if kind == "add" and (
        not _ADD_OBJECT_END().match(text, end)
        or any(_ENGLISH_END().search(w[0].lower()) or _word_kind(w[0]) == "X" for w in words[:keep])
    ):
        return None  # "add Travel Insurance to my booking", "add Late Checkout to ..."
    return m.start(), end


def _lower_known_name(text: str, pos: int) -> tuple[int, int] | None:
    """A lower-case name after a cue, only when it is a census given name ("i'm john smith",
    "hi maria,"): "i'm going", "this is great" stay."""
    from .census import given_names, surname_rank

    m = _LOWER_SEQ().match(text, pos)
    if m is None:
        return None
    words = list(_WORD().finditer(text, m.start(), m.end()))
    first = words[0][0].strip(",.!?")
    if first in FUNCTION_WORDS or first in HARD_STOP or first not in given_names():
        return None
    end = words[0].start() + len(first)
    if len(words) > 1 and words[0][0] == first:
        second = words[1][0].strip(",.!?")
        rank = surname_rank().get(second.replace("'", "").replace("\u2019", ""))
        if rank is not None and rank <= 30000 and second not in FUNCTION_WORDS | HARD_STOP:
            end = words[1].start() + len(second)
    return m.start(), end


_LEADING_NOT_NAME = HARD_STOP | FUNCTION_WORDS


def _postfix_names(text: str) -> list[Finding]:
    found: list[Finding] = []
    for anchor in _POSTFIX().finditer(text):
        m = _BEFORE_POSTFIX().search(text, max(0, anchor.start() - 80), anchor.start())
        if m is None:
            continue
        words = list(_WORD().finditer(text, m.start(), m.end()))
        while words and words[0][0].lower() in _LEADING_NOT_NAME:
            words.pop(0)  # "Yesterday Maria and I", "Hi Maria here"
        if words and (keep := _keep([w[0] for w in words], "postfix")) == len(words):
            found.append(Finding(PiiType.NAME, words[0].start(), words[keep - 1].end()))
    return found


def detect(text: str, lexicon: bool = True) -> list[Finding]:
    """Names in ``text``; ``lexicon=False`` keeps to the cue rules (the engine's later passes)."""
    found: list[Finding] = []
    resume = 0
    for word in _WORD_START().finditer(text):
        if word.start() < resume or word[0].lower() not in _CUE_START:
            continue
        cue = _CUES().match(text, word.start())
        if cue is None:
            continue
        resume = cue.end()
        kind = cue.lastgroup or "label"
        gap = _GAP().match(text, cue.end())
        pos = gap.end() if gap else cue.end()
        if kind != "title":
            # "my wife, Dr. Anna Weber" / "passenger: Mr. Tanaka": the title is not the name.
            title = _TITLE_THEN_SPACE().match(text, pos)
            if title:
                pos, kind = title.end(), "title"
        span = _match_name(text, pos, kind)
        while span is not None:
            found.append(Finding(PiiType.NAME, span[0], span[1]))
            sep = _LIST_SEP().match(text, span[1])
            if sep is None:
                break
            pos, kind = sep.end(), "list"
            title = _TITLE_THEN_SPACE().match(text, pos)
            if title:
                pos, kind = title.end(), "title"
            span = _match_name(text, pos, kind)
    if " and " in text or " & " in text or " here" in text or " is my" in text:
        found.extend(_postfix_names(text))
    if lexicon:
        found.extend(lexicon_names(text))
    if found:
        found.extend(echo_names(text, found))
    if "/" in text:
        for m in _PNR_NAME().finditer(text):
            if m["title"] or _PNR_CUE().search(text, max(0, m.start() - 24), m.start()):
                found.append(Finding(PiiType.NAME, m.start("name"), m.end("name")))
    return found


# --------------------------------------------------------------------------- names without a cue

# A capitalised word, or a single-letter initial ("Ross F Marín", "Julian F. Azevedo") between
# two of them.
_LEX_WORD = rf"(?:{CAP_WORD}|[{UP}]\.?(?=[ \t]+[{UP}]))"
_LEX_SEQ = lazy(
    rf"(?<![\w'\u2019.\-@/])(?:{_PARTICLE}[ \t]+)?{_LEX_WORD}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_LEX_WORD}){{0,5}}{_END}"
)
# Endings that mark a surname in many languages ("Jovanović", "Šubová", "Kwiatkowski",
# "Auðunsson", "Óladóttir", "Petrenko", "Popescu", "Papadopoulos", "Karaoğlu").
_SURNAME_END = lazy(
    r"(?:ić|vić|ovič|ová|ská|ský|ski|ska|sky|cki|cka|dzki|sson|ssen|dóttir|dottir|sdóttir"
    r"|enko|escu|oglu|oğlu|opoulos|poulos|akis|idis|iadis|ov|ova|ev|eva|yan|ian|ishvili|adze"
    r"|ová|ien|ūtė|aitė|ienė|auskas|evičius|ovich|evich|ovna|evna|ez|sen|berg|stein|mann)$"
)
# Capitalised words that start sentences or name things, never a person on their own.
_NOT_NAME_WORDS = frozenset(
    """
    user bot customer agent client admin system assistant operator support
    hotel street road avenue square station airport museum bank company corp inc ltd plc llc
    group holdings limited university college school church hospital clinic president
    casa puerta porta villa palazzo schloss sagrada day mr mrs ms miss mx dr prof mme mlle
    st ste ave rd blvd apt suite unit
    prince princess king queen lord lady duke duchess earl count baron emperor pope saint
    producer director editor author writer singer band album song film movie show weekly
    daily news times post journal magazine force army navy police border council
    please could would should can will may might must shall did does do is are was were
    what when where why how who which whose whom there here then than that this these those
    yes no not ok okay sure thanks thank hello hi hey dear sir madam
    """.split()
)
# Capitalised words that may come right before a name in the same run of capitals.
_MAY_PRECEDE = FUNCTION_WORDS | frozenset(
    """
    hi hello hey dear thanks thank cheers regards best sincerely welcome congrats
    congratulations sorry please ok okay sure yes no dinner lunch call email text ask tell
    producer director editor author writer singer songwriter manager driver guide captain
    doctor nurse professor chef agent officer ceo founder colleague partner host pilot
    """.split()
)
_ENGLISH_END = lazy(
    r"(?:ly|ment|ness|tion|sion|ing|ed|ity|ous|ive|al|ary|ery|ory|ure|ance|ence|ship|hood|ism"
    r"|ist|able|ible|ful|less|ward|ess|ics|er|or|ers|ors|ies|es|ts|ks)$"
)
_DEMONYM_END = lazy(r"(?:ian|ean|ese|ish|ic|an)$")


@lru_cache(maxsize=8192)
def _word_kind(word: str) -> str:
    """G given name, S surname, I initial, U unknown capitalised word, X never part of a name."""
    from .census import given_names, surname_rank

    if len(word) <= 2 and word[0].isupper() and (len(word) == 1 or word[1] == "."):
        return "I"
    low = word.lower()
    base = low.split("-")[0]
    if (
        low in HARD_STOP
        or low in SOFT_STOP
        or low in PLACE_SUFFIX
        or low in FUNCTION_WORDS
        or low in _NOT_NAME_WORDS
    ):
        return "X"
    if base in given_names():
        return "G"
    rank = surname_rank().get(low)
    if (rank is not None and rank <= 30000) or _SURNAME_END().search(low):
        if _DEMONYM_END().search(low) and rank is None:
            return "U"  # "Italian", "Croatian": a nationality, not "Kasparian"
        return "S"
    return "U"


def _is_name(kinds: list[str], words: list[str], sentence_start: bool) -> bool:
    core = [k for k in kinds if k != "I"]
    if not core or kinds[0] == "I" or kinds[-1] == "I":
        return False
    if len(core) < len(kinds) and len(core) >= 2:
        return True  # "Kristian C. Herzog"
    if core[0] == "G":
        return True  # "Nicole Lange", "Tracy"
    if len(core) >= 2 and any(not w.isascii() for w in words) and not sentence_start:
        return True  # "Gréta Halász", "Johannes Møller"
    if len(core) >= 2 and "S" in core[1:]:
        # "Đoko Mojsilović", "Jansje Zwarts": an unknown first word before a surname. Many
        # census surnames are English words ("Secretly Love", "Border Force"), so the pair
        # must look foreign, end in a surname suffix, or start with a word not shaped like
        # English prose, and not at the start of a sentence.
        if any(not w.isascii() for w in words) or _SURNAME_END().search(words[-1].lower()):
            return True
        first = words[0].lower()
        return not sentence_start and not _ENGLISH_END().search(first)
    if len(core) == 1 and core[0] == "S":
        # A lone surname only when its shape says so ("Antonsson", "Prošková"): many census
        # surnames are English words ("Day", "Card", "Mayor").
        return bool(_SURNAME_END().search(words[0].lower())) or not words[0].isascii()
    return False


# What a person does right after their name: "Jansje Zwarts will be talking", "Dmitar Ruedl
# listed his top 20", "Quarantino Marcelo, the pilot, said".
_PERSON_VERB_AFTER = lazy(
    r"(?:['\u2019]s[ \t]+(?:killers?|wife|husband|son|daughter|mother|father|family|friend"
    r"|house|car|office|kid|brother|sister)\b"
    r"|[ \t]+(?:said|says|told|asked|wrote|listed|spent|lives|lived"
    r"|works|worked|joined|left|arrived|booked|paid|called|emailed|texted|sent|thinks|thought"
    r"|wants|wanted|needs|needed|went|came|flew|flies|travels|travelled|traveled|shouted"
    r"|began|started|speaks|spoke|will[ \t]+be[ \t]+(?:talking|speaking|joining|travell?ing))\b"
    r"|,[ \t]+the[ \t]+[a-z])"
)


def _two_words_then_verb(kinds: list[str], words: list[str]) -> bool:
    """Two or three capitalised words with no known place/word among them, none shaped like
    English prose: a name when a person's verb follows (see _PERSON_VERB_AFTER)."""
    core = [w for w, k in zip(words, kinds, strict=True) if k != "I"]
    return 2 <= len(core) <= 3 and not any(_ENGLISH_END().search(w.lower()) for w in core)


def _sentence_start(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in " \t\"'(\u201c>*-":
        i -= 1
    return i < 0 or text[i] in ".!?\n:;"


def lexicon_names(text: str) -> list[Finding]:
    """Names with no cue: runs of capitalised words anchored on a census given name or surname."""
    found: list[Finding] = []
    for m in _LEX_SEQ().finditer(text):
        words = [w for w in _WORD().finditer(text, m.start(), m.end())]
        words = [w for w in words if not _PARTICLE_RE().fullmatch(w[0])] or words
        kinds = [_word_kind(w[0].rstrip(".")) if len(w[0]) > 2 else _word_kind(w[0]) for w in words]
        i = 0
        while i < len(words):
            if kinds[i] == "X":
                i += 1
                continue
            j = i
            while j < len(words) and kinds[j] != "X" and j - i < 4:
                j += 1
            chunk = words[i:j]
            if i > 0 and words[i - 1][0].lower().rstrip(".") not in _MAY_PRECEDE:
                i = j  # part of a longer proper noun: "Hotel Sacher", "St. Patrick", "Day 2"
                continue
            if (
                j < len(words)
                and kinds[j] == "X"
                and (words[j][0].lower() in PLACE_SUFFIX or words[j][0].lower() in SOFT_STOP)
            ):
                i = j + 1  # "Lincoln Memorial", "Marina Bay"
                continue
            if i == 0 and _AFTER_SAINT().search(text, max(0, m.start() - 8), m.start()):
                i = j  # "St. Patrick's Cathedral", "San Francisco"
                continue
            if _PLACE_AFTER().match(text, chunk[-1].end()):
                i = j  # "Patrick's Cathedral"
                continue
            if " ".join(m[0].split()).lower() in _NAMESAKES:
                break
            ws = [w[0] for w in chunk]
            at_start = _sentence_start(text, chunk[0].start())
            if (
                at_start
                and kinds[i] == "U"
                and j - i >= 3
                and _is_name(kinds[i + 1 : j], ws[1:], False)
            ):
                # "Remove Tomás Ruiz from ...": a capitalised verb opens the sentence
                chunk, ws, i, at_start = chunk[1:], ws[1:], i + 1, False
            if _is_name(kinds[i:j], ws, at_start) or (
                _two_words_then_verb(kinds[i:j], ws)
                and _PERSON_VERB_AFTER().match(text, chunk[-1].end())
            ):
                found.append(Finding(PiiType.NAME, chunk[0].start(), chunk[-1].end()))
            i = j
    if found and ("," in text or " and " in text):
        found += _list_neighbours(text, found)
    if " and " in text or ", " in text:
        found += _surname_lists(text)
    if "\n" in text:
        found += _name_lines(text)
    return found


_LIST_OF_WORDS = lazy(
    rf"(?<![\w.])({CAP_WORD})((?:[ \t]*,[ \t]*{CAP_WORD})*"
    rf"(?:[ \t]*,?[ \t]+(?:and|&)[ \t]+{CAP_WORD}))(?![\w]|[ \t]+[{UP}])"
)


def _surname_lists(text: str) -> list[Finding]:
    """ "Waters, Parrish and Stevenson": a list of single capitalised words, most of them census
    names and none a known place or word, is a list of people."""
    found: list[Finding] = []
    for m in _LIST_OF_WORDS().finditer(text):
        words = list(re.finditer(CAP_WORD, m[0]))
        kinds = [_word_kind(w[0]) for w in words]
        named = sum(k in "GS" for k in kinds)
        if "X" in kinds or len(kinds) < 2 or named < (len(kinds) if len(kinds) == 2 else 2):
            continue
        found += [Finding(PiiType.NAME, m.start() + w.start(), m.start() + w.end()) for w in words]
    return found


_NAME_LINE = lazy(
    rf"^[ \t>?*]*({CAP_WORD}(?:[ \t]+(?:[{UP}]\.?|{CAP_WORD})){{1,3}})[ \t]*$", re.MULTILINE
)


def _name_lines(text: str) -> list[Finding]:
    """A line of two to four capitalised words heading a block ("Ayda Tijsterman\n\n25663
    Markt 85...", a signature or an address label) is a name when no word is a known place,
    business or common word."""
    found: list[Finding] = []
    for m in _NAME_LINE().finditer(text):
        if m.end() >= len(text) and m.start() == 0:
            continue  # a single line: not a block
        words = m[1].split()
        kinds = [_word_kind(w) for w in words]
        if "X" in kinds or kinds[0] == "I" or kinds[-1] == "I":
            continue
        if m.start() > 0 and text[m.start() - 1] == "\n" and m.start() > 1:
            prev = text.rfind("\n", 0, m.start() - 1)
            if text[prev + 1 : m.start() - 1].strip() and m.start(1) > 0:
                # inside a block only right after a label line ("Name:") or a quote marker
                if not re.search(
                    r"(?i:name|passenger|guest|contact|attn|to)\s*:?\s*$",
                    text[prev + 1 : m.start() - 1],
                ):
                    continue
        found.append(Finding(PiiType.NAME, m.start(1), m.end(1)))
    return found


def echo_names(text: str, found: list[Finding]) -> list[Finding]:
    """Other capitalised occurrences of a word of a found name: "Longin Symanski but everyone
    calls me Longin", "directed by Grace Boyle and starring Boyle"."""
    words = {
        w
        for f in found
        if f.type is PiiType.NAME
        for w in text[f.start : f.end].split()
        if len(w) > 2 and w[0].isupper() and _word_kind(w) != "X"
    }
    if not words:
        return []
    return [
        Finding(PiiType.NAME, m.start(), m.end())
        for m in _ANY_CAP_WORD().finditer(text)
        if m[0] in words
    ]


_ANY_CAP_WORD = lazy(rf"(?<![\w'\u2019-]){CAP_WORD}(?![\w]|-\w)")


_LIST_NEXT = lazy(
    rf"(?:[ \t]*,[ \t]*(?:and[ \t]+)?|[ \t]+(?:and|&)[ \t]+)({CAP_WORD}){_END}(?![ \t]+[{UP}])"
)
_LIST_PREV = lazy(rf"(?<![\w.])({CAP_WORD})(?:[ \t]*,[ \t]*(?:and[ \t]+)?|[ \t]+(?:and|&)[ \t]+)$")


def _list_neighbours(text: str, found: list[Finding]) -> list[Finding]:
    """Single capitalised words listed with a name are names too: "Caird and Jones"."""
    extra: list[Finding] = []
    for f in found:
        pos = f.end
        while (m := _LIST_NEXT().match(text, pos)) and _word_kind(m[1]) != "X":
            extra.append(Finding(PiiType.NAME, m.start(1), m.end(1)))
            pos = m.end(1)
        m = _LIST_PREV().search(text, max(0, f.start - 40), f.start)
        if m and _word_kind(m[1]) != "X" and not _sentence_start(text, m.start(1)):
            extra.append(Finding(PiiType.NAME, m.start(1), m.end(1)))
    return extra


_PARTICLE_RE = lazy(_PARTICLE)
_AFTER_SAINT = lazy(r"\b(?:St|Ste|Saint|San|Santa|Sankt|São|Dr)\.?[ \t]+$")
_PLACE_AFTER = lazy(
    r"['\u2019]s[ \t]+(?i:"
    + "|".join(sorted(PLACE_SUFFIX | SOFT_STOP, key=len, reverse=True))
    + r")\b"
)
# Places and things named after people, as travel chat writes them.
_NAMESAKES = frozenset(
    " ".join(part.split())
    for part in """
    charles de gaulle|jules verne|john f. kennedy|john f kennedy|ben gurion|marco polo
    |leonardo da vinci|john lennon|george bush|ronald reagan|indira gandhi|nelson mandela
    |simon bolivar|benito juarez|louis armstrong|martin luther king|pierre elliott trudeau
    |jomo kenyatta|george washington|abraham lincoln|thomas jefferson|mozart|van gogh
    """.split("|")
)
