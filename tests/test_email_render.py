"""Booking emails without the database: settings, templates, Message-IDs, and the SMTP
outcome classification against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any

import pytest

from devstack.smtp_sink import SmtpSink
from wayfare.mail import render, smtp
from wayfare.mail.config import SmtpSettings

BOOKING = "5f0c8a52-2f6e-4c1e-9d7a-3b1f2a9c0d11"


def details(**overrides: Any) -> dict[str, Any]:
    base = {"booking_id": BOOKING, "status": "confirmed", "hotel": "Hôtel des Grands Boulevards",
            "city": "Paris", "check_in": "2027-03-10", "check_out": "2027-03-13", "nights": 3,
            "amount": 64500, "currency": "EUR", "amount_refunded": 0, "error": None}
    return {**base, **overrides}


def row(kind: str, **overrides: Any) -> dict[str, Any]:
    return {"id": "o1", "status": "pending", "kind": kind, "recipient": "jane@example.test",
            "dedupe_key": f"{BOOKING}-{kind}-1", "details": details(**overrides), "attempts": 1}


SETTINGS = SmtpSettings.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "2525",
                                  "SMTP_FROM": "Wayfare <bookings@wayfare.example>",
                                  "APP_URL": "https://app.wayfare.example/"})


# ---------------------------------------------------------------------- settings
def test_smtp_url_with_starttls_and_an_encoded_password() -> None:
    s = SmtpSettings.from_env({"SMTP_URL": "smtp://mailer:p%40ss%2Fword@mail.example.com:587"
                                           "?starttls=1", "SMTP_HOST": "ignored.example"})
    assert (s.host, s.port, s.user, s.password, s.starttls, s.ssl) == (
        "mail.example.com", 587, "mailer", "p@ss/word", True, False)
    assert "p@ss" not in repr(s) and s.configured


def test_smtps_url_and_separate_variables() -> None:
    assert SmtpSettings.from_env({"SMTP_URL": "smtps://u:p@mx.example"}).port == 465
    s = SmtpSettings.from_env({"SMTP_HOST": "mx.example", "SMTP_STARTTLS": "true",
                               "SMTP_USER": "u", "SMTP_PASSWORD": "p"})
    assert (s.port, s.starttls, s.user, s.password) == (587, True, "u", "p")
    assert not SmtpSettings.from_env({}).configured
    with pytest.raises(ValueError):
        SmtpSettings.from_env({"SMTP_URL": "http://mx.example"})
    assert SETTINGS.app_url == "https://app.wayfare.example" and SETTINGS.domain == \
        "wayfare.example"


# ---------------------------------------------------------------------- templates
def test_amounts_in_the_currency_minor_unit() -> None:
    assert render.format_amount(64500, "EUR") == "€645.00"
    assert render.format_amount(38000, "JPY") == "¥38,000"
    assert render.format_amount(1999, "USD") == "$19.99"
    assert render.format_amount(1234, "CHF") == "12.34 CHF"
    assert render.format_amount(1234567, "KWD") == "1,234.567 KWD"


def test_confirmation_has_the_stay_the_amount_the_deadline_and_a_link() -> None:
    subject, text, html = render.render("booking_confirmed", details(), SETTINGS)
    assert subject == ("Booking confirmed: Hôtel des Grands Boulevards, Wed 10 Mar 2027 to "
                       "Sat 13 Mar 2027")
    for part in (text, html):
        assert "€645.00" in part and "Paris" in part and "3 nights" in part
        assert "Tue 9 Mar 2027" in part  # the day before check-in (docs/payments.md)
        assert f"https://app.wayfare.example/bookings/{BOOKING}" in part
        assert "marketing emails" in part


def test_payment_failure_and_refund() -> None:
    subject, text, html = render.render(
        "payment_failed", details(status="payment_failed", error="Your card has insufficient "
                                  "funds."), SETTINGS)
    assert subject == "Payment failed: your booking at Hôtel des Grands Boulevards"
    assert "Your card has insufficient funds." in text and "€645.00" in html
    subject, text, _ = render.render(
        "booking_refunded", details(status="cancelled", amount_refunded=64500, currency="EUR"),
        SETTINGS)
    assert subject == "Refund of €645.00: your booking at Hôtel des Grands Boulevards"
    assert "The booking is cancelled." in text
    _, text, _ = render.render("booking_refunded", details(
        currency="JPY", amount=76000, amount_refunded=76000, status="cancelled"), SETTINGS)
    assert "¥76,000" in text


def test_html_is_escaped_and_text_is_not() -> None:
    _, text, html = render.render("booking_confirmed", details(hotel="<b>Bad & Co</b>"), SETTINGS)
    assert "&lt;b&gt;Bad &amp; Co&lt;/b&gt;" in html and "<b>Bad" not in html
    assert "<b>Bad & Co</b>" in text


def test_message_id_is_derived_from_the_dedupe_key() -> None:
    first = render.build_message(row("booking_confirmed"), SETTINGS)
    again = render.build_message(row("booking_confirmed"), SETTINGS)
    assert first["Message-ID"] == again["Message-ID"] == \
        f"<{BOOKING}-booking_confirmed-1@wayfare.example>"
    assert first["To"] == "jane@example.test" and first["Auto-Submitted"] == "auto-generated"
    assert first.get_body(("plain",)) is not None and first.get_body(("html",)) is not None
    with pytest.raises(ValueError):
        render.render("newsletter", details(), SETTINGS)


# ---------------------------------------------------------------------- SMTP outcomes
@pytest.fixture
def sink(tmp_path: Path) -> Any:
    with SmtpSink(tmp_path / "mail") as made:
        yield made


def settings_for(sink: SmtpSink) -> SmtpSettings:
    return SmtpSettings.from_env({"SMTP_URL": sink.url, "SMTP_FROM": "bookings@wayfare.example"})


def test_send_delivers_both_parts(sink: SmtpSink) -> None:
    reply = smtp.send(render.build_message(row("booking_confirmed"), SETTINGS), settings_for(sink))
    assert reply.startswith("250")
    [received] = sink.received()
    assert received.rcpt_tos == ["jane@example.test"]
    assert received.mail_from == "bookings@wayfare.example"
    message = received.message()
    assert message["Message-ID"] == f"<{BOOKING}-booking_confirmed-1@wayfare.example>"
    assert "€645.00" in message.get_body(("plain",)).get_content()
    assert received.path.read_bytes() == received.data


def test_4xx_is_temporary_and_5xx_permanent_without_addresses(sink: SmtpSink) -> None:
    message = render.build_message(row("booking_confirmed"), SETTINGS)
    sink.fail_next("rcpt", "451 4.3.0 <jane@example.test> greylisted, try again")
    with pytest.raises(smtp.TemporaryFailure) as temporary:
        smtp.send(message, settings_for(sink))
    assert temporary.value.code == 451 and "jane@" not in temporary.value.reason
    assert "<address>" in temporary.value.reason
    sink.fail_next("rcpt", "550 5.1.1 <jane@example.test>: Recipient address rejected")
    with pytest.raises(smtp.PermanentFailure) as permanent:
        smtp.send(message, settings_for(sink))
    assert permanent.value.code == 550 and "example.test" not in permanent.value.reason
    sink.fail_next("data", "554 5.6.0 Message refused")
    with pytest.raises(smtp.PermanentFailure):
        smtp.send(message, settings_for(sink))
    sink.fail_next("data", "452 4.3.1 Insufficient system storage")
    with pytest.raises(smtp.TemporaryFailure):
        smtp.send(message, settings_for(sink))
    assert sink.received() == []
    smtp.send(message, settings_for(sink))
    assert len(sink.received()) == 1


def test_connection_refused_and_no_settings_are_temporary() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    closed = SmtpSettings.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)})
    message = render.build_message(row("booking_confirmed"), SETTINGS)
    with pytest.raises(smtp.TemporaryFailure) as refused:
        smtp.send(message, closed)
    assert refused.value.reason.startswith("connection:")
    with pytest.raises(smtp.TemporaryFailure):
        smtp.send(message, SmtpSettings.from_env({}))


def test_a_stay_starting_today_is_no_longer_cancellable() -> None:
    today = dt.datetime.now(dt.UTC).date()
    _, text, html = render.render("booking_confirmed", details(
        check_in=today.isoformat(), check_out=(today + dt.timedelta(days=2)).isoformat()),
        SETTINGS)
    for part in (text, html):
        assert "no longer be cancelled" in part and "Free cancellation" not in part


# ---------------------------------------------------------------------- STARTTLS and AUTH
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the relay's; its own CA bundle)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wayfare test relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_login_from_smtp_url(tmp_path: Path,
                                          certificate: tuple[Path, Path]) -> None:
    """SMTP_URL=smtp://user:pass@host:port?starttls=1 against a relay that requires STARTTLS
    before anything and AUTH before MAIL: the mail goes encrypted and authenticated; a wrong
    password is a temporary failure (the settings, not the mail), and so is an untrusted
    certificate."""
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert_path, key_path = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_path, key_path)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == (b"mailer", b"p@ss word")
        if not ok:  # not handled: aiosmtpd answers 535 itself
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data="mailer")

    with SmtpSink(tmp_path / "mail", tls_context=server_tls, require_starttls=True,
                  authenticator=authenticator, auth_required=True) as relay:
        message = render.build_message(row("booking_confirmed"), SETTINGS)

        def settings(password: str, ca_file: Path | None = cert_path) -> SmtpSettings:
            env = {"SMTP_URL": f"smtp://mailer:{password}@{relay.host}:{relay.port}?starttls=1",
                   "SMTP_FROM": "bookings@wayfare.example", "SMTP_TIMEOUT_S": "5"}
            if ca_file is not None:
                env["SMTP_CA_FILE"] = str(ca_file)
            return SmtpSettings.from_env(env)

        assert smtp.send(message, settings("p%40ss%20word")).startswith("250")
        [received] = relay.received()
        assert received.tls and received.auth == "mailer"
        with pytest.raises(smtp.TemporaryFailure) as wrong:
            smtp.send(message, settings("nope"))
        assert wrong.value.reason.startswith("authentication: 535")
        with pytest.raises(smtp.TemporaryFailure) as untrusted:
            smtp.send(message, settings("p%40ss%20word", ca_file=None))
        assert "SSLCertVerificationError" in untrusted.value.reason
        without_tls = SmtpSettings.from_env({"SMTP_URL": f"smtp://{relay.host}:{relay.port}"})
        with pytest.raises(smtp.TemporaryFailure):  # 530 STARTTLS required: our settings
            smtp.send(message, without_tls)
        assert len(relay.received()) == 1
