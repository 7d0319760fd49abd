"""IPv4 and IPv6 addresses, validated with :mod:`ipaddress`."""

from __future__ import annotations

import ipaddress
import re

from .types import Finding, PiiType

_V4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
# At least two colons, hex groups, optional embedded IPv4 tail and zone id ("%eth0").
_V6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*\d)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?:%[\w.]+)?(?![\w:]|\.\d)"
)


# A software version written like an IPv4 address: a version word right before it, and no
# "IP" nearby.
_VERSION_CUE = re.compile(
    r"(?i:\b(?:version|ver\.?|build|release|firmware|update[ds]?|upgrade[ds]?|patch|app|sdk"
    r"|os|ios|android|v)\b[^\d\n]{0,12}|\bv)$"
)


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    if "." in text:
        for m in _V4.finditer(text):
            try:
                ipaddress.IPv4Address(m[0])
            except ValueError:
                continue
            if _VERSION_CUE.search(text, max(0, m.start() - 24), m.start()):
                continue  # "version 10.2.3.4", "upgraded the app to 4.1.0.12"
            found.append(Finding(PiiType.IP, m.start(), m.end()))
    if text.count(":") >= 2:
        for m in _V6.finditer(text):
            addr = m[0].split("%", 1)[0]
            try:
                ipaddress.IPv6Address(addr)
            except ValueError:
                continue
            found.append(Finding(PiiType.IP, m.start(), m.end()))
    return found
