"""Booking emails end to end with real processes: Postgres (the outbox trigger), the worker
(`python -m worker`, the email.send handler), the web service and the Stripe double (webhooks)
and a real SMTP server on 127.0.0.1 (aiosmtpd, devstack/smtp_sink.py) that stores what it
receives. Each kind of mail is sent once for its event; replays, crashes, SMTP failures and
deleted users do not change that."""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from devstack import tokens
from devstack.smtp_sink import SmtpSink
from tests.harness import databases
from tests.harness.users import User, create_user
from tests.test_payments_flow import Stack, make_stack
from tests.webhook_helpers import (
    insert_booking,
    make_event,
    payment_intent,
    post_event,
    run_webhook_service,
)
from tests.worker_helpers import WorkerProcess, run_worker, wait_until

pytestmark = pytest.mark.slow

SECRET = "whsec_flow_test"  # tests.test_payments_flow's stacks use this one
APP_URL = "https://app.wayfare.test"
FROM = "Wayfare <bookings@wayfare.test>"


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path_factory.mktemp("mail")) as made:
        yield made


def mail_env(sink: SmtpSink) -> dict[str, str]:
    return {"SMTP_URL": sink.url, "SMTP_FROM": FROM, "APP_URL": APP_URL}


def mails_for(sink: SmtpSink, booking_id: str) -> list[EmailMessage]:
    return [m for m in sink.messages() if booking_id in str(m["Message-ID"])]


def kinds(messages: list[EmailMessage]) -> Counter[str]:
    return Counter(str(m["X-Wayfare-Kind"]) for m in messages)


def text_of(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content() + html.get_content()


def sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def outbox(url: str, booking_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute("select * from private.email_outbox where booking_id = %s "
                           "order by created_at", (booking_id,))
        names = [c.name for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def email_job(url: str, outbox_id: Any) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute("select * from public.jobs where type = 'email.send' "
                           "and input->>'outbox_id' = %s", (str(outbox_id),))
        names = [c.name for c in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def confirmed_booking(url: str, user: User) -> str:
    """A booking moved to confirmed by SQL (as the webhook and booking.confirm would)."""
    with psycopg.connect(url, autocommit=True) as conn:
        booking = insert_booking(conn, user.id, nights=2)
        conn.execute("update public.bookings set status = 'paid' where id = %s", (booking.id,))
        conn.execute("update public.bookings set status = 'confirmed' where id = %s",
                     (booking.id,))
    return booking.id


def fast_email_jobs(url: str, *, lease_seconds: int = 90) -> None:
    sql(url, "update private.job_types set retry_base = interval '200 milliseconds', "
        "retry_cap = interval '1 second', lease_seconds = %s where type = 'email.send'",
        lease_seconds)


def assert_no_address_logged(worker: WorkerProcess, *users: User) -> None:
    output = worker.output()
    for user in users:
        assert user.email not in output
    assert "@" not in "".join(line for line in output.splitlines() if '"email.' in line)


# ---------------------------------------------------------------------- the three kinds
@pytest.fixture(scope="module")
def stack(clones: databases.Clones, sink: SmtpSink) -> Iterator[Stack]:
    with make_stack(clones) as made:
        made.start_worker(**mail_env(sink))
        yield made


def test_each_kind_is_sent_once_for_its_event(stack: Stack, sink: SmtpSink) -> None:
    """A declined card, then another card pays (confirmation), then the user cancels (refund,
    recorded by the worker and again by charge.refunded): three mails, one of each kind, to
    the user's address, with the amount in the booking's currency."""
    user = create_user(stack.db_url, email="traveller.one@example.test")
    created = stack.book(user, nights=3)
    booking_id = created["id"]
    pi = stack.wait_intent(booking_id)
    stack.double.fail(pi["id"], "insufficient_funds")
    stack.wait_status(booking_id, "payment_failed")
    wait_until(lambda: kinds(mails_for(sink, booking_id))["payment_failed"], 20,
               "the payment failure mail", stack.worker)
    stack.double.succeed(pi["id"])
    stack.wait_status(booking_id, "confirmed")
    wait_until(lambda: kinds(mails_for(sink, booking_id))["booking_confirmed"], 20,
               "the confirmation", stack.worker)
    response = stack.api.rpc("cancel_booking", {"booking_id": booking_id}, token=user.token)
    assert response.status == 202
    stack.wait_status(booking_id, "cancelled")
    wait_until(lambda: stack.sql("select 1 from private.stripe_events where booking_id = %s "
                                 "and type = 'charge.refunded'", booking_id), 20,
               "charge.refunded recorded too", stack.worker)
    wait_until(lambda: kinds(mails_for(sink, booking_id))["booking_refunded"], 20,
               "the refund mail", stack.worker)
    time.sleep(1.5)  # room for a duplicate to show up

    messages = mails_for(sink, booking_id)
    assert kinds(messages) == {"payment_failed": 1, "booking_confirmed": 1,
                               "booking_refunded": 1}
    by_kind = {str(m["X-Wayfare-Kind"]): m for m in messages}
    for message in messages:
        assert message["To"] == "traveller.one@example.test"
        assert message["From"] == FROM
        assert f"{APP_URL}/bookings/{booking_id}" in text_of(message)
        assert "€645.00" in text_of(message)  # 3 nights at €215.00
    failed, confirmed, refunded = (by_kind[k] for k in (
        "payment_failed", "booking_confirmed", "booking_refunded"))
    assert failed["Subject"] == "Payment failed: your booking at Hôtel des Grands Boulevards"
    assert "Your card has insufficient funds." in text_of(failed)
    assert str(confirmed["Subject"]).startswith("Booking confirmed: Hôtel des Grands Boulevards")
    assert "the day before check-in" in text_of(confirmed)
    assert refunded["Subject"] == \
        "Refund of €645.00: your booking at Hôtel des Grands Boulevards"
    assert str(confirmed["Message-ID"]) == \
        f"<{booking_id}-booking_confirmed-1@wayfare.test>"
    rows = outbox(stack.db_url, booking_id)
    assert [(r["kind"], r["status"], r["attempts"]) for r in rows] == [
        ("payment_failed", "sent", 1), ("booking_confirmed", "sent", 1),
        ("booking_refunded", "sent", 1)]
    assert all(r["recipient"] == user.email and r["sent_at"] for r in rows)
    assert_no_address_logged(stack.worker, user)


def test_five_deliveries_of_one_success_make_one_confirmation(
        clones: databases.Clones, sink: SmtpSink) -> None:
    """payment_intent.succeeded delivered five times, shuffled with the booking's other events
    (and another booking's payment failure, delivered three times), 8 at a time while the
    worker runs: one confirmation, one failure notice."""
    with make_stack(clones) as stack:
        worker = stack.start_worker(**mail_env(sink))
        user = create_user(stack.db_url)
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            paid, declined = insert_booking(conn, user.id), insert_booking(conn, user.id)
        now = int(time.time())
        pi_paid, pi_declined = f"pi_{paid.id[:8]}five", f"pi_{declined.id[:8]}three"
        succeeded = make_event("payment_intent.succeeded",
                               payment_intent(paid, pi_paid, "succeeded"), created=now)
        failure = make_event("payment_intent.payment_failed", payment_intent(
            declined, pi_declined, "requires_payment_method",
            error_message="Your card was declined."), created=now)
        others = [
            make_event("payment_intent.created",
                       payment_intent(paid, pi_paid, "requires_payment_method"), created=now - 3),
            make_event("payment_intent.processing",
                       payment_intent(paid, pi_paid, "processing"), created=now - 2),
            make_event("charge.succeeded", {"id": "ch_x", "object": "charge",
                                            "payment_intent": pi_paid}, created=now),
            make_event("payment_intent.created", payment_intent(
                declined, pi_declined, "requires_payment_method"), created=now - 1),
        ]
        deliveries = [json.dumps(e) for e in [succeeded] * 5 + [failure] * 3 + others]
        random.Random(14).shuffle(deliveries)
        with httpx.Client(timeout=10) as http, ThreadPoolExecutor(8) as pool:
            outcomes = Counter(pool.map(
                lambda p: post_event(stack.web.url, p, SECRET, client=http).json()["outcome"],
                deliveries))
        assert outcomes["duplicate"] == 4 + 2
        stack.wait_status(paid.id, "confirmed")
        wait_until(lambda: mails_for(sink, paid.id) and mails_for(sink, declined.id), 20,
                   "both mails", worker)
        time.sleep(1.5)
        assert kinds(mails_for(sink, paid.id)) == {"booking_confirmed": 1}
        assert kinds(mails_for(sink, declined.id)) == {"payment_failed": 1}
        assert "Your card was declined." in text_of(mails_for(sink, declined.id)[0])
        assert sql(stack.db_url, "select kind, count(*) from private.email_outbox "
                   "group by kind order by kind") == [("booking_confirmed", 1),
                                                      ("payment_failed", 1)]


# ---------------------------------------------------------------------- crashes and failures
def test_worker_killed_between_sending_and_recording_sends_one_more_copy(
        fresh_db_url: str, tmp_path: Path) -> None:
    """The server has the mail, but the worker dies before recording it: the job is claimed
    again after its lease and the mail goes once more, with the same Message-ID."""
    fast_email_jobs(fresh_db_url, lease_seconds=2)
    user = create_user(fresh_db_url)
    booking_id = confirmed_booking(fresh_db_url, user)
    with SmtpSink(tmp_path / "mail") as sink:
        sink.delay_next(20)  # stores the mail, then keeps the worker waiting for the 250
        with run_worker(fresh_db_url, env=mail_env(sink)) as first:
            wait_until(lambda: mails_for(sink, booking_id), 20, "the first copy", first)
            first.kill()
        [row] = outbox(fresh_db_url, booking_id)
        assert (row["status"], row["attempts"], row["sent_at"]) == ("pending", 1, None)
        with run_worker(fresh_db_url, env=mail_env(sink)) as second:
            wait_until(lambda: outbox(fresh_db_url, booking_id)[0]["status"] == "sent", 30,
                       "the row recorded as sent", second)
            wait_until(lambda: email_job(fresh_db_url, row["id"])["status"] == "completed", 10,
                       "the job completed", second)
            time.sleep(1)
            copies = mails_for(sink, booking_id)
            assert len(copies) == 2  # at most one more than once
            assert copies[0]["Message-ID"] == copies[1]["Message-ID"] == \
                f"<{booking_id}-booking_confirmed-1@wayfare.test>"
            [row] = outbox(fresh_db_url, booking_id)
            assert (row["status"], row["attempts"]) == ("sent", 2)
            job = email_job(fresh_db_url, row["id"])
            assert job["attempts"] == 2
            second.stop()


def test_worker_killed_after_the_250_before_the_record(fresh_db_url: str,
                                                       tmp_path: Path) -> None:
    """The same, a moment later: the server answered 250 and the worker is writing `sent`
    when it dies (its write is held by a row lock; the worker is SIGKILLed and its connection
    ends with it). One more copy, the same Message-ID."""
    fast_email_jobs(fresh_db_url, lease_seconds=2)
    user = create_user(fresh_db_url)
    booking_id = confirmed_booking(fresh_db_url, user)
    [row] = outbox(fresh_db_url, booking_id)
    with SmtpSink(tmp_path / "mail") as sink, \
            psycopg.connect(fresh_db_url) as holder:  # a transaction: holds the lock
        sink.delay_next(1.5)  # room to take the lock between the send and the record
        with run_worker(fresh_db_url, env=mail_env(sink)) as first:
            wait_until(lambda: mails_for(sink, booking_id), 20, "the first copy", first)
            holder.execute("select 1 from private.email_outbox where id = %s for update",
                           (row["id"],))
            [(waiting,)] = wait_until(lambda: sql(
                fresh_db_url, "select pid from pg_stat_activity where wait_event_type = 'Lock' "
                "and query like '%%email_sent%%'"), 20, "the worker recording, blocked", first)
            first.kill()
            sql(fresh_db_url, "select pg_terminate_backend(%s)", waiting)
        holder.rollback()
        assert outbox(fresh_db_url, booking_id)[0]["status"] == "pending"
        with run_worker(fresh_db_url, env=mail_env(sink)) as second:
            wait_until(lambda: outbox(fresh_db_url, booking_id)[0]["status"] == "sent", 30,
                       "the row recorded as sent", second)
            time.sleep(1)
            copies = mails_for(sink, booking_id)
            assert len(copies) == 2
            assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
            assert outbox(fresh_db_url, booking_id)[0]["attempts"] == 2
            second.stop()


def test_temporary_failures_until_the_last_attempt_fail_the_row(fresh_db_url: str,
                                                                 tmp_path: Path) -> None:
    fast_email_jobs(fresh_db_url)
    sql(fresh_db_url, "update private.job_types set max_attempts = 2 where type = 'email.send'")
    user = create_user(fresh_db_url)
    with SmtpSink(tmp_path / "mail") as sink, \
            run_worker(fresh_db_url, env=mail_env(sink)) as worker:
        sink.fail_next("data", "421 4.7.0 Try again later, closing connection", times=2)
        booking_id = confirmed_booking(fresh_db_url, user)
        wait_until(lambda: outbox(fresh_db_url, booking_id)[0]["status"] == "failed", 20,
                   "the row failed after its last attempt", worker)
        [row] = outbox(fresh_db_url, booking_id)
        assert row["attempts"] == 2 and row["last_error"].startswith("data: 421")
        assert email_job(fresh_db_url, row["id"])["status"] == "failed"
        assert sink.received() == []


def test_4xx_retries_and_5xx_fails_the_row_visibly(fresh_db_url: str, tmp_path: Path) -> None:
    fast_email_jobs(fresh_db_url)
    user = create_user(fresh_db_url, email="busy.mailbox@example.test")
    with SmtpSink(tmp_path / "mail") as sink, \
            run_worker(fresh_db_url, env=mail_env(sink)) as worker:
        sink.fail_next("rcpt", "451 4.2.1 <busy.mailbox@example.test> busy, try again later")
        retried = confirmed_booking(fresh_db_url, user)
        wait_until(lambda: outbox(fresh_db_url, retried)[0]["status"] == "sent", 20,
                   "sent on the second attempt", worker)
        [row] = outbox(fresh_db_url, retried)
        assert (row["attempts"], row["last_error"]) == (2, None)
        assert len(mails_for(sink, retried)) == 1
        [(error,)] = sql(fresh_db_url, "select error from private.job_errors where job_id = %s",
                         row["job_id"])
        assert "451" in error and "example.test" not in error

        sink.fail_next("rcpt", "550 5.1.1 <busy.mailbox@example.test>: Recipient address "
                       "rejected: User unknown")
        rejected = confirmed_booking(fresh_db_url, user)
        wait_until(lambda: outbox(fresh_db_url, rejected)[0]["status"] == "failed", 20,
                   "the row failed", worker)
        [row] = outbox(fresh_db_url, rejected)
        assert row["attempts"] == 1 and row["failed_at"] is not None
        assert row["last_error"].startswith("recipient: 550 5.1.1 <address>")
        assert "example.test" not in row["last_error"]
        job = wait_until(lambda: (j := email_job(fresh_db_url, row["id"]))["status"] == "failed"
                         and j, 10, "the job failed", worker)
        assert job["attempts"] == 1  # permanent: no retry
        assert mails_for(sink, rejected) == []
        [(snapshot,)] = sql(fresh_db_url, "select private.email_outbox_snapshot()")
        assert snapshot["by_status"] == {"sent": 1, "failed": 1}
        [shown] = snapshot["failed"]
        assert shown["booking_id"] == rejected and shown["error"] == row["last_error"]
        assert user.email not in json.dumps(snapshot)

        # docs/ops.md's runbook: once the cause is fixed, an operator sends it again
        sql(fresh_db_url, "update private.email_outbox set status = 'pending', failed_at = null "
            "where id = %s", row["id"])
        sql(fresh_db_url, "select private.enqueue_job('email.send', "
            "jsonb_build_object('outbox_id', %s::text), null)", str(row["id"]))
        wait_until(lambda: outbox(fresh_db_url, rejected)[0]["status"] == "sent", 20,
                   "sent again by hand", worker)
        [again] = mails_for(sink, rejected)
        assert again["Message-ID"] == f"<{rejected}-booking_confirmed-1@wayfare.test>"
        assert_no_address_logged(worker, user)


def test_a_deleted_user_gets_no_mail_and_nothing_crashes(fresh_db_url: str,
                                                         tmp_path: Path) -> None:
    """Mails are queued for three users; one is deleted (the booking and its outbox row go
    with them), one is soft-deleted by Auth (deleted_at): only the third gets a mail."""
    fast_email_jobs(fresh_db_url)
    gone, soft, stays = (create_user(fresh_db_url) for _ in range(3))
    bookings = {u.id: confirmed_booking(fresh_db_url, u) for u in (gone, soft, stays)}
    outbox_ids = {u.id: outbox(fresh_db_url, bookings[u.id])[0]["id"] for u in (gone, soft,
                                                                                  stays)}
    sql(fresh_db_url, "delete from auth.users where id = %s", gone.id)
    sql(fresh_db_url, "update auth.users set deleted_at = now() where id = %s", soft.id)
    assert outbox(fresh_db_url, bookings[gone.id]) == []
    with SmtpSink(tmp_path / "mail") as sink, \
            run_worker(fresh_db_url, env=mail_env(sink)) as worker:
        jobs = {uid: wait_until(
            lambda oid=oid: (j := email_job(fresh_db_url, oid))["status"] == "completed" and j,
            20, "email job done", worker) for uid, oid in outbox_ids.items()}
        assert jobs[gone.id]["result"] == {"status": "gone"}
        assert jobs[soft.id]["result"] == {"status": "skipped"}
        assert jobs[stays.id]["result"]["status"] == "sent"
        assert [str(m["To"]) for m in sink.messages()] == [stays.email]
        [row] = outbox(fresh_db_url, bookings[soft.id])
        assert (row["status"], row["recipient"], row["details"]) == ("skipped", None, {})
        assert worker.alive()
        assert_no_address_logged(worker, gone, soft, stays)
        worker.stop()


def test_ops_shows_failed_mails(fresh_db_url: str) -> None:
    """/ops/data.json (operators) carries the outbox's failed rows, without addresses."""
    user = create_user(fresh_db_url, email="nobody.here@example.test")
    booking_id = confirmed_booking(fresh_db_url, user)
    [row] = outbox(fresh_db_url, booking_id)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("set role wayfare_worker")
        conn.execute("select private.email_to_send(%s)", (row["id"],))
        status = conn.execute("select private.email_failed(%s, %s, true)", (
            row["id"], "recipient: 550 5.1.1 <address>: User unknown")).fetchone()[0]
    assert status == "failed"
    waiting = confirmed_booking(fresh_db_url, user)  # no worker: pending for two hours
    sql(fresh_db_url, "update private.email_outbox set created_at = now() - interval '2 hours' "
        "where booking_id = %s", waiting)
    admin = create_user(fresh_db_url, admin=True)
    env = {"SUPABASE_URL": "http://127.0.0.1:54321", "SUPABASE_JWT_SECRET": tokens.TEST_JWT_SECRET}
    with run_webhook_service(fresh_db_url, env=env) as web, contextlib.closing(
            httpx.Client(timeout=10)) as http:
        response = http.get(web.url + "/ops/data.json",
                            headers={"Authorization": f"Bearer {admin.token}"})
        assert response.status_code == 200, response.text
        email = response.json()["email"]
        assert email["by_status"] == {"failed": 1, "pending": 1}
        assert email["failed"][0]["booking_id"] == booking_id
        alerts = response.json()["alerts"]
        assert any("booking email(s) failed" in alert for alert in alerts)
        assert any("is SMTP reachable" in alert for alert in alerts)
        assert user.email not in response.text
        page = http.get(web.url + "/ops", headers={"Authorization": f"Bearer {admin.token}",
                                                   "Accept": "text/html"})
        assert page.status_code == 200 and "Booking emails" in page.text
        assert "550 5.1.1" in page.text and user.email not in page.text


def test_addresses_are_cleared_30_days_after_sending(fresh_db_url: str) -> None:
    """private.scrub_sent_emails() (pg_cron, daily): sent and failed rows lose the address and
    the mail's content after 30 days; pending ones keep them; a scrubbed row put back by hand
    is skipped, never sent to nobody."""
    user = create_user(fresh_db_url)
    old, recent, waiting = (confirmed_booking(fresh_db_url, user) for _ in range(3))
    ids = {b: outbox(fresh_db_url, b)[0]["id"] for b in (old, recent, waiting)}
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("set role wayfare_worker")
        for booking in (old, recent):
            assert conn.execute("select private.email_to_send(%s)",
                                (ids[booking],)).fetchone()[0]["recipient"] == user.email
            assert conn.execute("select private.email_sent(%s)",
                                (ids[booking],)).fetchone()[0] == "sent"
    sql(fresh_db_url, "update private.email_outbox set sent_at = now() - interval '31 days', "
        "created_at = now() - interval '31 days' where id = %s", ids[old])
    assert sql(fresh_db_url, "select private.scrub_sent_emails()") == [(1,)]
    assert sql(fresh_db_url, "select private.scrub_sent_emails()") == [(0,)]
    scrubbed, kept, pending = (outbox(fresh_db_url, b)[0] for b in (old, recent, waiting))
    assert (scrubbed["recipient"], scrubbed["details"], scrubbed["status"]) == (None, {}, "sent")
    assert scrubbed["dedupe_key"] == f"{old}-booking_confirmed-1"
    assert kept["recipient"] == pending["recipient"] == user.email
    sql(fresh_db_url, "update private.email_outbox set status = 'pending' where id = %s",
        ids[old])
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("set role wayfare_worker")
        assert conn.execute("select private.email_to_send(%s)", (ids[old],)).fetchone()[0] == {
            "id": str(ids[old]), "status": "skipped"}
