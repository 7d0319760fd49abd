"""The web service as a real process (`python -m webhook`): Stripe signatures, storing each
event once, applying it in Postgres in `created` order, the error envelope, request ids,
probes and metrics."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.harness import databases
from tests.harness.users import create_user
from tests.webhook_helpers import (
    KYOTO_HOTEL,
    Booking,
    WebhookService,
    charge,
    free_port,
    insert_booking,
    make_event,
    payment_intent,
    post_event,
    run_webhook_service,
    sign,
)

pytestmark = pytest.mark.slow  # starts real processes (see tests/README.md)

SECRET = "whsec_test_current"


@pytest.fixture(scope="module")
def service_db(clones: databases.Clones) -> Iterator[str]:
    url = clones.make()
    yield url
    name = url.rsplit("/", 1)[-1]
    databases.drop(name)
    clones.made.remove(name)


@pytest.fixture(scope="module")
def web(service_db: str) -> Iterator[WebhookService]:
    with run_webhook_service(service_db, secrets=(SECRET,)) as service:
        yield service


@pytest.fixture
def conn(service_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(service_db, autocommit=True) as connection:
        yield connection


@pytest.fixture
def booking(service_db: str, conn: psycopg.Connection) -> Booking:
    user = create_user(service_db)
    return insert_booking(conn, user.id)


def new_pi() -> str:
    return f"pi_{uuid.uuid4().hex[:24]}"


def stored(conn: psycopg.Connection, event_id: str) -> int:
    return conn.execute("select count(*) from private.stripe_events where id = %s",
                        (event_id,)).fetchone()[0]


def booking_row(conn: psycopg.Connection, booking_id: str) -> dict[str, Any]:
    cur = conn.execute("select * from public.bookings where id = %s", (booking_id,))
    names = [c.name for c in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def count_stripe_events(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from private.stripe_events").fetchone()[0]


def assert_envelope(response: httpx.Response, status: int, code: str,
                    field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "metadata"}
    assert body["error"]["code"] == code
    assert body["error"]["field"] == field
    assert set(body["error"]) == {"type", "code", "message", "field", "retryable"}
    assert set(body["metadata"]) == {"requestId", "traceId", "timestamp"}
    assert body["metadata"]["requestId"] == response.headers["X-Request-ID"]
    return body


# ---------------------------------------------------------------------- signatures
def test_signed_event_is_stored_and_applied(web: WebhookService, conn: psycopg.Connection,
                                            booking: Booking) -> None:
    pi = new_pi()
    event = make_event("payment_intent.succeeded", payment_intent(booking, pi, "succeeded"))
    response = post_event(web.url, event, SECRET, headers={"X-Request-ID": "req-signed-0001"})
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "outcome": "applied"}
    assert response.headers["X-Request-ID"] == "req-signed-0001"
    row = booking_row(conn, booking.id)
    assert (row["status"], row["payment_intent_id"]) == ("paid", pi)
    assert row["paid_at"] is not None and row["last_event_created"] is not None
    assert row["payment_method"] == "pm_card_visa"
    stored_row = conn.execute(
        "select type, outcome, booking_id::text, request_id, processed_at is not null "
        "from private.stripe_events where id = %s", (event["id"],)).fetchone()
    assert stored_row == ("payment_intent.succeeded", "applied", booking.id, "req-signed-0001",
                          True)
    # the confirmation job carries the webhook's request id
    jobs = conn.execute("select type, request_id from public.jobs where input->>'booking_id' = %s",
                        (booking.id,)).fetchall()
    assert jobs == [("booking.confirm", "req-signed-0001")]


@pytest.mark.parametrize("case", ["wrong_secret", "changed_body", "garbage_header",
                                  "no_v1", "empty_header"])
def test_bad_signature_is_400_and_stores_nothing(web: WebhookService, conn: psycopg.Connection,
                                                 booking: Booking, case: str) -> None:
    event = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    payload = json.dumps(event)
    signature = {
        "wrong_secret": sign(payload, "whsec_someone_else"),
        "changed_body": sign(payload.replace("succeeded", "processing", 1), SECRET),
        "garbage_header": "not a signature",
        "no_v1": f"t={int(time.time())},v0=abc",
        "empty_header": "",
    }[case]
    response = post_event(web.url, payload, None, signature=signature)
    body = assert_envelope(response, 400, "VALIDATION_FAILED", "stripe-signature")
    assert body["error"]["retryable"] is False
    assert stored(conn, event["id"]) == 0
    assert booking_row(conn, booking.id)["status"] == "payment_pending"


def test_missing_signature_header_is_400(web: WebhookService, conn: psycopg.Connection,
                                         booking: Booking) -> None:
    event = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    response = post_event(web.url, event, secret=None)
    body = assert_envelope(response, 400, "VALIDATION_FAILED", "stripe-signature")
    assert "missing" in body["error"]["message"]
    assert stored(conn, event["id"]) == 0


def test_stale_timestamp_is_refused(web: WebhookService, conn: psycopg.Connection,
                                    booking: Booking) -> None:
    """Replay protection: a correctly signed delivery older than 300 s is refused."""
    event = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    old = post_event(web.url, event, SECRET, timestamp=int(time.time()) - 310)
    assert_envelope(old, 400, "VALIDATION_FAILED", "stripe-signature")
    assert stored(conn, event["id"]) == 0
    recent = post_event(web.url, event, SECRET, timestamp=int(time.time()) - 280)
    assert recent.status_code == 200 and stored(conn, event["id"]) == 1


def signature_failures(web: WebhookService, reason: str) -> float:
    prefix = f'wayfare_stripe_webhook_signature_failures_total{{reason="{reason}"}} '
    for line in httpx.get(web.url + "/metrics").text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.parametrize(("reason", "signature"), [
    ("no_match", lambda payload: sign(payload, "whsec_someone_else")),
    ("stale_timestamp", lambda payload: sign(payload, SECRET, int(time.time()) - 400)),
    ("malformed_header", lambda payload: "not a signature"),
    ("missing_header", lambda payload: None),
])
def test_bad_signature_is_logged_at_warning_and_counted(
        web: WebhookService, reason: str, signature: Any) -> None:
    """Each refusal: one WARNING line with the reason and the request id, never the header,
    the secret or the body; and the counter of its reason goes up by one."""
    event = make_event("payment_intent.succeeded", {"id": new_pi(),
                                                    "receipt_email": "jane.doe@example.com"})
    payload = json.dumps(event)
    before = signature_failures(web, reason)
    request_id = f"req-badsig-{uuid.uuid4().hex[:12]}"
    header = signature(payload)
    response = post_event(web.url, payload, None, signature=header,
                          headers={"X-Request-ID": request_id})
    assert_envelope(response, 400, "VALIDATION_FAILED", "stripe-signature")
    assert signature_failures(web, reason) == before + 1
    deadline = time.monotonic() + 5
    while not (lines := [line for line in web.log_lines()
                         if line.get("request_id") == request_id]):
        assert time.monotonic() < deadline, "no log line for the refused signature"
        time.sleep(0.05)
    assert lines[0]["event"] == "stripe.signature_rejected"
    assert lines[0]["level"] == "warning" and lines[0]["reason"] == reason
    logs = web.logs()
    assert SECRET not in logs and event["id"] not in logs and "jane.doe" not in logs
    if header:
        assert header not in logs and header.split("v1=")[-1] not in logs


def test_signature_failures_raise_an_alert_on_ops(service_db: str) -> None:
    """Past OPS_SIGNATURE_FAILURES_ALERT failures within OPS_SIGNATURE_WINDOW_S, /ops shows an
    alert naming STRIPE_WEBHOOK_SECRET (what a wrong secret after a rotation looks like)."""
    from devstack import tokens

    env = {"SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET, "OPS_SIGNATURE_FAILURES_ALERT": "3",
           "OPS_SIGNATURE_WINDOW_S": "600"}
    operator = create_user(service_db, admin=True)
    with run_webhook_service(service_db, secrets=(SECRET,), env=env) as service:
        def alerts() -> list[str]:
            response = httpx.get(service.url + "/ops/data.json", timeout=10,
                                 headers={"Authorization": f"Bearer {operator.token}"})
            assert response.status_code == 200, response.text
            return [a for a in response.json()["alerts"] if "signature" in a]

        event = make_event("payment_intent.processing", {"id": new_pi()})
        for _ in range(2):
            assert post_event(service.url, event, "whsec_wrong").status_code == 400
        assert alerts() == []
        assert post_event(service.url, event, "whsec_wrong").status_code == 400
        found = alerts()
        assert len(found) == 1 and "3 Stripe webhook signature failures" in found[0]
        assert "STRIPE_WEBHOOK_SECRET" in found[0]


def test_rotated_secrets_both_accepted(service_db: str, conn: psycopg.Connection) -> None:
    """During a rotation STRIPE_WEBHOOK_SECRET holds both; Stripe may sign with either, or
    send one v1 per secret."""
    user = create_user(service_db)
    with run_webhook_service(service_db, secrets=("whsec_new", "whsec_old")) as rotating:
        for secret in ("whsec_new", "whsec_old"):
            booking = insert_booking(conn, user.id)
            event = make_event("payment_intent.processing",
                               payment_intent(booking, new_pi(), "processing"))
            response = post_event(rotating.url, event, secret)
            assert response.status_code == 200, (secret, response.text)
            assert stored(conn, event["id"]) == 1
        # one header, two v1 signatures (the old secret's and a wrong one): accepted
        booking = insert_booking(conn, user.id)
        payload = json.dumps(make_event("payment_intent.processing",
                                        payment_intent(booking, new_pi(), "processing")))
        ts = int(time.time())
        good = sign(payload, "whsec_old", ts).split(",")[1]
        bad = sign(payload, "whsec_retired", ts).split(",")[1]
        response = post_event(rotating.url, payload, None, signature=f"t={ts},{bad},{good}")
        assert response.status_code == 200, response.text
        # a secret that is not configured any more: refused
        refused = make_event("payment_intent.processing",
                             payment_intent(booking, new_pi(), "processing"))
        response = post_event(rotating.url, refused, "whsec_retired")
        assert_envelope(response, 400, "VALIDATION_FAILED", "stripe-signature")
        assert stored(conn, refused["id"]) == 0


@pytest.mark.parametrize("payload", [
    '{"id": "evt_broken", "type": ',
    "[1, 2, 3]",
    '{"type": "payment_intent.succeeded", "created": 1}',
    '{"id": "evt_x1", "type": "payment_intent.succeeded", "created": "yesterday"}',
    '{"id": "evt_x2", "type": "payment_intent.succeeded", "created": NaN}',
    '{"id": "evt bad id", "type": "payment_intent.succeeded", "created": 1}',
])
def test_malformed_json_is_400_and_stored_as_rejected(
        web: WebhookService, conn: psycopg.Connection, payload: str) -> None:
    before = count_stripe_events(conn)
    response = post_event(web.url, payload, SECRET)
    assert_envelope(response, 400, "VALIDATION_FAILED", "body")
    assert count_stripe_events(conn) == before
    assert rejected(conn, payload) is not None


def rejected(conn: psycopg.Connection, payload: str) -> dict[str, Any] | None:
    cur = conn.execute(
        "select * from private.stripe_rejected_events"
        " where body_sha256 = encode(sha256(convert_to(%s, 'UTF8')), 'hex')", (payload,))
    row = cur.fetchone()
    return None if row is None else dict(zip([c.name for c in cur.description], row,
                                             strict=True))


def deep_event(depth: int) -> str:
    head = f'{{"id": "evt_deep_{depth}", "type": "payment_intent.succeeded", '
    return head + f'"created": {int(time.time())}, "data": {"[" * depth}{"]" * depth}}}'


@pytest.mark.parametrize(("name", "payload", "reason"), [
    ("nested 100k deep", deep_event(100_000), "nested_too_deep"),
    ("nested 900 deep", deep_event(900), "nested_too_deep"),
    ("created near 1e20", '{"id": "evt_far_future", "type": "payment_intent.succeeded", '
     '"created": 100000000000000000000, "data": {"object": {}}}', "invalid_created"),
    ("created negative", '{"id": "evt_before_1970", "type": "payment_intent.succeeded", '
     '"created": -1, "data": {"object": {}}}', "invalid_created"),
    ("a string", '"evt_1"', "not_an_object"),
    ("null", "null", "not_an_object"),
    ("no id", '{"type": "charge.refunded", "created": 1700000000}', "invalid_id"),
    ("no type", '{"id": "evt_no_type", "created": 1700000000}', "invalid_type"),
    ("type not a string", '{"id": "evt_num_type", "type": 7, "created": 1700000000}',
     "invalid_type"),
])
def test_signed_malformed_event_is_400_and_stored_as_rejected(
        web: WebhookService, conn: psycopg.Connection, name: str, payload: str,
        reason: str) -> None:
    """A signed event that is malformed answers 400 with the envelope, never 500 (Stripe
    would retry a 500 for days), and is kept once per body in stripe_rejected_events."""
    before = count_stripe_events(conn)
    for attempt in (1, 2):  # Stripe delivers it again: one row, two deliveries
        response = post_event(web.url, payload, SECRET, headers={
            "X-Request-ID": f"req-rejected-{attempt}-{abs(hash(name)) % 10**8}"})
        assert_envelope(response, 400, "VALIDATION_FAILED", "body")
    assert count_stripe_events(conn) == before
    row = rejected(conn, payload)
    assert row is not None, name
    assert row["reason"] == reason and row["deliveries"] == 2
    assert row["body"] == payload and row["request_id"] == response.headers["X-Request-ID"]
    assert web.alive()
    lines = [line for line in web.log_lines() if line.get("event") == "stripe.event_rejected"
             and line.get("request_id") == response.headers["X-Request-ID"]]
    assert lines and lines[0]["level"] == "warning" and lines[0]["reason"] == reason
    if len(payload) > 20:  # the body never reaches the logs
        assert payload[:60] not in web.logs()
    metrics = httpx.get(web.url + "/metrics").text
    assert 'outcome="rejected"' in metrics


def test_out_of_range_value_refused_by_postgres_is_rejected(
        web: WebhookService, conn: psycopg.Connection) -> None:
    """Defence in depth: a value Python lets through but Postgres refuses (here a number too
    large for jsonb's numeric) is a 400 and a rejected row, not a 500."""
    payload = ('{"id": "evt_huge_number", "type": "payment_intent.succeeded", '
               '"created": 1700000000, "data": {"object": {"amount": 1e1000000}}}')
    response = post_event(web.url, payload, SECRET)
    assert response.status_code == 400, response.text
    row = rejected(conn, payload)
    assert row is not None and row["event_id"] == "evt_huge_number"


def test_oversized_body_is_413(web: WebhookService, conn: psycopg.Connection,
                               booking: Booking) -> None:
    obj = payment_intent(booking, new_pi(), "succeeded")
    obj["description"] = "x" * (300 * 1024)
    event = make_event("payment_intent.succeeded", obj)
    response = post_event(web.url, event, SECRET)
    assert_envelope(response, 413, "VALIDATION_FAILED", "body")
    assert stored(conn, event["id"]) == 0
    assert booking_row(conn, booking.id)["status"] == "payment_pending"


# ---------------------------------------------------------------------- applying events
def test_duplicate_event_is_stored_once_and_applied_once(
        web: WebhookService, conn: psycopg.Connection, booking: Booking) -> None:
    event = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    first = post_event(web.url, event, SECRET)
    paid_at = booking_row(conn, booking.id)["paid_at"]
    outcomes = [post_event(web.url, event, SECRET).json()["outcome"] for _ in range(3)]
    assert first.json()["outcome"] == "applied" and outcomes == ["duplicate"] * 3
    assert stored(conn, event["id"]) == 1
    assert booking_row(conn, booking.id)["paid_at"] == paid_at
    confirms = conn.execute("select count(*) from public.jobs where type = 'booking.confirm' "
                            "and input->>'booking_id' = %s", (booking.id,)).fetchone()[0]
    assert confirms == 1


def test_concurrent_duplicates_apply_once(web: WebhookService, conn: psycopg.Connection,
                                          booking: Booking) -> None:
    from concurrent.futures import ThreadPoolExecutor

    event = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: post_event(web.url, event, SECRET).json()["outcome"],
                                 range(8)))
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 7
    confirms = conn.execute("select count(*) from public.jobs where type = 'booking.confirm' "
                            "and input->>'booking_id' = %s", (booking.id,)).fetchone()[0]
    assert confirms == 1


def test_late_event_never_moves_a_booking_backwards(
        web: WebhookService, conn: psycopg.Connection, booking: Booking) -> None:
    pi, now = new_pi(), int(time.time())
    succeeded = make_event("payment_intent.succeeded", payment_intent(booking, pi, "succeeded"),
                           created=now)
    processing = make_event("payment_intent.processing",
                            payment_intent(booking, pi, "processing"), created=now - 5)
    failed_late = make_event("payment_intent.payment_failed",
                             payment_intent(booking, pi, "requires_payment_method",
                                            error_message="Your card was declined."),
                             created=now - 2)
    assert post_event(web.url, succeeded, SECRET).json()["outcome"] == "applied"
    assert post_event(web.url, processing, SECRET).json()["outcome"] == "stale"
    assert post_event(web.url, failed_late, SECRET).json()["outcome"] == "stale"
    row = booking_row(conn, booking.id)
    assert row["status"] == "paid" and row["error"] is None
    # newer, but the state machine forbids paid -> processing: stored, ignored, acknowledged
    newer = make_event("payment_intent.processing", payment_intent(booking, pi, "processing"),
                       created=now + 5)
    response = post_event(web.url, newer, SECRET)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert booking_row(conn, booking.id)["status"] == "paid"
    error = conn.execute("select error from private.stripe_events where id = %s",
                         (newer["id"],)).fetchone()[0]
    assert error == "A booking cannot go from paid to processing."


def test_failed_payment_records_a_user_safe_reason(web: WebhookService,
                                                   conn: psycopg.Connection,
                                                   booking: Booking) -> None:
    pi = new_pi()
    failed = make_event("payment_intent.payment_failed",
                        payment_intent(booking, pi, "requires_payment_method",
                                       error_message="Your card has insufficient funds."))
    assert post_event(web.url, failed, SECRET).json()["outcome"] == "applied"
    row = booking_row(conn, booking.id)
    assert (row["status"], row["error"]) == ("payment_failed", "Your card has insufficient funds.")
    # a new attempt that succeeds clears it
    paid = make_event("payment_intent.succeeded", payment_intent(booking, pi, "succeeded"),
                      created=int(time.time()) + 1)
    assert post_event(web.url, paid, SECRET).json()["outcome"] == "applied"
    row = booking_row(conn, booking.id)
    assert (row["status"], row["error"]) == ("paid", None)


def test_canceled_and_refunded(web: WebhookService, service_db: str,
                               conn: psycopg.Connection) -> None:
    user = create_user(service_db)
    unpaid, paid = insert_booking(conn, user.id), insert_booking(conn, user.id)
    now = int(time.time())
    canceled = make_event("payment_intent.canceled",
                          payment_intent(unpaid, new_pi(), "canceled"), created=now)
    assert post_event(web.url, canceled, SECRET).json()["outcome"] == "applied"
    row = booking_row(conn, unpaid.id)
    assert row["status"] == "cancelled" and row["cancelled_at"] is not None

    pi = new_pi()
    post_event(web.url, make_event("payment_intent.succeeded",
                                   payment_intent(paid, pi, "succeeded"), created=now), SECRET)
    partial = make_event("charge.refunded", charge(paid, pi, amount_refunded=1000),
                         created=now + 1)
    assert post_event(web.url, partial, SECRET).json()["outcome"] == "applied"
    row = booking_row(conn, paid.id)
    assert (row["status"], row["amount_refunded"]) == ("paid", 1000)
    assert row["refunded_at"] is not None
    full = make_event("charge.refunded", charge(paid, pi, amount_refunded=paid.amount),
                      created=now + 2)
    assert post_event(web.url, full, SECRET).json()["outcome"] == "applied"
    row = booking_row(conn, paid.id)
    assert (row["status"], row["amount_refunded"]) == ("cancelled", paid.amount)


def test_unknown_type_is_stored_and_acknowledged(web: WebhookService,
                                                 conn: psycopg.Connection,
                                                 booking: Booking) -> None:
    event = make_event("customer.subscription.created", {"id": "sub_123", "object": "subscription"})
    response = post_event(web.url, event, SECRET)
    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "unhandled"}
    row = conn.execute("select type, outcome, payload from private.stripe_events where id = %s",
                       (event["id"],)).fetchone()
    assert row[0] == "customer.subscription.created" and row[1] == "unhandled"
    assert row[2]["data"]["object"]["id"] == "sub_123"


def test_event_without_a_booking_is_acknowledged(web: WebhookService,
                                                 conn: psycopg.Connection) -> None:
    stranger = Booking(str(uuid.uuid4()), str(uuid.uuid4()), 5000, "USD")
    event = make_event("payment_intent.succeeded",
                       payment_intent(stranger, new_pi(), "succeeded", metadata={}))
    response = post_event(web.url, event, SECRET)
    assert response.status_code == 200 and response.json()["outcome"] == "not_found"
    assert stored(conn, event["id"]) == 1


def test_wrong_amount_or_foreign_payment_intent_is_ignored(
        web: WebhookService, conn: psycopg.Connection, booking: Booking) -> None:
    cheap = make_event("payment_intent.succeeded",
                       payment_intent(booking, new_pi(), "succeeded", amount=100))
    assert post_event(web.url, cheap, SECRET).json()["outcome"] == "ignored"
    assert booking_row(conn, booking.id)["status"] == "payment_pending"
    pi = new_pi()
    post_event(web.url, make_event("payment_intent.processing",
                                   payment_intent(booking, pi, "processing")), SECRET)
    other = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    assert post_event(web.url, other, SECRET).json()["outcome"] == "ignored"
    row = booking_row(conn, booking.id)
    assert (row["status"], row["payment_intent_id"]) == ("processing", pi)


def test_malformed_fields_are_ignored_not_retried(web: WebhookService,
                                                  conn: psycopg.Connection,
                                                  booking: Booking) -> None:
    obj = charge(booking, new_pi(), amount_refunded=1)
    obj["amount_refunded"] = "lots"
    event = make_event("charge.refunded", obj)
    response = post_event(web.url, event, SECRET)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    row = conn.execute("select outcome, error from private.stripe_events where id = %s",
                       (event["id"],)).fetchone()
    assert row == ("ignored", "The event's data is malformed.")
    assert booking_row(conn, booking.id)["amount_refunded"] == 0


def test_zero_decimal_currency(web: WebhookService, service_db: str,
                               conn: psycopg.Connection) -> None:
    user = create_user(service_db)
    booking = insert_booking(conn, user.id, hotel_id=KYOTO_HOTEL, nights=3)
    assert (booking.amount, booking.currency) == (3 * 38000, "JPY")  # whole yen
    event = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    assert post_event(web.url, event, SECRET).json()["outcome"] == "applied"


# ---------------------------------------------------------------------- HTTP (docs/errors.md)
def test_request_ids_and_trace_ids(web: WebhookService) -> None:
    mine = httpx.get(web.url + "/healthz", headers={"X-Request-ID": "my-request.id_42"})
    assert mine.headers["X-Request-ID"] == "my-request.id_42"
    for bad in ("short", "x" * 129, "has space in it", "semi;colon;here"):
        replaced = httpx.get(web.url + "/healthz", headers={"X-Request-ID": bad})
        assert str(uuid.UUID(replaced.headers["X-Request-ID"])) == replaced.headers["X-Request-ID"]
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = httpx.post(web.url + "/webhooks/stripe", content=b"{}",
                          headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01",
                                   "X-Request-ID": "req-trace-0001"})
    body = assert_envelope(response, 400, "VALIDATION_FAILED", "stripe-signature")
    assert body["metadata"] == {**body["metadata"], "requestId": "req-trace-0001",
                                "traceId": trace}
    invalid_trace = httpx.post(web.url + "/webhooks/stripe", content=b"{}",
                               headers={"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"})
    body = invalid_trace.json()
    assert body["metadata"]["traceId"] == body["metadata"]["requestId"]


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/nowhere", 404, "NOT_FOUND"),
    ("GET", "/webhooks/stripe", 405, "VALIDATION_FAILED"),
    ("DELETE", "/healthz", 405, "VALIDATION_FAILED"),
])
def test_every_error_uses_the_envelope(web: WebhookService, method: str, path: str,
                                       status: int, code: str) -> None:
    response = httpx.request(method, web.url + path)
    assert_envelope(response, status, code)
    assert response.headers["Content-Type"].startswith("application/json")
    if status == 405:
        assert "POST" in response.headers["Allow"] or "GET" in response.headers["Allow"]


def test_probes(web: WebhookService) -> None:
    assert httpx.get(web.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(web.url + "/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert ready.headers["X-Request-ID"]


def test_database_down_is_503_and_retryable(service_db: str) -> None:
    dead = f"postgresql://postgres:postgres@127.0.0.1:{free_port()}/nothing"
    with run_webhook_service(dead, secrets=(SECRET,)) as down:
        assert httpx.get(down.url + "/healthz").status_code == 200
        ready = httpx.get(down.url + "/readyz", timeout=10)
        body = assert_envelope(ready, 503, "INTERNAL")
        assert body["error"]["retryable"] is True
        event = make_event("payment_intent.succeeded", {"id": "pi_x", "metadata": {}})
        started = time.monotonic()
        response = post_event(down.url, event, SECRET)
        body = assert_envelope(response, 503, "INTERNAL")
        assert body["error"]["retryable"] is True and response.headers["Retry-After"]
        assert time.monotonic() - started < 5
        # bad signatures are still refused without the database
        assert post_event(down.url, event, "whsec_wrong").status_code == 400


def test_survives_dropped_database_connections(web: WebhookService, service_db: str,
                                                conn: psycopg.Connection,
                                                booking: Booking) -> None:
    """The database restarted (every session killed): the next event is still applied."""
    first = make_event("payment_intent.processing",
                       payment_intent(booking, new_pi(), "processing"))
    assert post_event(web.url, first, SECRET).status_code == 200
    name = service_db.rsplit("/", 1)[-1]
    killed = conn.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                          "where datname = %s and application_name = 'wayfare-webhook'",
                          (name,)).fetchone()[0]
    assert killed >= 1
    second = make_event("payment_intent.succeeded", payment_intent(booking, new_pi(), "succeeded"))
    response = post_event(web.url, second, SECRET)
    assert response.status_code == 200, response.text
    assert stored(conn, second["id"]) == 1


def test_metrics(web: WebhookService, booking: Booking) -> None:
    event = make_event("payment_intent.processing",
                       payment_intent(booking, new_pi(), "processing"))
    post_event(web.url, event, SECRET)
    post_event(web.url, event, SECRET)
    httpx.get(web.url + "/healthz")
    text = httpx.get(web.url + "/metrics").text
    for series in (
        'wayfare_stripe_webhook_events_total{outcome="applied",'
        'type="payment_intent.processing"}',
        'wayfare_stripe_webhook_events_total{outcome="duplicate",'
        'type="payment_intent.processing"}',
        'wayfare_http_requests_total{endpoint="/webhooks/stripe",method="POST",status="200"}',
        'wayfare_http_request_duration_seconds_bucket{endpoint="/healthz",le="0.005",'
        'method="GET",status="200"}',
    ):
        assert series in text, series
    assert "wayfare_stripe_webhook_lag_seconds_count" in text


def test_logs_carry_request_ids_and_no_payload(web: WebhookService, booking: Booking) -> None:
    """Events an operator may need to look at (stale, ignored, not_found) are logged at INFO
    with the request id; no payload, no PII, no secret ever is."""
    obj = payment_intent(booking, new_pi(), "succeeded", amount=1)  # wrong amount: ignored
    event = make_event("payment_intent.succeeded", obj)
    post_event(web.url, event, SECRET, headers={"X-Request-ID": "req-logs-000001"})
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in web.log_lines() if line.get("request_id") == "req-logs-000001"]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert lines and lines[0]["event"] == "stripe.event" and lines[0]["outcome"] == "ignored"
    assert lines[0]["event_id"] == event["id"] and lines[0]["booking_id"] == booking.id
    logs = web.logs()
    assert "jane.doe@example.com" not in logs and SECRET not in logs
    assert "receipt_email" not in logs and "client_secret" not in logs


def test_service_role_is_least_privilege(service_db: str) -> None:
    """The service's sessions run as wayfare_web: it may record events and nothing else."""
    with psycopg.connect(service_db, autocommit=True) as connection:
        connection.execute("set role wayfare_web")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("select * from public.bookings")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("select * from private.stripe_events")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("select private.confirm_booking(gen_random_uuid())")


def test_no_secret_configured_is_503(service_db: str) -> None:
    env = {"STRIPE_WEBHOOK_SECRET": ""}
    with run_webhook_service(service_db, secrets=(), env=env) as unconfigured:
        event = make_event("payment_intent.processing", {"id": "pi_y"})
        response = post_event(unconfigured.url, event, SECRET)
        assert_envelope(response, 503, "INTERNAL")


def test_unexpected_errors_leak_nothing() -> None:
    """In process: a database layer that blows up gives 500 INTERNAL, retryable, without the
    exception's text; a database that is away gives 503."""
    from wayfare.config import Settings
    from webhook.app import create_app
    from webhook.db import DatabaseUnavailable

    class Exploding:
        def __init__(self, exc: Exception) -> None:
            self.exc = exc

        def record_stripe_event(self, payload: str, request_id: str) -> dict[str, Any]:
            raise self.exc

        def ping(self, timeout: float = 1.0) -> bool:
            raise self.exc

    settings = Settings(stripe_webhook_secrets=(SECRET,))
    event = json.dumps(make_event("payment_intent.processing", {"id": "pi_z"}))
    headers = {"Stripe-Signature": sign(event, SECRET)}
    for exc, status, code in ((RuntimeError("password=hunter2 at db.internal:5432"), 500,
                               "INTERNAL"),
                              (DatabaseUnavailable("PoolTimeout"), 503, "INTERNAL")):
        app = create_app(settings, database=Exploding(exc))  # type: ignore[arg-type]
        response = app.test_client().post("/webhooks/stripe", data=event, headers=headers)
        assert response.status_code == status
        body = response.get_json()
        assert body["error"]["code"] == code and body["error"]["retryable"] is True
        assert "hunter2" not in response.get_data(as_text=True)
        assert "db.internal" not in response.get_data(as_text=True)
        assert response.headers["X-Request-ID"] == body["metadata"]["requestId"]


# ---------------------------------------------------------------------- safe defaults (#9)
def test_metrics_content_type_has_no_duplicate_parameters(web: WebhookService) -> None:
    """Prometheus 3 refuses a Content-Type that repeats a parameter (`charset` twice)."""
    for accept, expected in ((None, "text/plain; version=0.0.4; charset=utf-8"),
                             ("text/plain;version=1.0.0;escaping=underscores",
                              "text/plain; version=1.0.0; charset=utf-8; escaping=underscores"),
                             ("application/openmetrics-text;version=1.0.0",
                              "application/openmetrics-text; version=1.0.0; charset=utf-8; "
                              "escaping=underscores")):
        headers = {"Accept": accept} if accept else {}
        response = httpx.get(web.url + "/metrics", headers=headers)
        assert response.status_code == 200
        content_type = response.headers["Content-Type"]
        names = [p.split("=")[0].strip().lower() for p in content_type.split(";")[1:]]
        assert len(names) == len(set(names)), content_type
        assert content_type == expected
        assert "wayfare_http_requests" in response.text


def test_metrics_bearer_token(service_db: str) -> None:
    token = "metrics-token-" + uuid.uuid4().hex
    with run_webhook_service(service_db, secrets=(SECRET,),
                             env={"METRICS_TOKEN": token}) as service:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            response = httpx.get(service.url + "/metrics", headers=headers)
            assert_envelope(response, 401, "UNAUTHORIZED")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        ok = httpx.get(service.url + "/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "wayfare_http_requests" in ok.text
        assert httpx.get(service.url + "/healthz").status_code == 200  # probes stay open
        assert token not in service.logs()


class NoDatabase:
    """A database the /ops login and page headers never reach."""

    def ping(self, timeout: float = 1.0) -> bool:
        return True


def ops_app() -> Any:
    from devstack import tokens
    from wayfare.config import Settings
    from webhook.app import create_app

    settings = Settings(supabase_jwt_secret=tokens.TEST_JWT_SECRET,
                        stripe_webhook_secrets=(SECRET,))
    return create_app(settings, database=NoDatabase())  # type: ignore[arg-type]


def admin_token() -> str:
    from devstack import tokens

    return tokens.mint(str(uuid.uuid4()), email="ops@example.test",
                       app_metadata={"role": "admin"})


@pytest.mark.parametrize(("method", "path", "data"), [
    ("GET", "/ops", None),                      # the login page (401)
    ("GET", "/ops/data.json", None),            # 401 JSON
    ("POST", "/ops/login", {"token": "nope"}),  # a failed sign-in
    ("POST", "/ops/logout", None),
])
def test_ops_responses_carry_strict_security_headers(method: str, path: str,
                                                     data: dict[str, str] | None) -> None:
    client = ops_app().test_client()
    response = client.open(path, method=method, data=data, headers={"Accept": "text/html"})
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in csp and "script-src" not in directives
    assert all(source.startswith("'sha256-") for source in directives["style-src"].split())


def test_ops_page_styles_match_the_policy() -> None:
    """Every <style> block the pages send is allowed by hash, and no style attribute is used
    (a strict policy would silently drop it)."""
    import base64
    import hashlib
    import re

    client = ops_app().test_client()
    login = client.get("/ops", headers={"Accept": "text/html"})
    html = login.get_data(as_text=True)
    assert login.status_code == 401 and "<form" in html
    csp = login.headers["Content-Security-Policy"]
    blocks = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert blocks and ' style="' not in html
    for css in blocks:
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_signed_in_ops_page_is_allowed_by_its_policy(service_db: str) -> None:
    """The full page an operator sees (every section, charts included): its style blocks are
    in the policy by hash, and it has no style attribute or script the policy would block."""
    import base64
    import hashlib
    import re

    from devstack import tokens

    operator = create_user(service_db, admin=True)
    env = {"SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET}
    with run_webhook_service(service_db, secrets=(SECRET,), env=env) as service:
        page = httpx.get(service.url + "/ops", timeout=10, headers={
            "Accept": "text/html", "Authorization": f"Bearer {operator.token}"})
    assert page.status_code == 200 and "Wayfare operations" in page.text
    csp = page.headers["Content-Security-Policy"]
    blocks = re.findall(r"<style>(.*?)</style>", page.text, re.S)
    assert blocks and ' style="' not in page.text and "<script" not in page.text
    for css in blocks:
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("headers", "base", "secure"), [
    ({}, "http://localhost", False),
    ({"X-Forwarded-Proto": "https"}, "http://localhost", True),
    ({"X-Forwarded-Proto": "https, http"}, "http://localhost", True),
    ({}, "https://localhost", True),
])
def test_ops_cookie_is_secure_behind_https(headers: dict[str, str], base: str,
                                           secure: bool) -> None:
    client = ops_app().test_client()
    response = client.post("/ops/login", data={"token": admin_token()}, headers=headers,
                           base_url=base)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ("Secure" in cookie.split("; ")) is secure, cookie


# ---------------------------------------------------------------------- time limits (issue 15)
def test_webhook_behind_a_held_lock_answers_408_within_its_limit(
        service_db: str, conn: psycopg.Connection, booking: Booking) -> None:
    """A booking row locked by another transaction: the route's statement time limit cancels
    the webhook's statement, the answer is 408 TIMEOUT with the envelope and Retry-After
    within the limit plus a second, nothing is stored, and the retry after the lock is gone
    applies the event once."""
    env = {"WEB_STATEMENT_TIMEOUT_MS": "1000"}
    event = make_event("payment_intent.processing",
                       payment_intent(booking, new_pi(), "processing"))
    with run_webhook_service(service_db, secrets=(SECRET,), env=env) as service, \
            psycopg.connect(service_db) as holder:
        holder.execute("select 1 from public.bookings where id = %s for update", (booking.id,))
        started = time.monotonic()
        response = post_event(service.url, event, SECRET)
        elapsed = time.monotonic() - started
        body = assert_envelope(response, 408, "TIMEOUT")
        assert body["error"]["type"] == "timeout" and body["error"]["retryable"] is True
        assert response.headers["Retry-After"]
        assert 0.9 < elapsed < 2.0, elapsed
        holder.rollback()
        assert stored(conn, event["id"]) == 0
        assert booking_row(conn, booking.id)["status"] == "payment_pending"
        retry = post_event(service.url, event, SECRET)
        assert retry.status_code == 200 and retry.json()["outcome"] == "applied", retry.text
        assert stored(conn, event["id"]) == 1
        assert any(line.get("event") == "stripe.event_timed_out" for line in service.log_lines())


def test_ops_and_metrics_behind_a_held_lock_answer_within_their_limit(service_db: str) -> None:
    """A table /ops reads is locked (a migration's ACCESS EXCLUSIVE, say): /ops/data.json
    answers 408 TIMEOUT and /metrics answers without its database series, each within the
    ops limit plus a second; /healthz is not held up at all."""
    from devstack import tokens

    operator = create_user(service_db, admin=True)
    env = {"WEB_OPS_STATEMENT_TIMEOUT_MS": "1000",
           "SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET}
    headers = {"Authorization": f"Bearer {operator.token}"}
    with run_webhook_service(service_db, secrets=(SECRET,), env=env) as service, \
            psycopg.connect(service_db) as holder:
        holder.execute("lock table public.jobs in access exclusive mode")
        started = time.monotonic()
        response = httpx.get(service.url + "/ops/data.json", headers=headers, timeout=10)
        assert time.monotonic() - started < 2.0
        assert_envelope(response, 408, "TIMEOUT")
        started = time.monotonic()
        scrape = httpx.get(service.url + "/metrics", timeout=10)
        assert time.monotonic() - started < 2.0
        assert scrape.status_code == 200 and "wayfare_ops_snapshot_up 0.0" in scrape.text
        assert httpx.get(service.url + "/healthz", timeout=2).status_code == 200
        holder.rollback()
        assert httpx.get(service.url + "/ops/data.json", headers=headers,
                         timeout=10).status_code == 200
