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


def detect(text: str) -> list[Finding]:
    found: list[Finding] = []
    if "." in text:
        for m in _V4.finditer(text):
            try:
                ipaddress.IPv4Address(m[0])
            except ValueError:
                continue
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
