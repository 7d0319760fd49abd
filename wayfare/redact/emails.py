"""E-mail addresses, including the common obfuscations "name [at] host [dot] com"."""

from __future__ import annotations

import re

from .types import Finding, PiiType

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w%+-](?:[\w.%+-]{0,62}[\w%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])"
)
# "maria.g [at] example [dot] com", "maria.g(at)example.com", "maria at example dot com".
_OBFUSCATED = re.compile(
    r"(?i)(?<![\w.+-])[\w.+-]{1,64}\s*(?:\[at\]|\(at\)|\{at\}|\s+at\s+)\s*"
    r"[a-z0-9-]{1,63}(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\s+dot\s+|\.)\s*[a-z0-9-]{1,63})*"
    r"\s*(?:\[dot\]|\(dot\)|\{dot\}|\s+dot\s+|\.)\s*(?:com|org|net|edu|gov|io|co|uk|de|fr|es|it"
    r"|nl|jp|au|ca|br|mx|in|ch|se|ie|info|me)\b"
)
_OBF_MARKS = ("[at]", "(at)", "{at}", " dot ")


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    if "@" in text:
        found.extend(Finding(PiiType.EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text))
    low = text.lower()
    if any(mark in low for mark in _OBF_MARKS):
        for m in _OBFUSCATED.finditer(text):
            # "meet at gate dot com" is not an address: require a bracketed "at" or a "dot".
            if "[" in m[0] or "(" in m[0] or "{" in m[0] or " dot " in m[0].lower():
                found.append(Finding(PiiType.EMAIL, m.start(), m.end()))
    return found
