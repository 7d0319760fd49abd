# Data file: template lines are natural text (long lines, en dashes, curly quotes, names with the
# Turkish dotless i), so line length and ambiguous-character checks are off for this file only.
# ruff: noqa: E501, RUF001
"""Generate tests/data/redact_corpus.jsonl: labelled travel-chat texts for the PII redactor.

    python tests/data/make_redact_corpus.py            # rewrites the jsonl next to this file

Each line is ``{"text": ..., "spans": [{"start": s, "end": e, "type": "EMAIL"}, ...]}``.
Texts come from hand-written templates (user messages, booking questions, hotel and airline
confirmations, assistant replies that echo what the user gave) filled with hand-written values.
The generator does not use the redactor or its regexes: a slot's span is known because the
generator put the value there. Only validity is computed (Luhn for cards, mod 97 for IBANs,
checked with python-stdnum), because a "card number" that fails Luhn is not a card number.

About 40% of the texts are hard negatives: no PII, but full of flight numbers, booking codes,
prices, dates, times, room and confirmation numbers, coordinates, landmarks, airports, hotels.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).with_name("redact_corpus.jsonl")
SEED = 20261203

# --------------------------------------------------------------------------- PII values

FIRST = """Maria John Aiko Priya Oluwaseun Wei François Björn Siobhan Mohammed Ana Liam Chloé
Mateo Sofia Hiroshi Yuki Arjun Fatima Lukas Emma Noah Olivia Diego Camila Kenji Mei Ravi
Ingrid Sven Zanele Thabo Aroha Tāne Nguyen Linh Carlos Lucía Giulia Marco Anneke Jeroen
Kateřina Łukasz Eleni Dimitris Aisha Omar Hannah Jonas Amélie Théo Rafael Beatriz Tomás
Isabella Ethan Grace Daniel Sarah Michael Emily James Laura Pablo Ines Mehmet Elif Jiwoo
Minjun Sakura Haruto Rohan Ananya Kwame Ama Leilani Keanu Astrid Nils Saoirse Declan""".split()

SURNAME = """Gonzalez Smith Tanaka Sharma Adeyemi Zhang Dubois Andersson O'Connor Al-Farsi Costa
McCarthy Laurent Fernández Rossi Sato Watanabe Patel Haddad Müller Schmidt Johnson Williams
García Rodríguez Nakamura Chen Gupta Larsen Nilsen Dlamini Mokoena Ngata Walker Tran Pham
Ramírez López Bianchi Ricci Jansen Novák Kowalski Papadopoulos Georgiou Khan Hassan
Becker Weber Moreau Lefèvre Silva Oliveira Santos Brown Taylor Wilson Davies Evans Martin
Hernández Torres Yılmaz Demir Kim Park Lee Suzuki Takahashi Iyer Reddy Mensah Boateng
Kahananui Lindqvist Berg Murphy Kelly Nowak""".split()
# Surnames with a particle, written as one value.
SURNAME += [
    "de Vries",
    "van der Berg",
    "de la Cruz",
    "Da Silva",
    "von Trapp",
    "Al Mansouri",
    "Ó Briain",
]

EMAIL_USERS = [
    "{f}.{s}",
    "{f}{s}",
    "{f}_{s}{n}",
    "{fi}.{s}",
    "{f}.{s}+travel",
    "{f}{n}",
    "{s}.{f}",
    "{fi}{s}{n}",
    "{f}-{s}",
    "{f}.{s}.{n}",
]
EMAIL_DOMAINS = [
    "gmail.com",
    "yahoo.co.jp",
    "outlook.com",
    "icloud.com",
    "orange.fr",
    "web.de",
    "telia.se",
    "eircom.net",
    "uol.com.br",
    "163.com",
    "proton.me",
    "hotmail.co.uk",
    "libero.it",
    "protonmail.com",
    "example.com",
    "wayfare-corp.io",
    "mail.example.org",
    "student.uni-heidelberg.de",
    "company.co",
    "gmx.net",
    "yandex.ru",
    "naver.com",
]
EMAIL_FIXED = [
    "john@example.com",
    "LIAM.MCCARTHY@ICLOUD.COM",
    "travel-team@wayfare-corp.io",
    "guest.1204@hotmail.co.uk",
    "a.tanaka+kyoto2026@yahoo.co.jp",
    "ops@bookings.example.net",
    "noreply-maria@mail.example.org",
    "p.sharma@iitb.ac.in",
    "k.mueller@web.de",
    "zanele.d@telkomsa.net",
    "chloe.laurent@free.fr",
    "bea.santos@sapo.pt",
]

PHONES = {
    # North America, incl. the fictional 555 range that real chats and docs use.
    "US": [
        "555-123-4567",
        "(415) 555-0132",
        "212-555-0187",
        "+1 (646) 555-0199",
        "+1 312 555 0148",
        "650.555.0123",
        "(604) 555-0177",
        "+1-202-555-0164",
        "1-800-555-0199",
        "(917) 482-3301",
        "415 837 2290",
        "+1 702 555 0110",
        "(305) 555-0143",
        "617-555-0116",
    ],
    "GB": [
        "+44 20 7946 0958",
        "020 7946 0321",
        "07700 900123",
        "+44 7700 900456",
        "+44 (0)161 496 0734",
        "0131 496 0550",
        "+447700900789",
    ],
    "FR": [
        "+33 6 12 34 56 78",
        "06 12 34 56 78",
        "01 45 67 89 12",
        "+33 (0)4 91 23 45 67",
        "07.81.23.45.67",
    ],
    "DE": [
        "+49 30 901820",
        "030 12345678",
        "+49 151 23456789",
        "0151 23456789",
        "089 2180 3456",
        "+49 (0)89 1234567",
    ],
    "ES": ["+34 612 345 678", "612 345 678", "91 123 45 67", "+34 93 412 34 56", "699 12 34 56"],
    "IT": ["+39 06 6988 1234", "347 123 4567", "+39 347 765 4321", "02 8646 4521", "06 4567 8901"],
    "IN": ["+91 98765 43210", "98765 43210", "+91-22-2202-1234", "022 2202 1234"],
    "AU": ["+61 412 345 678", "0412 345 678", "(02) 9876 5432", "+61 2 9374 4000", "03 9654 3210"],
    "JP": ["+81 3-1234-5678", "03-1234-5678", "090-1234-5678", "+81 90 8765 4321", "075-123-4567"],
    "BR": ["+55 11 91234-5678", "(11) 91234-5678", "+55 21 2345-6789", "(21) 98765-4321"],
    "MX": ["+52 55 1234 5678", "55 1234 5678", "+52 998 123 4567"],
    "NL": ["+31 6 12345678", "06-12345678", "020 123 4567", "+31 20 624 1234"],
    "XX": [
        "+353 87 123 4567",
        "087 123 4567",
        "+41 44 668 18 00",
        "044 668 18 00",
        "+46 70 123 45 67",
        "070-123 45 67",
        "+82 10-1234-5678",
        "010-1234-5678",
        "+86 138 0013 8000",
        "+65 9123 4567",
        "+27 82 123 4567",
        "+64 21 123 4567",
        "+351 912 345 678",
        "+30 694 123 4567",
        "0044 20 7946 0011",
    ],
}
# Written without separators; only used in templates with a phone cue.
PHONES_PLAIN = [
    "4155550132",
    "07700900123",
    "0612345678",
    "5551234567",
    "612345678",
    "+81312345678",
    "9876543210",
]

PASSPORTS = [
    "AB1234567",
    "X12345678",
    "533401372",
    "C01X00T47",
    "18AV12345",
    "J8369854",
    "TK1234567",
    "GA302922",
    "N1234567",
    "PA7654321",
    "E12345678",
    "YA9876543",
    "K0193756",
    "LM4821937",
    "905213876",
    "HB0034571",
    "P4366918",
    "FR1234567",
]

IPS = [
    "203.0.113.42",
    "198.51.100.7",
    "192.168.1.23",
    "10.0.0.138",
    "172.16.254.1",
    "81.2.69.160",
    "8.8.8.8",
    "2001:db8::1",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "fe80::1ff:fe23:4567:890a",
    "2a00:1450:4001:82b::200e",
    "::ffff:192.0.2.128",
    "100.64.12.9",
    "2001:db8:3c4d:15::1a2f:1a2b",
]

ADDRESSES = [
    "1600 Pennsylvania Ave NW, Washington, DC 20500",
    "350 Fifth Avenue, New York, NY 10118",
    "742 Evergreen Terrace",
    "1234 Ocean Drive, Miami Beach, FL 33139",
    "55 Water Street, Apt 12C, Brooklyn, NY 11201",
    "2211 N Lamar Blvd, Austin, TX 78705",
    "77 Massachusetts Ave, Cambridge, MA 02139",
    "3500 Deer Creek Road, Palo Alto, CA 94304",
    "221B Baker Street, London NW1 6XE",
    "Flat 3, 12 Hill Road, London SW19 4NB",
    "45 Princes Street, Edinburgh EH2 2BY",
    "17 Station Road, Cambridge CB1 2JB",
    "8 Kings Road, Brighton BN1 1NB",
    "22 Merrion Square, Dublin 2",
    "290 Bremner Blvd, Toronto, ON M5V 3L9",
    "12 George Street, Sydney NSW 2000",
    "45 Collins St, Melbourne VIC 3000",
    "10 Rue de Rivoli, 75001 Paris",
    "5 avenue Anatole France, 75007 Paris",
    "12 bis rue des Écoles, 75005 Paris",
    "3 place Bellecour, 69002 Lyon",
    "Calle Mayor 5, 28013 Madrid",
    "Calle de Alcalá, 45",
    "Passeig de Gràcia 92, 08008 Barcelona",
    "Avenida de la Constitución 12, Sevilla",
    "Via del Corso 123, 00186 Roma",
    "Via Roma 1, Firenze",
    "Corso Como 10, 20154 Milano",
    "Via dei Coronari 12",
    "Friedrichstraße 43, 10117 Berlin",
    "Hauptstraße 5, 69117 Heidelberg",
    "Maximilianstr. 17, 80539 München",
    "Schillerstraße 12a",
    "Prinsengracht 263, 1016 GV Amsterdam",
    "Keizersgracht 123",
    "Rua Augusta 1500, São Paulo",
    "Avenida Paulista, 1578",
    "Rua das Flores 28, 4050-262 Porto",
    "1200 Rue Sherbrooke Ouest, Montréal, QC H3A 1H6",
    "4 Privet Drive",
    "1428 Elm Street",
    "99 Queen's Road, Hong Kong",
    "31 Spooner Street, Quahog, RI 00093",
    "Calle Larios 3, 2º B, 29005 Málaga",
    "Kurfürstendamm 21, 10719 Berlin",
    "150 Piccadilly, London W1J 9BR",
    "1-1-2 Oshiage, Sumida-ku, Tokyo 131-0045",
]

DOB_DATES = [
    "03/14/1985",
    "14/03/1985",
    "1985-03-14",
    "14.03.1985",
    "March 14, 1985",
    "14 March 1985",
    "Mar 14 1985",
    "14th of March 1985",
    "July 4th",
    "4 July",
    "12-05-1990",
    "1990-12-05",
    "5/12/90",
    "November 2, 1978",
    "2 November 1978",
    "Jan 30, 2001",
    "30 janvier 1992",
    "22.07.1969",
    "September 9th, 1999",
    "1979-02-28",
    "6 de mayo de 1988",
    "Dec 3",
]

# --------------------------------------------------------------------------- travel values

CITIES = """Paris London Tokyo Kyoto Osaka Rome Florence Venice Madrid Barcelona Lisbon Porto
Berlin Munich Vienna Prague Budapest Amsterdam Dublin Edinburgh Reykjavik Athens Istanbul
Dubai Marrakech Cairo Nairobi Seattle Chicago Boston Miami Denver Vancouver Toronto Montreal
Cancún Oaxaca Lima Cusco Santiago Sydney Melbourne Auckland Queenstown Bangkok Hanoi Seoul
Taipei Singapore Bali Mumbai Jaipur Kathmandu Zurich Geneva Copenhagen Stockholm Oslo
Helsinki Nice Lyon Seville Valencia Naples Milan Dubrovnik Split""".split()
AIRPORTS = [
    "JFK",
    "LHR",
    "Heathrow",
    "Gatwick",
    "CDG",
    "Charles de Gaulle",
    "Narita",
    "Haneda",
    "SFO",
    "LAX",
    "Schiphol",
    "Changi",
    "Fiumicino",
    "O'Hare",
    "Barajas",
    "DXB",
    "SYD",
    "MUC",
    "ZRH",
    "Logan",
    "KIX",
    "HND",
    "EWR",
    "Dulles",
]
LANDMARKS = [
    "Eiffel Tower",
    "Mount Fuji",
    "Washington Square",
    "Times Square",
    "Colosseum",
    "Sagrada Família",
    "Trafalgar Square",
    "Golden Gate Bridge",
    "Fushimi Inari",
    "Louvre",
    "Tower Bridge",
    "Central Park",
    "Plaza Mayor",
    "Brandenburg Gate",
    "Anne Frank House",
    "Lincoln Memorial",
    "Rockefeller Center",
    "Van Gogh Museum",
    "Shakespeare's Globe",
    "Kennedy Space Center",
    "Piazza Navona",
    "Machu Picchu",
    "Sydney Opera House",
    "Burj Khalifa",
    "St. Patrick's Cathedral",
    "Abbey Road",
    "Champs-Élysées",
    "Fifth Avenue",
    "Churchill War Rooms",
    "Senso-ji",
]
HOTELS = [
    "Hotel Granvia Kyoto",
    "The Ritz-Carlton",
    "Park Hyatt Tokyo",
    "Hilton Garden Inn",
    "Hotel Arts Barcelona",
    "The Savoy",
    "Hotel Adlon Kempinski",
    "Ace Hotel",
    "Generator Hostel",
    "Hotel Sacher",
    "Four Seasons Resort Bali",
    "Marriott Marquis",
    "ibis Styles",
    "The Hoxton",
    "Mandarin Oriental",
    "Hotel Villa Florence",
    "Casa Camper",
    "citizenM Tower of London",
    "Hotel Chelsea",
    "Raffles Hotel",
]
AIRLINES = [
    "BA",
    "UA",
    "AA",
    "DL",
    "LH",
    "AF",
    "KL",
    "IB",
    "JL",
    "NH",
    "QF",
    "EK",
    "TK",
    "LX",
    "AZ",
    "VS",
    "AC",
    "QR",
    "SQ",
    "U2",
    "FR",
]
AIRLINE_NAMES = [
    "Delta",
    "United",
    "Lufthansa",
    "British Airways",
    "Air France",
    "KLM",
    "Qantas",
    "Emirates",
    "Iberia",
    "Ryanair",
    "easyJet",
    "Japan Airlines",
    "Singapore Airlines",
    "Turkish Airlines",
    "Air Canada",
    "JetBlue",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_LONG = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


class Gen:
    """Random value makers. ``r`` is the only source of randomness."""

    def __init__(self, r: random.Random) -> None:
        self.r = r
        # A value to return instead of a random one (see ``build``: every listed value is used).
        self.force: dict[str, str] = {}

    def pick(self, seq: list[str]) -> str:
        return self.r.choice(seq)

    def _forced(self, slot: str) -> str | None:
        return self.force.pop(slot, None)

    # ---- PII
    def first(self) -> str:
        return self.pick(FIRST)

    def surname(self) -> str:
        return self.pick(SURNAME)

    def full(self) -> str:
        roll = self.r.random()
        if roll < 0.08:
            return f"{self.first()} {self.pick(list('ABCDEFGHJKLMPRST'))}. {self.surname()}"
        if roll < 0.14:
            return f"{self.first()} {self.surname()} {self.surname()}"
        return f"{self.first()} {self.surname()}"

    def email(self) -> str:
        if forced := self._forced("EMAIL"):
            return forced
        if self.r.random() < 0.25:
            return self.pick(EMAIL_FIXED)
        f = self.first().lower()
        s = self.surname().lower()
        ascii_map = str.maketrans("éèçöüäåøóíáúłñęøāşı", "eecouaaooiaulneoasi")
        f = re.sub(r"[^a-z]", "", f.translate(ascii_map)) or "guest"
        s = re.sub(r"[^a-z]", "", s.translate(ascii_map)) or "traveler"
        user = self.pick(EMAIL_USERS).format(f=f, s=s, fi=f[0], n=self.r.randint(1, 99))
        return f"{user}@{self.pick(EMAIL_DOMAINS)}"

    def phone(self) -> str:
        return self._forced("PHONE") or self.pick(PHONES[self.pick(list(PHONES))])

    def phone_plain(self) -> str:
        return self._forced("PHONE_PLAIN") or self.pick(PHONES_PLAIN)

    def card(self) -> str:
        brand = self.r.choice(
            ["visa", "visa", "mc", "mc", "amex", "disc", "diners", "jcb", "unionpay", "maestro"]
        )
        prefix, length = {
            "visa": ("4" + str(self.r.randint(10000, 99999)), 16),
            "mc": (str(self.r.choice([51, 52, 53, 54, 55, 2221, 2720])), 16),
            "amex": (self.r.choice(["34", "37"]), 15),
            "disc": (self.r.choice(["6011", "65"]), 16),
            "diners": (self.r.choice(["36", "38", "300"]), 14),
            "jcb": ("35" + str(self.r.randint(28, 89)), 16),
            "unionpay": ("62" + str(self.r.randint(10, 99)), 19),
            "maestro": (self.r.choice(["6759", "5018", "6304"]), self.r.choice([13, 16, 18])),
        }[brand]
        body = prefix + "".join(str(self.r.randint(0, 9)) for _ in range(length - 1 - len(prefix)))
        number = body + luhn_digit(body)
        assert luhn_ok(number)
        style = self.r.random()
        if length == 15 and style < 0.7:
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        if length == 14 and style < 0.7:
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        if style < 0.45:
            return " ".join(number[i : i + 4] for i in range(0, length, 4))
        if style < 0.7:
            return "-".join(number[i : i + 4] for i in range(0, length, 4))
        return number

    def ssn(self) -> str:
        area = self.r.choice([self.r.randint(1, 665), self.r.randint(667, 899)])
        return f"{area:03d}-{self.r.randint(1, 99):02d}-{self.r.randint(1, 9999):04d}"

    def ssn_loose(self) -> str:
        raw = self.ssn().replace("-", "")
        return self.r.choice([raw, f"{raw[:3]} {raw[3:5]} {raw[5:]}", self.ssn()])

    def passport(self) -> str:
        return self._forced("PASSPORT") or self.pick(PASSPORTS)

    def iban(self) -> str:
        return make_iban(self.r)

    def ip(self) -> str:
        return self._forced("IP") or self.pick(IPS)

    def address(self) -> str:
        return self._forced("ADDRESS") or self.pick(ADDRESSES)

    def dob(self) -> str:
        return self._forced("DOB") or self.pick(DOB_DATES)

    # ---- travel data (not PII)
    def flight(self) -> str:
        code = self.pick(AIRLINES)
        return f"{code}{self.r.choice(['', ' '])}{self.r.randint(1, 2999)}"

    def pnr(self) -> str:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        chars = [self.r.choice(letters + "23456789") for _ in range(6)]
        chars[0] = self.r.choice(letters)
        return "".join(chars)

    def price(self) -> str:
        amount = self.r.choice([89, 120, 450, 1234.56, 2199, 75.5, 12000, 349.99, 980, 15])
        fmt = self.r.choice(
            [
                "${:,.2f}",
                "{:,.0f} EUR",
                "€{:,.0f}",
                "£{:,.2f}",
                "¥{:,.0f}",
                "USD {:,.2f}",
                "{:,.0f} CHF",
                "A${:,.0f}",
            ]
        )
        return fmt.format(amount)

    def date(self) -> str:
        y = self.r.choice([2026, 2027])
        m = self.r.randint(1, 12)
        d = self.r.randint(1, 28)
        return self.r.choice(
            [
                f"{y}-{m:02d}-{d:02d}",
                f"{MONTHS[m - 1]} {d}",
                f"{d} {MONTHS_LONG[m - 1]}",
                f"{MONTHS_LONG[m - 1]} {d}, {y}",
                f"{d:02d}/{m:02d}/{y}",
                f"{m}/{d}",
                f"{WEEKDAYS[self.r.randint(0, 6)]} {d} {MONTHS[m - 1]}",
                f"{d}.{m}.{y}",
            ]
        )

    def time(self) -> str:
        h, mi = self.r.randint(0, 23), self.r.choice([0, 5, 15, 20, 30, 35, 45, 50, 55])
        return self.r.choice(
            [
                f"{h:02d}:{mi:02d}",
                f"{(h % 12) or 12}:{mi:02d} {'am' if h < 12 else 'pm'}",
                f"{h:02d}h{mi:02d}",
            ]
        )

    def room(self) -> str:
        return str(self.r.choice([self.r.randint(101, 1899), self.r.randint(2001, 4420)]))

    def conf(self) -> str:
        return str(self.r.randint(10_000_000, 99_999_999_999))

    def order(self) -> str:
        """A long order/ticket number that fails Luhn, sometimes grouped."""
        while True:
            n = str(self.r.randint(1, 9)) + "".join(
                str(self.r.randint(0, 9)) for _ in range(self.r.randint(11, 18))
            )
            if not luhn_ok(n):
                break
        if len(n) == 16 and self.r.random() < 0.4:
            return " ".join(n[i : i + 4] for i in range(0, 16, 4))
        return n

    def ticket(self) -> str:
        while True:
            n = self.r.choice(["125", "016", "074", "057", "176", "220"]) + "".join(
                str(self.r.randint(0, 9)) for _ in range(10)
            )
            if not luhn_ok(n):
                return self.r.choice([n, f"{n[:3]}-{n[3:]}"])

    def steps(self) -> str:
        return (
            f"{self.r.choice([8, 10, 12, 15, 18, 21, 25])},{self.r.choice(['000', '500', '250'])}"
        )

    def altitude(self) -> str:
        return self.r.choice(
            [
                "3,776 m",
                "2,430 m",
                "4,810 m",
                "1,085 ft",
                "8,849 m",
                "12,388 ft",
                "5,895 m",
                "3,454 m",
            ]
        )

    def coord(self) -> str:
        return self.r.choice(
            [
                "35.3606, 138.7274",
                "48.8584, 2.2945",
                "-33.8568, 151.2153",
                "40.7306, -73.9975",
                "41.8902, 12.4922",
                "51.5007° N, 0.1246° W",
                "13.1631, -72.5450",
                "64.1466, -21.9426",
            ]
        )

    def year(self) -> str:
        return str(self.r.choice([1889, 1923, 1998, 2019, 2024, 2025, 2026, 2027, 2030]))

    def ziplike(self) -> str:
        return self.r.choice(
            [
                "10001",
                "94105",
                "75001",
                "90210",
                "60614",
                "02139",
                "10115",
                "28013",
                "00186",
                "33139",
            ]
        )

    def train(self) -> str:
        return self.r.choice(
            [
                "ICE 578",
                "TGV 6204",
                "Nozomi 225",
                "Eurostar 9014",
                "AVE 3061",
                "Frecciarossa 9521",
                "Acela 2151",
                "Hikari 503",
                "IC 2213",
                "Shinkansen Hikari 639",
                "RJX 163",
            ]
        )

    def seat(self) -> str:
        return f"{self.r.randint(1, 45)}{self.r.choice('ABCDEFHJK')}"

    def gate(self) -> str:
        return f"{self.r.choice('ABCDEFGK')}{self.r.randint(1, 68)}"


IBAN_SPECS = {  # country: BBAN maker (digits "n", upper letters "a", alphanumerics "c")
    "DE": "18n",
    "GB": "4a14n",
    "FR": "10n11c2n",
    "ES": "20n",
    "IT": "1a10n12c",
    "NL": "4a10n",
    "BE": "12n",
    "CH": "5n12c",
    "AT": "16n",
    "IE": "4a14n",
    "PT": "21n",
    "PL": "24n",
    "SE": "20n",
    "DK": "14n",
    "NO": "11n",
    "FI": "14n",
    "LU": "3n13c",
    "GR": "7n16c",
}


def make_iban(r: random.Random) -> str:
    from stdnum import iban as stdnum_iban

    while True:
        cc = r.choice(list(IBAN_SPECS))
        bban = ""
        for count, kind in re.findall(r"(\d+)([nac])", IBAN_SPECS[cc]):
            alphabet = {
                "n": "0123456789",
                "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            }[kind]
            bban += "".join(r.choice(alphabet) for _ in range(int(count)))
        rearranged = bban + cc + "00"
        check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
        number = f"{cc}{check:02d}{bban}"
        if stdnum_iban.is_valid(number):  # also checks national check digits where defined
            break
    if r.random() < 0.6:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


# --------------------------------------------------------------------------- templates

PII_SLOTS: dict[str, tuple[str, Callable[[Gen], str]]] = {
    "FULL": ("NAME", Gen.full),
    "FIRST": ("NAME", Gen.first),
    "SURNAME": ("NAME", Gen.surname),
    "FULL2": ("NAME", Gen.full),
    "FIRST2": ("NAME", Gen.first),
    "FULL3": ("NAME", Gen.full),
    "EMAIL": ("EMAIL", Gen.email),
    "PHONE": ("PHONE", Gen.phone),
    "PHONE2": ("PHONE", Gen.phone),
    "PHONE_PLAIN": ("PHONE", Gen.phone_plain),
    "CARD": ("CARD", Gen.card),
    "SSN": ("SSN", Gen.ssn),
    "SSN_LOOSE": ("SSN", Gen.ssn_loose),
    "PASSPORT": ("PASSPORT", Gen.passport),
    "IBAN": ("IBAN", Gen.iban),
    "IP": ("IP", Gen.ip),
    "DOB": ("DOB", Gen.dob),
    "ADDRESS": ("ADDRESS", Gen.address),
}
TRAVEL_SLOTS: dict[str, Callable[[Gen], str]] = {
    "CITY": lambda g: g.pick(CITIES),
    "CITY2": lambda g: g.pick(CITIES),
    "AIRPORT": lambda g: g.pick(AIRPORTS),
    "AIRPORT2": lambda g: g.pick(AIRPORTS),
    "LANDMARK": lambda g: g.pick(LANDMARKS),
    "LANDMARK2": lambda g: g.pick(LANDMARKS),
    "HOTEL": lambda g: g.pick(HOTELS),
    "AIRLINE": lambda g: g.pick(AIRLINE_NAMES),
    "FLIGHT": Gen.flight,
    "FLIGHT2": Gen.flight,
    "PNR": Gen.pnr,
    "PRICE": Gen.price,
    "PRICE2": Gen.price,
    "DATE": Gen.date,
    "DATE2": Gen.date,
    "TIME": Gen.time,
    "TIME2": Gen.time,
    "ROOM": Gen.room,
    "CONF": Gen.conf,
    "ORDER": Gen.order,
    "TICKET": Gen.ticket,
    "STEPS": Gen.steps,
    "ALT": Gen.altitude,
    "COORD": Gen.coord,
    "YEAR": Gen.year,
    "ZIPLIKE": Gen.ziplike,
    "TRAIN": Gen.train,
    "SEAT": Gen.seat,
    "GATE": Gen.gate,
    "N": lambda g: str(g.r.randint(2, 9)),
    "NN": lambda g: str(g.r.randint(10, 48)),
}

# Messages with PII. Users write casually; the assistant and hotels echo what they were told.
PII_TEMPLATES = """
My email is john@example.com and phone is 555-123-4567
My email is {EMAIL} and phone is {PHONE}
Hi, I'm {FIRST}. Can you find me a hotel in {CITY} from {DATE} to {DATE2}? Reach me at {EMAIL}.
I'm traveling with {FULL} to {CITY} on {DATE}, flight {FLIGHT}. Please put us in adjacent seats.
my name is {FULL} and I need to change my {CITY} flight, booking ref {PNR}
Booked for {FULL}: {HOTEL}, {N} nights, check-in {DATE}. Total {PRICE}.
Passenger: {FULL} | Flight {FLIGHT} {AIRPORT} → {AIRPORT2} | Seat {SEAT} | PNR {PNR}
Passengers: {FULL}, {FULL2} and {FULL3}. All on {FLIGHT} departing {TIME}.
Dear Mr. {SURNAME}, thank you for choosing {HOTEL}. Your room {ROOM} is ready from {TIME}.
Dear Ms. {SURNAME}, your reservation {PNR} for {DATE} has been confirmed.
Dr. {SURNAME} will join the tour at {LANDMARK} at {TIME}, is there space?
Mrs {SURNAME} asked whether breakfast is included for room {ROOM}.
Sure, {FIRST}! I've booked {HOTEL} for {DATE} and sent the details to {EMAIL}.
Got it, {FIRST} — I'll text the driver's details to {PHONE} before you land at {AIRPORT}.
Can the taxi driver call me on {PHONE} when he's at the {HOTEL} entrance?
If the flight is delayed please call {PHONE} or email {EMAIL}.
Emergency contact: {FULL}, {PHONE}
WhatsApp me at {PHONE} if anything changes with the {TRAIN} on {DATE}.
call me on {PHONE_PLAIN} when you arrive at {AIRPORT}
my cell is {PHONE_PLAIN}, text me the gate number
Please charge the deposit to my Visa {CARD}, exp 08/28.
Card number: {CARD} (expires 11/27), name on card {FULL}
Pay with {CARD} please, the {PRICE} fare for {FLIGHT} on {DATE}.
I tried paying {PRICE} with card {CARD} and it was declined, booking {PNR}.
The hotel charged {CARD} twice for room {ROOM}!
For the visa form they want my SSN: {SSN}. Is that normal for a trip to {CITY}?
SSN {SSN_LOOSE} — do I need this for the ESTA?
my social security number is {SSN_LOOSE}, the travel agent asked for it
Form says: Name {FULL}, SSN {SSN}, DOB {DOB}.
My passport number is {PASSPORT}, it expires in {YEAR}.
passport: {PASSPORT} — does it need 6 months validity for {CITY}?
Passport no. {PASSPORT}, nationality French, arriving {DATE} on {FLIGHT}.
Here is my passport number {PASSPORT} for the advance passenger information.
Please add passport {PASSPORT} to the booking {PNR} for {FULL}.
{PASSPORT} is my passport number, and my wife's is {PASSPORT}.
The airline needs the APIS data: passport {PASSPORT}, date of birth {DOB}.
Refund the {PRICE} to IBAN {IBAN} please.
My IBAN is {IBAN}, account holder {FULL}.
Bank transfer for the villa deposit: {IBAN}, reference {PNR}.
please wire the refund to {IBAN} (account in my name)
The booking site blocked my IP {IP}, I'm in {CITY} on hotel wifi.
Login from new device: IP address {IP}, location {CITY}. Was this you?
Our office VPN exits at {IP}; can you whitelist it for the corporate booking tool?
Server log: login ok user={EMAIL} ip={IP} at {TIME}
DOB: {DOB}. Is there a discount for seniors on the {TRAIN}?
I was born on {DOB}, so will I count as a youth on the Eurail pass?
Date of birth {DOB}, do I need to show ID at {AIRPORT}?
It's my birthday on {DOB}, can you recommend a restaurant in {CITY}?
my date of birth is {DOB} and the airline has it wrong on {PNR}
born {DOB} — can I still book the under-26 fare?
Please send the tickets to {ADDRESS}.
I live at {ADDRESS}, how long is the drive to {AIRPORT}?
Delivery address for the SIM card: {ADDRESS}
Shipping my luggage ahead to {ADDRESS}, is that allowed?
Pick me up at {ADDRESS} at {TIME} for the {FLIGHT} flight.
Our Airbnb is at {ADDRESS}, check-in after {TIME}.
Billing address: {ADDRESS}. Card: {CARD}.
Hotel confirmation — Guest: {FULL} · Room {ROOM} · Check-in {DATE} · Confirmation {CONF}
Reservation under {FULL}, {N} adults, {DATE} to {DATE2}.
Please add passenger {FULL} to {PNR}, passport {PASSPORT}.
The booking is in the name of {FULL}, email {EMAIL}.
Hi {FIRST}, your flight {FLIGHT} to {CITY} leaves from gate {GATE} at {TIME}.
Hello {FIRST}, we've received your payment of {PRICE}. Booking {PNR} is confirmed.
Thanks, {FIRST}. I'll look for rooms near {LANDMARK} under {PRICE} a night.
Booking for Mr. {SURNAME} and Mrs. {SURNAME}, arriving {DATE}.
My wife {FIRST} and I want a quiet room at {HOTEL}.
me and my son {FIRST} are flying {AIRLINE} to {CITY}, can he sit with me?
Travelling with my colleague {FULL}, we need two rooms in {CITY} near {LANDMARK}.
I'm {FULL}, lead passenger on {PNR}. We're {N} people.
Hi, this is {FULL} from room {ROOM}, the AC is broken.
{FULL} here — can I move my {FLIGHT} to {DATE}?
Assistant: Done! {FULL} is now on {FLIGHT} on {DATE}. Confirmation sent to {EMAIL}.
Assistant: I've noted {PHONE} as the contact number and {ADDRESS} as the billing address.
Assistant: To finish, I need the passport number. You gave {PASSPORT} — is that right?
Assistant: Your refund of {PRICE} goes to {IBAN} within 5 business days.
Traveler: {FULL}; Email: {EMAIL}; Phone: {PHONE}; Passport: {PASSPORT}
name: {FULL}, email {EMAIL}, mobile {PHONE}
Guest name: {FULL} / Arrival {DATE} / Room type: Deluxe King / Rate {PRICE}
Please cancel the booking for {FULL}, reference {PNR}. Refund to card ending {N}{N}{N}{N}.
Can you send the invoice to {EMAIL}? Company is Wayfare, VAT included.
I forgot my password, my login is {EMAIL}
Hey, contact me at {EMAIL} or {PHONE2}, I'm in {CITY} until {DATE}.
You can reach my husband {FIRST} at {PHONE} if I don't answer.
Flying {AIRLINE} with {FULL} and our kids, {FLIGHT} on {DATE}. Any tips for {AIRPORT}?
The rental car is under {FULL}; license and card {CARD} at the counter.
I'm {FIRST}, {NN} years old, born {DOB}. Do I need a visa for {CITY}?
Contact: {FULL} <{EMAIL}>
Regards, {FULL}
Best, {FIRST}
Kind regards,\t{FULL} | {PHONE}
Thank you {FIRST}! Your transfer from {AIRPORT} is booked for {TIME}.
Mr. {SURNAME} in room {ROOM} requested a late checkout at {TIME}.
GONZALEZ/MARIA MS seat {SEAT} flight {FLIGHT}
{FULL} and I are flying to {CITY} on {DATE}, can you find us a hotel near {LANDMARK}?
Tell {FIRST} the tour starts at {TIME} at {LANDMARK}.
Traveling together with {FIRST} and {FIRST2}, we'd like a family room.
Seat for {FULL} please, window if possible, on {FLIGHT}.
Add my friend {FULL} to the dinner reservation at {TIME}.
I'm staying with {FULL} at {ADDRESS} for the first {N} nights.
Her email is {EMAIL} and her phone is {PHONE}, she'll meet you at {LANDMARK}.
Send the e-ticket to {EMAIL}; the passenger is {FULL}, passport {PASSPORT}.
Our card {CARD} was charged {PRICE} but booking {PNR} shows unpaid.
Hi! I'm {FIRST} and my partner is {FIRST2}. We're honeymooning in {CITY} from {DATE}.
I need an invoice with my address: {ADDRESS}, and IBAN {IBAN}.
Booking.com says the reservation for {FULL} is at {HOTEL}, {DATE}. Phone on file {PHONE}.
Please update the DOB on my profile to {DOB}, it currently shows the wrong year.
D.O.B. {DOB} / Passport {PASSPORT} / Nationality: Irish
Reminder for {FIRST}: check-in for {FLIGHT} opens {N} hours before departure.
My mom {FULL} needs wheelchair assistance at {AIRPORT}.
contact number: {PHONE}, alternative {PHONE2}
my number is {PHONE}, please don't give it to the hotel
SSN: {SSN_LOOSE}, Card: {CARD}, Email: {EMAIL}
from ip {IP} someone tried to book {PRICE} of flights on my account
Reach out to {FULL} via {EMAIL} about the group rate for {CITY}.
I'm a US citizen, passport {PASSPORT}, flying {FLIGHT} on {DATE} — do I need a visa?
Maria Gonzalez is my travel buddy, her mobile is {PHONE}.
my name is john smith, i booked {HOTEL} for {DATE} but got no email at {EMAIL}
Ship the rail passes to {ADDRESS} before {DATE}.
The hotel in {CITY} wants my home address: {ADDRESS}. Why?
Account holder: {FULL}, IBAN: {IBAN}, BIC: DEUTDEFF
The mobile number on the booking, {PHONE}, is wrong. Mine is {PHONE2}.
Hello, I am {FULL}, I lost my passport ({PASSPORT}) in {CITY}. What do I do?
I'm travelling with my daughter {FIRST} ({NN}), born {DOB}.
can you book a table for {FIRST} at {TIME}? my number is {PHONE}
"""

NEG_TEMPLATES = """
Flight {FLIGHT} from {AIRPORT} to {AIRPORT2} departs {DATE} at {TIME}. Booking reference {PNR}.
Can you find me flights from {CITY} to {CITY2} on {DATE} under {PRICE}?
Is {FLIGHT} usually on time? I land at {AIRPORT} at {TIME} and connect to {FLIGHT2}.
Your booking {PNR} is confirmed: {HOTEL}, room {ROOM}, {N} nights from {DATE}.
Confirmation {CONF} — check-in from {TIME}, check-out by {TIME2}.
I walked {STEPS} steps around {LANDMARK} today!
We climbed {ALT} yesterday, the view of {LANDMARK} was amazing.
The trailhead is at {COORD}. Is it safe to hike alone in {DATE}?
What's the best way from {AIRPORT} to {LANDMARK}? We arrive {DATE} around {TIME}.
Price dropped from {PRICE} to {PRICE2} for {FLIGHT} on {DATE}!
Order {ORDER} for the museum pass hasn't arrived, can you check?
My e-ticket number is {TICKET}, can I still change the date?
Ticket {TICKET} shows {FLIGHT} {AIRPORT}-{AIRPORT2} on {DATE}.
Is the area around {ZIPLIKE} in {CITY} nice for a weekend?
The {TRAIN} leaves {CITY} at {TIME} and arrives in {CITY2} at {TIME2}.
Seat {SEAT} on {FLIGHT}, boarding at gate {GATE} from {TIME}.
{LANDMARK} opened in {YEAR} and gets crowded after {TIME}.
Room {ROOM} has a view of {LANDMARK}, rate {PRICE} per night incl. breakfast.
flying with {AIRLINE} to {CITY} on {DATE}, how much is extra baggage?
booked for {CITY}, {DATE} to {DATE2}, {N} adults and {N} kids
traveling with kids to {CITY} in {DATE}, any family hotels near {LANDMARK}?
Reservation for {WEEKDAY} at {TIME}, table for {N}.
Hi there! Can you plan {N} days in {CITY} with a day trip to {LANDMARK}?
Dear guest, your room {ROOM} at {HOTEL} will be ready at {TIME}.
I'm so excited for {CITY}! We land at {AIRPORT} at {TIME} on {DATE}.
I'm Canadian, do I need a visa for {CITY}?
This is {AIRPORT}, right? Terminal {N}, gate {GATE}.
Do I need my passport for a day trip from {CITY} to {CITY2}?
What's the phone number format in {CITY}? Should I get a local SIM?
When is the best time to visit {LANDMARK}? We're there {DATE} to {DATE2}.
Budget: {PRICE} total for {N} people, {N} nights, flights from {AIRPORT}.
The {HOTEL} in {CITY} quoted {PRICE}, is that a good price for {DATE}?
Confirmation number {CONF} for the airport transfer at {TIME}.
Frequent flyer tier points: {STEPS} this year, {NN} flights. Can I reach Gold?
Altitude at {LANDMARK} is {ALT}; do we need to acclimatise in {CITY} first?
Coordinates for the meeting point: {COORD}. Bus {NN} stops nearby.
We saw {LANDMARK} and {LANDMARK2} in one day, {STEPS} steps total.
Train {TRAIN} delayed {NN} minutes, will I make the {TIME} connection?
{AIRLINE} flight {FLIGHT} was cancelled, PNR {PNR}. What are my options?
Assistant: Flight {FLIGHT} departs {AIRPORT} at {TIME}, arrives {AIRPORT2} at {TIME2}, fare {PRICE}.
Assistant: {HOTEL} is {N} km from {LANDMARK}. Rooms from {PRICE} on {DATE}.
Assistant: Your itinerary: {DATE} {CITY} → {DATE2} {CITY2}. Booking {PNR}, total {PRICE}.
Assistant: Day 1 {LANDMARK} at {TIME}, Day 2 {LANDMARK2}, Day 3 free in {CITY}.
The {YEAR} edition of the festival in {CITY} is on {DATE}. Tickets {PRICE}.
Can I take the {TRAIN} with a rail pass? It's {PRICE} otherwise.
Gate changed to {GATE} for {FLIGHT}, boarding {TIME}.
Where do I pick up the car at {AIRPORT}? Booking {PNR}, pick-up {DATE} {TIME}.
Order #{ORDER} — {N} tickets for {LANDMARK}, {PRICE}.
How far is {LANDMARK} from {HOTEL}? Walking or metro line {N}?
The hike to {LANDMARK} is {NN} km, elevation gain {ALT}.
{CITY} in {DATE}: average {NN}°C, sunset around {TIME}.
My flights: {FLIGHT} on {DATE}, {FLIGHT2} on {DATE2}. Both {AIRLINE}.
Can you split {PRICE} between {N} people? That's the {HOTEL} bill.
Luggage tag {PNR}{NN} went missing at {AIRPORT}, flight {FLIGHT}.
Museum tickets for {DATE}, slot {TIME}, order {ORDER}.
We're staying near {LANDMARK} in {CITY}, the {ZIPLIKE} area. Good restaurants?
Is {TIME} too early to check in at {HOTEL}? Room {ROOM} was booked for {DATE}.
Travel insurance policy {CONF}, coverage {PRICE}. Does it cover {CITY}?
Hotel wifi code is {PNR}{NN}, room {ROOM}. Works fine.
Please book the {TIME} ferry from {CITY} to {CITY2} on {DATE}.
Assistant: I couldn't find {FLIGHT} on {DATE}. Did you mean {FLIGHT2}?
On {DATE} we fly {AIRPORT} → {AIRPORT2} ({FLIGHT}), then the {TRAIN} to {CITY}.
Good morning! Breakfast is served from {TIME} to {TIME2} on floor {N}.
Thanks! {HOTEL} for {N} nights at {PRICE} sounds perfect.
Loyalty number on file, {NN} nights stayed in {YEAR}. Upgrade possible?
My birthday trip! {N} nights in {CITY}, budget {PRICE}.
Planning a birthday dinner for {N} people near {LANDMARK} at {TIME}.
I'm flying {AIRLINE} {FLIGHT}; how early should I be at {AIRPORT}?
Booking for {N} adults at {HOTEL} from {DATE}, confirmation {CONF}.
Which terminal does {AIRLINE} use at {AIRPORT}? My flight is {FLIGHT} at {TIME}.
Queue at {LANDMARK} was {NN} minutes, ticket {PRICE}, worth it.
We drove {NN}0 km from {CITY} to {CITY2}, fuel was {PRICE}.
Bus {NN} from {LANDMARK} runs every {NN} minutes until {TIME}.
Step count {STEPS}, {NN} km, {N} museums. {CITY} is exhausting!
Flight {FLIGHT} seat map: rows 10-{NN} are exit rows. I have {SEAT}.
Eurail pass valid {DATE} to {DATE2}, {N} travel days, {PRICE}.
The {HOTEL} address is on the voucher, booking {PNR}.
Check the {ZIPLIKE} bus from {LANDMARK}? It leaves at {TIME}.
Thank you, the {HOTEL} team
Population of {CITY} is about 1,234,567; the old town dates from {YEAR}.
"""

# Fixed negatives: odd shapes worth keeping verbatim.
NEG_FIXED = [
    "Flight BA 117 JFK-LHR, departs 2026-12-03 18:30, arrives 06:35+1. PNR X7KQ2P.",
    "UA2345 Dec 3 SFO 07:10 → NRT 11:05, seat 42K, confirmation 88412093.",
    "Total $1,234.56 for 3 nights, or 450 EUR if paid at the hotel.",
    "room 1204, late checkout 14:00, breakfast 7-10:30",
    "12,000 steps in Kyoto today, Fushimi Inari at 06:00 was empty!",
    "Mount Fuji is 3,776 m; the 5th station is at 2,305 m.",
    "Meeting point 35.3606, 138.7274 at 04:30 for the sunrise climb.",
    "Is JFK or Newark better for Washington Square? Landing at 16:45.",
    "The Eiffel Tower summit closes at 22:30 in summer, tickets from €29.40.",
    "Order 4829301847120093 for the Louvre tickets, is it confirmed?",
    "I was in New York in 2019 and stayed near 10001, Penn Station.",
    "Hotel Granvia Kyoto, 2 nights, ¥48,000 incl. tax, check-in 15:00.",
    "Trip ID 2026-0412-77, 4 travellers, Lisbon → Porto by train 08:39.",
    "Dec 3 — 14:35 departure from Heathrow T5, gate A23, BA 117.",
    "Shinkansen Nozomi 225, car 7, seats 12A-12C, ¥14,170 each.",
    "Flight times 10:15-12:40 and 13:55-16:10, total 6h 25m.",
    "Ferry 09:00 from Piraeus, 7.5 hours to Santorini, €79.50.",
    "The 1,000-step trail up to the shrine takes about 45 min.",
    "Booking code 4471 2290 18 for the museum audio guide.",
    "Version 2.3.1 of the app crashes on the itinerary screen.",
    "Temperatures in Reykjavik: -3 to 2 °C in December, daylight 11:20-15:30.",
    "Trafalgar Square to Abbey Road is 25 minutes on the Jubilee line.",
    "Booked for Kyoto, Osaka and Nara: 9 nights, 2 adults.",
    "We're flying with British Airways, then Iberia to Seville.",
    "Is Plaza Mayor walkable from Puerta del Sol? About 400 m?",
    "Dr. Martens store near Carnaby Street, is it open Sunday?",
    "Call center hours 08:00-20:00 CET, Monday to Friday.",
    "My birthday is in December, any ideas for a winter trip?",
    "Hi team, any news on refund case 5523190?",
    "The Anne Frank House tickets release every Tuesday at 10:00.",
    "The flight number is LH 1234 and the code is 7HJ9QP.",
    "Sunset at Santorini on 2026-07-14 is 20:41; Oia gets packed by 19:30.",
    "Altitude 2,430 m at Machu Picchu; Cusco is 3,399 m.",
    "Vienna → Prague on RJX 163, 4h 02m, from €19.90.",
    "Times Square at midnight, then Central Park at 06:00 for sunrise!",
    "We have 2 kids (4 and 7) and a budget of $3,500 for 5 nights.",
    "Is 1,085 ft the height of the Eiffel Tower with antennas?",
    "Seats 23A, 23B, 23C on AF 1681, departing CDG 13:25.",
    "ZIP code 94105 is where our office is, is the SFO shuttle close?",
    "Welcome to Tokyo! Narita Express leaves every 30 min, ¥3,070.",
    "My frequent flyer number is on the booking, the one ending 8841.",
    "Gate B32 at 17:05, boarding group 4, flight DL 405 to Atlanta.",
    "Marriott Bonvoy points: 125,000. Enough for 3 nights in Paris?",
    "We loved the Lincoln Memorial and the Kennedy Space Center in 2024.",
    "Check-in 15:00, check-out 11:00, deposit 200 EUR, city tax 3.50 EUR/night.",
]

# Hand-labelled texts, written after the detector existed and kept as a check on over-fitting:
# ``[[TYPE:value]]`` marks a span.
HANDWRITTEN = """
Hey! It's [[NAME:Tomasz]] again — the hotel never got my email ([[EMAIL:tomasz.w@onet.pl]]). Can you resend?
Booking for two: [[NAME:Hana Kobayashi]] and [[NAME:Ren Kobayashi]], arriving KIX 07:40 on NH 173.
Please call the guest back on [[PHONE:+44 7911 123456]] re: room 512.
her number's [[PHONE:0423 555 019]], she's landing at SYD at 6am
Card ending 4242 was declined; try [[CARD:5555 5555 5555 4444]] instead.
Visa: [[CARD:4012888888881881]] exp 09/29 cvv 123
Send it to [[ADDRESS:1 Infinite Loop, Cupertino, CA 95014]] please
We're at [[ADDRESS:16 Rue Cler, 75007 Paris]] until Friday.
IBAN [[IBAN:NL91ABNA0417164300]], BIC ABNANL2A, reference trip-2026
my dob is [[DOB:02/29/1996]] and the form won't accept it
Login alert: new sign-in from [[IP:85.214.132.117]] (Germany) at 03:12 UTC.
SSN on file: [[SSN:078-05-1120]]
Traveler 2: [[NAME:Elena Petrova]], passport [[PASSPORT:753123456]], DOB [[DOB:1987-11-23]]
I'm [[NAME:Ahmed]], my wife is [[NAME:Layla]]. We need a prayer room near the gate.
Dear [[NAME:Sophie]], your Eurostar 9014 tickets are attached. Coach 7, seats 61 and 62.
Contact person for the group: [[NAME:Luca Ferrari]] ([[PHONE:+39 333 123 4567]]).
The name on my passport is [[NAME:Nguyễn Thị Lan]] but the ticket says [[NAME:NGUYEN/LAN]].
Mr. and Mrs. [[NAME:Okafor]] will check in late, around 23:30.
Email [[EMAIL:reservations.guest+1204@example.co.uk]] if the transfer is late.
Fax? Nobody uses fax. Text [[PHONE:(202) 555-0178]].
Can I pay with my Amex [[CARD:3714 496353 98431]]?
Address for the visa letter: [[ADDRESS:Apartment 5, 27 Marine Parade, Brighton BN2 1TL]]
born [[DOB:1 April 1990]] in Lagos, need a visa for Schengen?
[[NAME:Kate]] and I want to see the Northern Lights in Tromsø in February.
hi my name is [[NAME:carlos mendes]], i have booking 7QX2LM
Our IP range is [[IP:192.0.2.0]]/24 but the portal blocks [[IP:192.0.2.77]]
Payment to [[IBAN:FR76 3000 6000 0112 3456 7890 189]] for the chalet
Please use [[PASSPORT:X98765432]] — that's my new passport, the old one expired.
I'm flying with my grandma [[NAME:Rosa]] (she's 84), can we get assistance at MAD?
Please reserve a table under [[NAME:Haddad]] for 8 at 20:00.
Flight LX 318 LHR–ZRH 07:00, then LX 1612 to Vienna, 2h 05m layover.
The Marina Bay Sands SkyPark is 200 m up; tickets SGD 32.
Check-in code for the lockbox is 4417, apartment on the 3rd floor.
Booking 2026/0893 — 3 adults, 1 child (6), half board, €2,340.00.
I'm vegetarian and my husband is gluten-free; any restaurants near Shibuya?
Opening hours 09:00–17:30, last entry 16:45, closed 25 Dec and 1 Jan.
We'll do Lisbon (3 nights), Sintra day trip, then Porto for 2 nights.
Is there a direct bus from Gatwick to Brighton? National Express 025 maybe?
Car rental confirmation K2938475AB, pick-up Alamo counter, 10:30.
Kilimanjaro summit is 5,895 m, Uhuru Peak, 7-day Machame route.
Can I bring 2 bottles of wine (1.5 L total) in checked luggage on DL 44?
Price per person: 1.299,00 € incl. flights from FRA.
Rail pass: 15 days in 2 months, 2nd class, youth, CHF 429.
President Lincoln's cottage tour at 11:00, then Georgetown.
Tracking number 1Z999AA10123456784 for the lost bag courier.
Sunrise at Uluru 06:12, coordinates -25.3444, 131.0369.
Terminal 2E, Hall K, gates K41-K53. Connection time 1h 10m.
Our villa in Bali sleeps 8; 4 bedrooms, IDR 12,500,000 per night.
Hi! Which is better for a first trip, Kyoto or Osaka? We have 5 days in April.
The Shard viewing platform is on floor 72, 244 m.
Train 9C 8811 was replaced by bus; compensation form ref 4481-2290-7731.
Seat 1A on the A350-1000, BA 15 to Singapore, 13h 20m.
Great Wall at Mutianyu opens 07:30; cable car ¥140 return.
We stayed at 25hours Hotel in Zurich, rooms from CHF 180.
Dinner at Jules Verne, Eiffel Tower level 2, 19:30 — dress code smart.
Pick-up from Terminal 5 at 14:35, driver will hold a sign with the booking number.
Visa on arrival costs USD 35; bring 2 passport photos.
Total distance 1,234 km, 14 hours of driving across 3 days.
Ryokan in Hakone: 2 nights, kaiseki dinner 18:00, onsen open until 24:00.
"""
# A second set, written and scored the same way after the first round of fixes.
HANDWRITTEN_2 = """
Can you change the lead traveller to [[NAME:Fiona Gallagher]]? Her passport is [[PASSPORT:PB2918374]].
We land at 06:10 and need a taxi to [[ADDRESS:48 Rue de la Pompe, 75116 Paris]].
Assistant: Noted — I'll call you at [[PHONE:+1 415-555-0190]] if the 19:45 train is cancelled.
Send the voucher to [[EMAIL:ines.moreau@laposte.net]] and cc [[EMAIL:bookings@agence-voyage.fr]].
Refund the deposit (CHF 400) to [[IBAN:CH93 0076 2011 6238 5295 7]] please.
her SSN is [[SSN:219-09-9999]], she needs it for the Global Entry form
The IP on the fraud alert was [[IP:45.33.32.156]]; I was asleep in Osaka.
I'm [[NAME:Nadia]], travelling with my brother [[NAME:Karim]] and his wife [[NAME:Lina]].
Birthday: [[DOB:12 Oct 1991]]. Do kids under 2 fly free on Ryanair?
Card [[CARD:4000 0566 5566 5556]], billing zip 10001.
Pls ring [[PHONE:07911 123456]] when the coach reaches Victoria.
Reservation under [[NAME:Okonkwo]], table for 4 at 20:30.
Our flat is at [[ADDRESS:Calle de Toledo 65, 28005 Madrid]], buzzer 3B.
The hotel has my old number, [[PHONE:+61 2 9876 5432]], please update it.
Traveller: [[NAME:Ji-woo Park]] · DOB [[DOB:1995-07-02]] · Passport [[PASSPORT:M12345678]]
Is the Colosseum open on 25 December? We arrive FCO 09:20 on AZ 611.
Booked 2 nights at the Mandarin Oriental, confirmation 55120934, €1,180 total.
Our drive from Reykjavik to Vík is 187 km; sunrise 11:05, sunset 15:50.
Can we see Mount Rainier from Seattle on a clear day? Elevation 4,392 m.
Trip 7 of 12: Hanoi → Ha Long Bay, bus at 07:30, 165,000 VND.
Tokyo Skytree is 634 m; tickets ¥2,100 on weekdays.
Order 9923 4410 2281 for the Sagrada Família audio guide, 2 adults.
Flight AA 100 JFK–LHR, seat 23A, departs 18:30, arrives 06:35 (+1).
Is 5th Avenue walkable from Times Square? About 1 km?
Our Airbnb host Mr. [[NAME:Rossi]] said check-in is at 15:00.
"""


def _parse_marked(line: str) -> tuple[str, list[dict[str, object]]]:
    text = ""
    spans: list[dict[str, object]] = []
    pos = 0
    for m in re.finditer(r"\[\[([A-Z]+):(.+?)\]\]", line):
        text += line[pos : m.start()]
        spans.append({"start": len(text), "end": len(text) + len(m[2]), "type": m[1]})
        text += m[2]
        pos = m.end()
    return text + line[pos:], spans


def _fill(template: str, g: Gen) -> tuple[str, list[dict[str, object]]]:
    text = ""
    spans: list[dict[str, object]] = []
    pos = 0
    for m in re.finditer(r"\{([A-Z0-9_]+)\}", template):
        text += template[pos : m.start()]
        slot = m[1]
        if slot in PII_SLOTS:
            kind, make = PII_SLOTS[slot]
            value = make(g)
            spans.append({"start": len(text), "end": len(text) + len(value), "type": kind})
        elif slot == "WEEKDAY":
            value = g.pick(WEEKDAYS)
        else:
            value = TRAVEL_SLOTS[slot](g)
        text += value
        pos = m.end()
    text += template[pos:]
    return text, spans


def _fixed_spans(
    template: str, text: str, spans: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Spans for literal PII written straight into a template (e.g. the seed example)."""
    literal = {
        "john@example.com": "EMAIL",
        "555-123-4567": "PHONE",
        "Maria Gonzalez": "NAME",
        "GONZALEZ/MARIA": "NAME",
        "john smith": "NAME",
    }
    out = []
    for value, kind in literal.items():
        if value not in template:
            continue
        for m in re.finditer(re.escape(value), text):
            if not any(s["start"] < m.end() and m.start() < s["end"] for s in spans):  # type: ignore[operator]
                out.append({"start": m.start(), "end": m.end(), "type": kind})
    return out


COVERAGE = {
    "PHONE": [p for values in PHONES.values() for p in values],
    "PHONE_PLAIN": PHONES_PLAIN,
    "PASSPORT": PASSPORTS,
    "IP": IPS,
    "ADDRESS": ADDRESSES,
    "DOB": DOB_DATES,
    "EMAIL": EMAIL_FIXED,
}


def build() -> list[dict[str, object]]:
    r = random.Random(SEED)
    g = Gen(r)
    rows: list[dict[str, object]] = []
    seen: set[str] = set()

    def add(text: str, spans: list[dict[str, object]]) -> None:
        if text in seen:
            return
        seen.add(text)
        rows.append({"text": text, "spans": sorted(spans, key=lambda s: s["start"])})

    pii = [t for t in PII_TEMPLATES.strip().splitlines() if t.strip()]
    neg = [t for t in NEG_TEMPLATES.strip().splitlines() if t.strip()]
    for template in pii:
        for _ in range(2):
            text, spans = _fill(template, g)
            add(text, spans + _fixed_spans(template, text, spans))
    for template in neg:
        for _ in range(2):
            add(*_fill(template, g))
    # Make sure every hand-written value appears at least once (random picks miss some).
    used = {m["text"][sp["start"] : sp["end"]] for m in rows for sp in m["spans"]}  # type: ignore[index]
    for slot, values in COVERAGE.items():
        templates = [t for t in pii if "{" + slot + "}" in t]
        for value in values:
            if value not in used:
                g.force[slot] = value
                template = g.pick(templates)
                text, spans = _fill(template, g)
                add(text, spans + _fixed_spans(template, text, spans))
                g.force.clear()
    for text in NEG_FIXED:
        add(text, [])
    for line in (HANDWRITTEN + HANDWRITTEN_2).strip().splitlines():
        if line.strip():
            add(*_parse_marked(line))
    r.shuffle(rows)
    return rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    negatives = sum(1 for row in rows if not row["spans"])
    print(f"wrote {len(rows)} texts ({negatives} without PII) to {OUT}")


if __name__ == "__main__":
    main()
