"""SMTP and link settings from the environment.

Either one URL:

    SMTP_URL=smtp://user:password@host:587?starttls=1     (smtps://... for implicit TLS)

or the parts: SMTP_HOST, SMTP_PORT (587 with STARTTLS, else 25), SMTP_USER, SMTP_PASSWORD,
SMTP_STARTTLS (1/true/yes), SMTP_SSL (implicit TLS), SMTP_CA_FILE (a CA bundle for a relay
with a private certificate; the system's CAs otherwise). SMTP_FROM is the sender
(`Wayfare <bookings@example.com>`); APP_URL the app's address that mails link back to.
A value in SMTP_URL wins over the separate variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_FROM = "Wayfare <bookings@wayfare.local>"
DEFAULT_APP_URL = "http://127.0.0.1:5173"
TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    sender: str = DEFAULT_FROM
    app_url: str = DEFAULT_APP_URL
    timeout: float = 30.0
    ca_file: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1] or "bookings@wayfare.local"

    @property
    def domain(self) -> str:
        """The sender's domain: the right-hand side of every Message-ID."""
        return self.sender_address.rpartition("@")[2] or "wayfare.local"

    def __repr__(self) -> str:  # never print the password
        return (f"SmtpSettings(host={self.host!r}, port={self.port}, starttls={self.starttls}, "
                f"ssl={self.ssl}, user={'set' if self.user else None})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        host, user, password = get("SMTP_HOST"), get("SMTP_USER"), get("SMTP_PASSWORD")
        starttls = (get("SMTP_STARTTLS") or "").lower() in TRUE
        ssl = (get("SMTP_SSL") or "").lower() in TRUE
        port_text = get("SMTP_PORT")
        url = get("SMTP_URL")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("smtp", "smtps"):
                raise ValueError("SMTP_URL must start with smtp:// or smtps://")
            host = parts.hostname or host
            user = unquote(parts.username) if parts.username else user
            password = unquote(parts.password) if parts.password else password
            port_text = str(parts.port) if parts.port else port_text
            ssl = ssl or parts.scheme == "smtps"
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if "starttls" in query:
                starttls = query["starttls"].lower() in TRUE
        port = int(port_text) if port_text else (465 if ssl else 587 if starttls else 25)
        timeout = float(get("SMTP_TIMEOUT_S") or 30)
        return cls(host=host, port=port, user=user, password=password, starttls=starttls,
                   ssl=ssl, sender=get("SMTP_FROM") or DEFAULT_FROM,
                   app_url=(get("APP_URL") or DEFAULT_APP_URL).rstrip("/"), timeout=timeout,
                   ca_file=get("SMTP_CA_FILE"))
