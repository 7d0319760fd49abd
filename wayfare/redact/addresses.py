"""Street addresses, with the unit, city and postal code that directly follow them.

Three shapes of street line are recognised, all of which need a house number (so landmarks
such as "Washington Square" or "Plaza Mayor" are left alone):

* number first, English street types: "221B Baker Street", "1600 Pennsylvania Ave NW",
  "10 rue de Rivoli" (French types, any case);
* type first, Romance languages: "Calle Mayor 5", "Via del Corso 123", "Rua Augusta, 1500";
* Germanic compound names: "Friedrichstraße 43", "Prinsengracht 263", "Hauptstr. 5".

After the street line the match extends over a unit ("Apt 4B", "Suite 200"), a postal code
with its city ("28013 Madrid", "75001 Paris") or a city followed by a state and/or postal code
("Washington, DC 20500", "London NW1 6XE", "Sydney NSW 2000"). A bare postal code elsewhere in
the text is not an address.
"""

from __future__ import annotations

import re

from .patterns import LOW, MONTH, UP, lazy
from .types import Finding, PiiType

# A capitalised word, allowing "St.", "O'Connell", "Saint-Honoré".
_W = rf"[{UP}][{LOW}A-Za-z'\u2019.\-]*"
# The same with a lower-case second letter: "Mayor", "St." but not "BA" or "EUR".
_WL = rf"[{UP}][{LOW}][{LOW}A-Za-z'\u2019.\-]*"
_NUM = r"\d{1,5}(?:[-\u2013/]\d{1,5})?[A-Za-z]?(?![\w]|[.,:/]\d)"  # 221B, 12-14, 8/1, 5
_EN_TYPES = (
    r"Street|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Court|Ct|Place|Pl"
    r"|Terrace|Ter|Way|Square|Sq|Parkway|Pkwy|Highway|Hwy|Close|Crescent|Cres|Gardens|Gdns"
    r"|Mews|Row|Circle|Cir|Trail|Trl|Alley|Plaza|Walk|Grove|Hill|Embankment|Quay|Wharf|Loop"
    r"|Pike|Expressway|Freeway|Broadway|Causeway|Esplanade|Promenade|Parade|Rise|Vale|View"
)
_FR_TYPES = (
    r"rue|avenue|av\.|boulevard|bd|blvd|place|quai|allée|impasse|chemin|cours|route|passage"
    r"|faubourg|square|rond-point"
)
_NAME_LINK = r"(?:de|du|des|la|le|les|l['\u2019]|d['\u2019]|of|the|y|e)"
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\b"

# Months and weekdays are never street names: "3 December Times Square", "Plaza Mayor Dec 3".
_NOT_CALENDAR = (
    rf"(?!(?:{MONTH}|Mon|Tue|Wed|Thu|Fri|Sat|Sun|Monday|Tuesday|Wednesday|Thursday|Friday"
    r"|Saturday|Sunday)\.?\b)"
)
# Street-name words: "Baker", "St.", "5th", or one capital ("2211 N Lamar Blvd"); not codes
# such as "EUR" or "BA" ("450 EUR Times Square" is a price and a landmark).
_EN_WORD = rf"{_NOT_CALENDAR}(?:{_WL}|[A-Z]\.?|\d{{1,3}}(?:st|nd|rd|th))\s+"
# "221B Baker Street", "1600 Pennsylvania Ave NW", "725 5th Avenue", "12 Main St".
# A street name is required before the type, so "5 St Pancras", "2 Dr. Smith" and "1 Plaza"
# are not streets.
_NUMBER_FIRST_EN = (
    rf"{_NUM}\s+(?:{_EN_WORD}){{1,4}}(?:{_EN_TYPES}|St|Dr|Str)\b\.?"
    rf"(?:\s+{_DIRECTION})?"
)
_NUMBER_FIRST_EN_BARE = rf"{_NUM}\s+Broadway\b"
# "10 rue de Rivoli", "5 avenue Anatole France", "12 bis rue des Écoles".
_NUMBER_FIRST_FR = (
    rf"{_NUM}(?:\s?(?:bis|ter))?,?\s+(?i:{_FR_TYPES})\s+"
    rf"(?:{_NAME_LINK}\s*)*{_W}(?:[ \-](?:{_NAME_LINK}\s*)*{_W}){{0,3}}"
)
_ROMANCE_TYPES = (
    r"Calle|C/|Avenida|Avda\.?|Av\.|Paseo|Pº|Plaza|Pza\.?|Carrer|Passeig|Rambla|Ronda|Camino"
    r"|Carretera|Travesía|Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Lungotevere|Rua|Travessa"
    r"|Praça|Avenue|Rue|Boulevard|Calzada|Callejón|Avinguda|Plaça|Alameda|Estrada|Rodovia"
    r"|Peatonal|Viaducto|Ampliación|Privada|Cerrada|Circuito|Andador|Prolongación|Retorno"
    r"|Continuación|Diagonal|Eje|Periférico|Circunvalación|Cuesta|Glorieta|Urbanización"
)
_ROMANCE_LINK = (
    r"(?:de|del|de la|de las|de los|dels|della|delle|dei|degli|di|da|do|dos|das|la|el|los"
    r"|las|d['\u2019]|dell['\u2019]|des|du)"
)
# "Calle Mayor 5", "Calle de Alcalá, 45", "Via dei Coronari 12", "Avenida Paulista, 1578".
# A number followed by a unit or currency is a quantity: "Plaza Mayor 450 EUR", "Via Roma 2 km".
_NOT_QUANTITY = (
    r"(?!\s*(?:EUR|USD|GBP|CHF|JPY|AUD|CAD|€|\$|£|¥|%|°|(?i:km|m|mi|miles|ft|min|mins|minutes"
    r"|h|hr|hrs|hours?|days?|nights?|steps|people|persons|adults|kids|pax|stars?|euros?"
    rf"|dollars?|pounds?|{MONTH})\b))"  # ... or by a month: "Plaza Mayor 3 December"
)
# Words that make "Plaza Hotel 5" or "Via Rail 2" a business, not a street.
_NOT_STREET = (
    r"(?!(?:Hotel|Hostel|Inn|Resort|Suites?|Station|Airport|Express|Rail|Train|Bus|Tours?|Gate"
    r"|Terminal|Mall|Center|Centre|Cinema|Theatre|Theater|Bar|Club|Restaurant|Café|Cafe"
    r"|Day|Night|Platform|Room|Seat|Flight)\.?\b)" + _NOT_CALENDAR
)
_TYPE_FIRST = (
    rf"(?:{_ROMANCE_TYPES})\s+(?:{_ROMANCE_LINK}\s+)*{_NOT_STREET}{_WL}"
    rf"(?:\s+(?:{_ROMANCE_LINK}\s+)*{_NOT_STREET}{_WL}){{0,3}}"
    rf",?\s+(?:n[º°o]\.?\s*)?(?!(?:19|20)\d\d\b){_NUM}{_NOT_QUANTITY}"
)
_GERMANIC_SUFFIX = (
    r"straße|strasse|str\.|gasse|weg|platz|allee|damm|ufer|chaussee|gracht|straat|laan"
    r"|plein|kade|steeg|singel|gade|gatan|vägen|veien|vej"
    # Nordic, Finnish, Icelandic, Baltic, Slavic and Hungarian street words
    r"|gata|gate|vei|väg|plass|torv|torget|stræde|tie|katu|kuja|polku|kaari|raitti|braut"
    r"|bulevardi|väylä|ranta|stígur|vegur|tänav|iela|gatvė|ulica|ulice|cesta|utca|út|sokak|soka\u011f\u0131|caddesi"
)
# "Friedrichstraße 43", "Prinsengracht 263", "Hauptstr. 5".
_GERMANIC = (
    rf"[{UP}][{LOW}A-Za-z\-]*(?i:{_GERMANIC_SUFFIX})\s+(?!(?:19|20)\d\d\b){_NUM}{_NOT_QUANTITY}"
)

_UNIT = (
    r"(?:,?\s+\d{1,2}[º°ª](?:\s?[A-Z0-9])?(?![\w])"  # Spanish floor and door: "2º B"
    r"|,?\s+(?i:(?:apt|apartment|suite|ste|unit|flat|fl|floor|piso|puerta|planta|escalera"
    r"|esc|bte|étage|etage|interno|int|scala|interior|edif|depto|dpto|local|lote|mz|manzana"
    r"|dept|bloco|casa|torre)\b\.?|\#)\s*\#?\s*[\dA-Za-z][\w\-]{0,4}(?:[º°ª])?)?"
)
_POSTCODE = (
    r"(?:(?:[A-Z]{1,2}-(?=\d{4}))?"  # a country prefix: "H-1494", "D-10115", "CH-8001"
    r"(?:\d{5}(?:-\d{4})?"  # US ZIP(+4), FR, DE, ES, IT
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # Canada
    r"|\d{4}\s?[A-Z]{2}(?![\w])"  # Netherlands
    r"|\d{3}-\d{4}"  # Japan
    r"|\d{4}-\d{3}"  # Portugal
    r"|\d{2}-\d{3}(?![\w-])"  # Poland
    r"|[A-Z]\d{4}[A-Z]{0,3}(?![\w])"  # Argentina
    r"|\d{3}\s\d{2}(?![\w])"  # Czechia, Slovakia, Sweden, Greece
    r"|[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}(?![\w])"  # Ireland (Eircode)
    r"|\d{4}))"  # AU, CH, AT, BE, DK...
)
_STATE = r"(?:[A-Z]{2,3})"
_CITY_LINK = (
    r"(?:de|du|des|la|le|les|l['\u2019]|d['\u2019]|of|the|y|e|da|do|dos|das|di|del|della|van"
    r"|von|den|der|los|las|el|sur|am|an|im|upon|on)"
)
_CITY = rf"{_W}(?:[ \-](?:{_CITY_LINK}[ \-])?{_W}){{0,3}}(?:\s*\([A-Z]{{2}}\))?"
# ", 28013 Madrid" / ", London NW1 6XE" / ", Washington, DC 20500" / ", Sydney NSW 2000" / ", Paris"
_TAIL = (
    rf"(?:,?\s+{_POSTCODE},?\s+{_CITY}"
    rf"|,\s*{_CITY}(?:,?\s+{_STATE})?(?:(?:,?\s+|-){_POSTCODE}|-\d{{6}})?(?![\w])"
    rf"|,?\s+{_POSTCODE}(?![\w]))?"
)
# Japanese block addresses: "1-1-2 Oshiage, Sumida-ku" (the ward/city suffix is required).
_JAPANESE = (
    rf"\d{{1,2}}-\d{{1,2}}(?:-\d{{1,3}})?\s+{_W},\s+[{UP}][{LOW}]+-(?:ku|shi|cho|machi|gun|mura)\b"
)
# Indian addresses: "19, Madan Ganj", "63 Shastri Nagar", "12B, MG Marg" (a locality word).
_INDIAN = (
    rf"\d{{1,5}}[A-Z]?,?\s+(?:{_W}\s+){{1,3}}(?:Nagar|Ganj|Marg|Colony|Chowk|Bagh|Vihar"
    r"|Enclave|Puram|Layout|Halli|Peth|Wadi|Pada|Path|Gali|Mohalla|Bazar|Bazaar|Sector)\b"
)
_STREET = (
    rf"(?:{_NUMBER_FIRST_EN}|{_NUMBER_FIRST_EN_BARE}|{_NUMBER_FIRST_FR}|{_TYPE_FIRST}|{_GERMANIC}"
    rf"|{_JAPANESE}|{_INDIAN})"
)
_ADDRESS = lazy(rf"(?<![\w.,/:$€£¥#+-])(?:{_STREET}){_UNIT}{_TAIL}")
# A house number that looks like a year (1900-2099) needs an address cue right before it:
# "at 2026 Market Street" is an address, "in 2026 Washington Square ..." or "steps 2026 ..." not.
_YEAR_FIRST = lazy(r"(?:19|20)\d\d\s")
_YEAR_CUE = lazy(
    r"(?:(?i:\b(?:at|to|address|live|lives|living|stay|staying|from|is|deliver|ship|send|visit)"
    r"\s*:?\s*)|:\s*)$"
)
# Units written before the street: "Flat 3, 12 Hill Road".
_LEADING_UNIT = lazy(r"(?i:(?:apt\.?|apartment|suite|unit|flat)\s*#?\s*\w{1,5},?\s*)$")
# A word after the last comma that starts the next clause rather than naming a city.
_NOT_A_CITY = frozenset(
    "from to on at in for and or but then near next by via until before after day night"
    " week check please thanks".split()
)
# Numbers that are not house numbers: "Day 2 Times Square", "Gate 4 Terminal Drive".
_NOT_HOUSE_NUMBER = lazy(
    r"(?:(?i:\b(?:day|days|week|night|nights|stop|step|no|nr|number|option|route|bus|line|platform"
    r"|terminal|gate|exit|pier|track|stage|level|floor|room|zone|part|leg|point|seat|row|car"
    r"|coach|train|flight|tram|metro|hall|booth|stand|door|top|best|only|about|over|under)"
    rf"\s*[#:.]?\s*|\b{MONTH}\.?\s+)"  # ... a date: "Dec 3 Times Square"
    r"|\b[A-Z][A-Z0-9]{1,3}\s?"  # ... a carrier code: "BA 117 Washington Square", "ICE 578"
    r"|\d\s+)$"  # ... or another number: "flight 117 2026 Times Square"
)


def _trim(text: str, start: int, end: int) -> int:
    """Drop a trailing ', Word' that is really the start of the next clause."""
    comma = text.rfind(",", start, end)
    if comma > start:
        rest = text[comma + 1 : end].split()
        if rest and not rest[0].isupper() and rest[0].lower() in _NOT_A_CITY:
            return comma
    while end > start and text[end - 1] in " ,.":
        end -= 1
    return end


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _ADDRESS().finditer(text):
        start, end = m.span()
        lead_no = _LEAD_NUMBER().search(text, max(0, start - 24), start)
        if lead_no:  # "475 2 Lamphey Road" on its own line, "lives at 844 99 Eastbourne Rd"
            start = lead_no.start("n")
        elif text[start].isdigit() and _NOT_HOUSE_NUMBER().search(text, max(0, start - 12), start):
            continue
        if _YEAR_FIRST().match(text, start) and not _YEAR_CUE().search(
            text, max(0, start - 12), start
        ):
            continue
        lead = _LEADING_UNIT().search(text, max(0, start - 16), start)
        if lead:
            start = lead.start()
        end = _trim(text, start, end)
        found.append(Finding(PiiType.ADDRESS, start, end))
    return found + detect_more(text, found)


# --------------------------------------------------------------------------- other countries

# A word of a street name in any Latin or Greek script: "Strojírenská", "Πεντέλης", "ULVILA".
_GREEK = "\u0370-\u03ff\u1f00-\u1fff"
_ANY_WORD = (
    rf"(?:[{UP}{_GREEK}][{LOW}{_GREEK}][{LOW}{UP}{_GREEK}'\u2019.\-]*"
    rf"|[{UP}{_GREEK}]{{4,}}|[{UP}][{LOW}]?\.)"
)
_LINK_LOW = (
    r"(?:de|del|de la|della|dei|degli|di|da|do|dos|das|du|des|la|le|el|los|las|van|von|der"
    r"|den|y|e|i|u\.|ul\.|al\.|os\.|pl\.|út|utca|St|Sankt|São|Santa|San)"
)
# "Höfðastígur 86", "Bairro St António 69", "637 Strojírenská 1006", "ul. Asnyka Adama 82",
# "Rua Arédio Borges Guimarães 1935", "Tas vezér u. 66.": street words then a house number.
_GENERIC = lazy(
    rf"(?<![\w.,/:$€£¥#+-])(?:(?P<lead>\d{{1,5}}[A-Za-z]?)[ \t]+)?"
    rf"(?P<words>(?:(?:ul|al|os|pl|R|C|Av|Avda|Str|ulica|aleja|osiedle|plac|calle|rua|via)\.?"
    rf"[ \t]+|C/[ \t]*)?{_ANY_WORD}"
    rf"(?:[ \t]+(?:{_LINK_LOW}[ \t]+)*{_ANY_WORD}){{0,4}})"
    rf"(?:[ \t]+(?:(?P<type>gate|gata|gade|vei|vej|veg|utca|út|u\.|tie|katu|straße|strasse"
    rf"|street|road|avenue)|{_LINK_LOW}))?"
    rf"[ \t]+(?:n[º°o]\.?[ \t]*)?(?P<num>\d{{1,5}}(?:[-/]\d{{1,5}})?[A-Za-z]?)\.?"
    rf"(?![\w]|[.,:/]\d|[ \t]*(?:%|°|€|\$|£|¥)){_NOT_QUANTITY}"
)
_STREET_WORD_END = lazy(rf"(?i:(?:{_GERMANIC_SUFFIX})$)")
_STREET_FIRST = frozenset(
    """
    calle c/ avenida avda avda. av. av paseo plaza carrer passeig rambla ronda camino carretera
    via viale piazza piazzale corso largo vicolo rua r r. travessa praça estrada rodovia alameda
    bairro rue avenue boulevard chemin route impasse allée quai akti odos leoforos ul ul. ulica
    al. aleja os. pl. str. strada calea bulevardul sokak jalan jl. soi thanon calzada callejón
    avinguda plaça
    """.split()
)
# Words that make "words + number" travel data, not a street: "Terminal 2", "Gate B 14".
_TRAVEL_WORDS = frozenset(
    """
    hotel hostel inn resort suite suites station airport terminal gate platform room seat flight
    flights train bus tram metro line route exit pier track stage level floor zone part leg point
    day days night nights week weeks year years page chapter version section table order ticket
    booking confirmation ref reference invoice car coach row deck door booth stand option step
    steps top best only about over under number no nr option week tour group class area lounge
    concourse hall wing block lot bay berth cabin counter desk window aisle chapter episode
    season series volume vol act scene apollo iphone windows python android ios covid
    """.split()
)
_ADDRESS_CUE = lazy(
    r"(?i:\b(?:address|addresses|live[sd]?|living|moved|move|send|sent|ship|shipped|deliver"
    r"|delivered|located|locate|office|offices|return|meet\s+(?:me|you|us)\s+at|corner\s+of"
    r"|taxi\s+to|lived\s+in|is\s+in|it\s+is)\b[^.!?\n]{0,24})$"
)
_CONTINUES = lazy(
    rf"(?:[ \t]*,[ \t]*[{UP}{_GREEK}\d]|[ \t]*\n|[ \t]+(?i:apt|apartment|suite|ste|unit|flat)\b)"
)
_UNIT_ALONE = lazy(
    r"(?<![\w])(?:(?i:apt|apartment|suite|ste|unit|flat)\.?[ \t]*#?[ \t]*\d{1,5}[A-Za-z]?"
    r"(?:[ \t]+Box[ \t]+\d{1,5})?"
    r"|P\.?[ \t]?O\.?[ \t]*Box[ \t]+\d{1,6}|(?i:postfach|apartado|casella\s+postale)[ \t]+\d{1,6}"
    r"|PSC[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{1,5}|(?:USNS|USNV|USS|USCGC)[ \t]+[A-Z][\w\-]+"
    r"|(?:APO|FPO|DPO)[ \t]+A[AEP][ \t]+\d{5})(?![\w])"
)
_BLOCK_LINE = lazy(
    rf"[ \t>?*,]*(?:(?P<words>[{UP}{_GREEK}][^\n\d:;!?]{{0,60}}?)[ \t,]*)?"
    rf"(?P<pc>(?<![\w-]){_POSTCODE}|\d{{4}}-\d{{3}}|\d{{3}}[ \t]\d{{2}})?[ \t.,]*$",
    re.MULTILINE,
)


_LEAD_NUMBER = lazy(
    r"(?:^|\n|(?i:\b(?:at|to|in|address(?:\s+is)?|is)\b:?))[ \t>?*]*(?P<n>\d{1,5})[ \t]+$"
)
# A unit and a same-line tail after a street found by _generic: " Suite 119, Terrugem, Portugal".
_AFTER_STREET = lazy(rf"(?:{_UNIT}){{0,2}}{_TAIL}")


def _generic(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _GENERIC().finditer(text):
        words = m["words"].split()
        low = [w.lower() for w in words]
        postal = _POSTAL_AFTER().match(text, m.end())
        travel = any(w.rstrip(".") in _TRAVEL_WORDS for w in low) or m["type"] == "gate"
        if (travel and not postal) or any(_CALENDAR_WORD().match(w) for w in words):
            continue  # "Terminal 2", "Gate 22" -- but "Karl Johans gate 22, 0159 Oslo"
        if any(w in _CAPITAL_FUNCTION for w in low) or m["num"].endswith("s"):
            continue  # "5 Musicians Of The 70s": a title, a decade
        num = m["num"]
        if len(num) == 4 and num[:2] in ("19", "20") and not m["lead"]:
            continue  # a year: "Expo 2027"
        start = m.start() if m["lead"] else m.start("words")
        if m["lead"] and _NOT_HOUSE_NUMBER().search(text, max(0, start - 12), start):
            start = m.start("words")
        strong = (
            (bool(m["lead"]) and start == m.start())
            or low[0] in _STREET_FIRST
            or (m["type"] is not None and m["type"] != "gate")
            or bool(postal)
            or any(_STREET_WORD_END().search(w) for w in low)
        )
        if not strong and not (
            _CONTINUES().match(text, m.end())
            or _ADDRESS_CUE().search(text, max(0, start - 40), start)
        ):
            continue
        if not strong and len(words) == 1 and words[0].isascii() and not m["lead"]:
            # "Marina 5" alone needs both a cue and a continuation
            if not (
                _CONTINUES().match(text, m.end())
                and _ADDRESS_CUE().search(text, max(0, start - 40), start)
            ):
                continue
        end = m.end()
        ext = _AFTER_STREET().match(text, end)
        if ext and ext.end() > end:
            nl = text.find("\n", end, ext.end())
            end = _trim(text, start, nl if nl >= 0 else ext.end())
        found.append(Finding(PiiType.ADDRESS, start, end))
    return found


_STREET_TYPE_END = lazy(rf"(?:{_EN_TYPES}|St\.?|{_GERMANIC_SUFFIX}|gate|Greens?|Shoals?|Viaduct)$")
_POSTAL_AFTER = lazy(rf",\s*(?:{_POSTCODE}),?\s+{_W}")
_CAPITAL_FUNCTION = frozenset("of the and to a an in on for with at by from".split())
_CALENDAR_WORD = lazy(_NOT_CALENDAR.replace("(?!", "(?=", 1))


def _block(text: str, end: int) -> list[Finding]:
    """Units and postal codes on the lines after an address ("\\n Suite 026\\n Svratka\\n
    Czech Republic 45098"); city and country names are left as they are."""
    found: list[Finding] = []
    nl = text.find("\n", end)
    if nl < 0 or text[end:nl].strip(" ,.\t"):
        return found
    pos = nl + 1
    for _ in range(4):
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end < 0 else line_end
        line = text[pos:line_end]
        if not line.strip():
            pos = line_end + 1
            if line_end >= len(text):
                break
            continue
        unit = _UNIT_ALONE().search(text, pos, line_end)
        if unit and not text[pos : unit.start()].strip(" \t>?*,"):
            found.append(Finding(PiiType.ADDRESS, unit.start(), unit.end()))
        else:
            m = _BLOCK_LINE().fullmatch(text, pos, line_end)
            if m is None or not (m["words"] or m["pc"]):
                break
            words = m["words"].split() if m["words"] else []
            if len(words) > 4 or any(w.lower().strip(",.") in _NOT_BLOCK for w in words):
                break
            # The city, region and country lines of a postal block are part of the address.
            start = m.start("words") if m["words"] else m.start("pc")
            found.append(
                Finding(PiiType.ADDRESS, start, m.end("pc") if m["pc"] else m.end("words"))
            )
        if line_end >= len(text):
            break
        pos = line_end + 1
    return found


_NOT_BLOCK = frozenset(
    """
    thanks thank regards best cheers sincerely mobile phone fax desk email e-mail website
    personal info name date office tel cell the a an i we you my our please dear hi hello
    """.split()
)
_ENDS_WITH_UNIT = lazy(r"(?i:\b(?:apt|apartment|suite|ste|unit|flat)\.?[ \t]*#?[ \t]*\w{1,6})$")
# After a unit, the city, region and country on the same line: "Suite 119 Terrugem Portugal".
_UNIT_CITY = lazy(
    rf"(?:[ \t]+(?:{_ANY_WORD}|[A-Z]{{2,3}}))(?:[ \t]+(?:{_ANY_WORD}|[A-Z]{{2,3}})){{0,3}}"
    r"(?=[ \t]*(?:[.,;!?]|\n|$))"
)
# "the corner of 262 Thisseos Avenue and Semmens Greens", "corner of Vidkuns gate 71 and ..."
_CORNER = lazy(
    rf"(?i:\bcorner\s+of)\s+(?P<a>[^,.;!?\n]{{3,60}}?)\s+(?:and|&)\s+"
    rf"(?P<b>(?:{_ANY_WORD}[ \t]+){{0,3}}(?:{_EN_TYPES}|{_ANY_WORD}))(?![\w])"
)


def _after_unit(text: str, findings: list[Finding]) -> list[Finding]:
    out = []
    for f in findings:
        if _ENDS_WITH_UNIT().search(text, max(0, f.end - 24), f.end):
            m = _UNIT_CITY().match(text, f.end)
            if m:
                words = m[0].split()
                if not any(w.lower() in _NOT_BLOCK or w.lower() in _TRAVEL_WORDS for w in words):
                    out.append(Finding(PiiType.ADDRESS, f.start, m.end()))
    return out


# A street with no house number is an address when a postal code and city follow:
# "boulevard Gosselin, 14510 Sainte-Alice", "Alameda Pupilos do Exército, S/N, 7451-450 Esposende".
_NO_NUMBER = lazy(
    rf"(?<![\w])(?:(?i:{_FR_TYPES})|{_ROMANCE_TYPES})\s+(?:{_ROMANCE_LINK}\s+)*{_W}"
    rf"(?:\s+(?:{_ROMANCE_LINK}\s+)*{_W}){{0,3}}(?:,\s*(?:S/N|s/n|\d{{1,5}}[A-Za-z]?))?"
    rf",\s*(?:{_POSTCODE}|\d{{4}}-\d{{3}}),?\s+{_CITY}"
)


# Cheap gates in front of the slower patterns.
_WORD_THEN_NUMBER = re.compile(r"[^\W\d_][.]?[ \t]+(?:n[º°o]\.?[ \t]*)?\d")
_COMMA_POSTCODE = re.compile(r",\s*(?:[A-Z]?\d{2,5}|\d{3}\s\d{2})\b")
# Where a unit, box or military address can start (_UNIT_ALONE is tried there only).
_UNIT_START = re.compile(
    r"(?i:\b(?:apt|apartment|suite|ste|unit|flat|postfach|apartado|casella|p\.?[ \t]?o\b))"
    r"|\b(?:PSC|USNS|USNV|USS|USCGC|APO|FPO|DPO)\b"
)


def detect_more(text: str, found: list[Finding]) -> list[Finding]:
    """Addresses of other countries, units, P.O. boxes and the lines after an address."""
    more = _generic(text) if _WORD_THEN_NUMBER.search(text) else []
    if _COMMA_POSTCODE.search(text):
        more += [Finding(PiiType.ADDRESS, m.start(), _trim(text, m.start(), m.end()))
                 for m in _NO_NUMBER().finditer(text)]  # fmt: skip
    unit_alone = _UNIT_ALONE()
    for cand in _UNIT_START.finditer(text):
        m = unit_alone.match(text, cand.start())
        if m:
            more.append(Finding(PiiType.ADDRESS, m.start(), m.end()))
    more += _after_unit(text, found + more)
    if "corner" in text or "Corner" in text:
        for m in _CORNER().finditer(text):
            if any(f.start < m.end() and m.start("a") < f.end for f in found + more) or (
                _STREET_TYPE_END().search(m["b"])
            ):
                more.append(Finding(PiiType.ADDRESS, m.start("a"), m.end("b")))
    if "\n" in text:
        for f in sorted(found + more, key=lambda f: f.end):
            more += _block(text, f.end)
    return more
