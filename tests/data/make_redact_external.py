"""Generate tests/data/redact_external.jsonl: labelled text whose values nobody here wrote.

    .venv/bin/pip install faker phonenumbers       # faker comes with the bench packages
    .venv/bin/python tests/data/make_redact_external.py

Values come from generators outside this project, never from the redactor:

* Faker (``faker`` 40, seed 11) in 19 Latin-script locales: person names, postal addresses and
  phone numbers as each locale writes them, put into short frames in that locale's language
  and in English;
* libphonenumber's own example numbers (``phonenumbers.example_number_for_type``) for every
  region it knows, fixed-line and mobile, in international format, and in national format
  next to a phone cue;
* negatives with travel data and identifiers that only look like PII (Faker's ISBN-13/10 and
  EAN-13 next to their names, software versions, booking references, flight numbers, prices,
  room numbers, dates of travel).

Each row has ``split``: ``tune`` or ``heldout`` (by a hash of the text, about half each). Only
the ``tune`` half may be looked at when changing the detectors; ``heldout`` is scored, never
read (tests/test_redact_external.py asserts on both). The redactor is never called here.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("redact_external.jsonl")
SEED = 11
# The committed file was made with these versions; others may draw other values.
FAKER_VERSION = "40.63.0"
PHONENUMBERS_VERSION = "9.0.43"

# locale -> (frames with {name}, frames with {address}, frames with {phone})
FRAMES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "de_DE": (["Ich heiße {name}.", "Die Buchung läuft auf {name}."],
              ["Meine Adresse: {address}", "Bitte an {address} schicken."],
              ["Ruf mich an unter {phone}.", "Telefon: {phone}"]),
    "de_AT": (["Mein Name ist {name}."], ["Lieferadresse: {address}"], ["Handy: {phone}"]),
    "fr_FR": (["Je m'appelle {name}.", "La réservation est au nom de {name}."],
              ["Mon adresse : {address}", "Envoyez-le au {address}."],
              ["Appelez-moi au {phone}.", "Tél. : {phone}"]),
    "es_ES": (["Me llamo {name}.", "La reserva está a nombre de {name}."],
              ["Mi dirección es {address}", "Envíelo a {address}."],
              ["Llámame al {phone}.", "Teléfono: {phone}"]),
    "es_MX": (["Mi nombre es {name}."], ["Dirección: {address}"], ["Celular: {phone}"]),
    "it_IT": (["Mi chiamo {name}.", "La prenotazione è a nome di {name}."],
              ["Il mio indirizzo: {address}"], ["Chiamami al {phone}.", "Tel: {phone}"]),
    "nl_NL": (["Ik heet {name}.", "Mijn naam is {name}."], ["Adres: {address}"],
              ["Bel me op {phone}."]),
    "pt_BR": (["Meu nome é {name}.", "Me chamo {name}."], ["Endereço: {address}"],
              ["Me liga no {phone}.", "Telefone: {phone}"]),
    "pt_PT": (["Chamo-me {name}."], ["A minha morada: {address}"], ["Telemóvel: {phone}"]),
    "sv_SE": (["Jag heter {name}."], ["Min adress: {address}"], ["Ring mig på {phone}."]),
    "no_NO": (["Jeg heter {name}."], ["Adressen min er {address}"], ["Ring meg på {phone}."]),
    "da_DK": (["Jeg hedder {name}."], ["Adresse: {address}"], ["Ring til mig på {phone}."]),
    "fi_FI": (["Minun nimeni on {name}."], ["Osoite: {address}"], ["Puhelin: {phone}"]),
    "pl_PL": (["Nazywam się {name}."], ["Mój adres: {address}"], ["Zadzwoń pod {phone}."]),
    "cs_CZ": (["Jmenuji se {name}."], ["Adresa: {address}"], ["Telefon: {phone}"]),
    "hu_HU": (["A nevem {name}."], ["Cím: {address}"], ["Telefon: {phone}"]),
    "en_GB": (["Hello, {name} here."], ["I live at {address}"], ["Ring me on {phone}."]),
    "en_IE": (["The booking is for {name}."], ["Post it to {address}"], ["Mobile: {phone}"]),
    "en_AU": (["{name} will pick up the keys."], ["Deliver to {address}"],
              ["Call {phone} when you arrive."]),
    "en_IN": (["Guest: {name}"], ["Address - {address}"], ["Contact no. {phone}"]),
}  # fmt: skip
ENGLISH = (
    ["Please add {name} to the booking.", "{name} and I land at 9."],
    ["Please send the refund cheque to {address}.", "The pickup address is {address}."],
    ["You can reach me at {phone}.", "My number is {phone} if the flight is late."],
)
PHONE_FRAMES_INTL = ["Call me on {phone}.", "WhatsApp {phone}", "my phone: {phone}"]
PHONE_FRAMES_NATIONAL = ["I'm in {country}; call me on {phone}.", "{country} mobile: {phone}"]
NEGATIVES = [
    "The guidebook's ISBN is {isbn13}.",
    "ISBN-10 {isbn10}, second edition.",
    "EAN {ean13} on the adapter box.",
    "The app is now at version {version}.",
    "Booking reference {ref}, flight {flight} on {date}.",
    "Room {room}, check-in {date}, total {price}.",
    "Flight {flight} boards at gate {gate}; seat {seat}.",
    "Your order {order} ships on {date}.",
]


def _split(text: str) -> str:
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).digest()
    return "heldout" if digest[0] % 2 else "tune"


def _row(frame: str, kind: str | None, value: str, **extra: str) -> dict[str, object]:
    field = {"NAME": "name", "ADDRESS": "address"}.get(kind or "", "phone")
    before, _, after = frame.partition("{" + field + "}")
    before = before.format(**extra)
    after = after.format(**extra)
    text = before + value + after
    spans = [{"start": len(before), "end": len(before) + len(value), "type": kind}] if kind else []
    return {"text": text, "spans": spans, "split": _split(text), "source": extra.get("src", "")}


def main() -> None:
    import phonenumbers as pn
    from faker import Faker
    from phonenumbers import PhoneNumberFormat as F
    from phonenumbers import PhoneNumberType as T
    from phonenumbers import geocoder

    rng = random.Random(SEED)
    rows: list[dict[str, object]] = []
    for locale, (name_f, addr_f, phone_f) in FRAMES.items():
        fake = Faker(locale)
        fake.seed_instance(SEED)
        src = f"faker:{locale}"
        for i in range(6):
            rows.append(_row((name_f + ENGLISH[0])[i % (len(name_f) + 2)], "NAME", fake.name(),
                             src=src))  # fmt: skip
            address = ", ".join(line.strip() for line in fake.address().splitlines())
            rows.append(_row((addr_f + ENGLISH[1])[i % (len(addr_f) + 2)], "ADDRESS", address,
                             src=src))  # fmt: skip
            rows.append(_row((phone_f + ENGLISH[2])[i % (len(phone_f) + 2)], "PHONE",
                             fake.phone_number(), src=src))  # fmt: skip
    for region in sorted(pn.SUPPORTED_REGIONS):
        for kind in (T.FIXED_LINE, T.MOBILE):
            number = pn.example_number_for_type(region, kind)
            if number is None:
                continue
            src = f"libphonenumber:{region}"
            intl = pn.format_number(number, F.INTERNATIONAL)
            rows.append(_row(rng.choice(PHONE_FRAMES_INTL), "PHONE", intl, src=src))
            national = pn.format_number(number, F.NATIONAL)
            country = geocoder.country_name_for_number(number, "en") or region
            rows.append(_row(rng.choice(PHONE_FRAMES_NATIONAL), "PHONE", national,
                             country=country, src=src))  # fmt: skip
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    for i in range(120):
        values = {
            "isbn13": fake.isbn13(),
            "isbn10": fake.isbn10(),
            "ean13": fake.ean13(),
            "version": ".".join(str(rng.randint(0, 20)) for _ in range(4)),
            "ref": fake.bothify("??#?##").upper(),
            "flight": fake.bothify("?? ###").upper(),
            "date": fake.date_between("+1d", "+1y").strftime(rng.choice(["%Y-%m-%d", "%d %b"])),
            "room": str(rng.randint(100, 2999)),
            "price": fake.pricetag(),
            "gate": fake.bothify("?##").upper(),
            "seat": fake.bothify("##?").upper(),
            "order": fake.numerify("##########"),
        }
        text = NEGATIVES[i % len(NEGATIVES)].format(**values)
        rows.append({"text": text, "spans": [], "split": _split(text), "source": "faker:neg"})
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()
