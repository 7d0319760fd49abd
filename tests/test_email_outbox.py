"""The outbox in SQL (private.email_outbox, "Booking emails" in the baseline migration): who
may touch it, and one row per event whatever replays it."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.users import create_user
from tests.webhook_helpers import insert_booking


def test_only_the_definer_functions_reach_the_outbox(fresh_db_url: str) -> None:
    user = create_user(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        booking = insert_booking(conn, user.id)
        # an operator refunding by hand with service_role (docs/payments.md): the trigger, a
        # definer, still writes the row
        conn.execute("set role service_role")
        conn.execute("update public.bookings set status = 'paid' where id = %s", (booking.id,))
        conn.execute("update public.bookings set amount_refunded = amount, "
                     "refunded_at = now(), status = 'cancelled' where id = %s", (booking.id,))
        conn.execute("reset role")
        [(outbox_id, kind)] = conn.execute(
            "select id, kind from private.email_outbox where booking_id = %s",
            (booking.id,)).fetchall()
        assert kind == "booking_refunded"
        for role in ("anon", "authenticated", "service_role", "wayfare_worker", "wayfare_web"):
            conn.execute(f"set role {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from private.email_outbox")
            conn.execute("reset role")
        for role, call in (("authenticated", "private.email_to_send(%s)"),
                           ("service_role", "private.email_sent(%s)"),
                           ("wayfare_web", "private.email_to_send(%s)"),
                           ("wayfare_worker", "private.email_outbox_snapshot()"),
                           ("wayfare_worker", "private.scrub_sent_emails()")):
            conn.execute(f"set role {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select {call}", (outbox_id,) if "%s" in call else ())
            conn.execute("reset role")


def test_one_row_per_event_whatever_replays_it(fresh_db_url: str) -> None:
    """Same-status updates, the same refund recorded twice (worker and charge.refunded), and
    the dedupe key's unique constraint itself."""
    user = create_user(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        booking = insert_booking(conn, user.id)

        def rows() -> list[tuple[str, str]]:
            return conn.execute("select kind, dedupe_key from private.email_outbox "
                                "where booking_id = %s order by created_at",
                                (booking.id,)).fetchall()

        for status in ("payment_failed", "payment_failed", "processing", "payment_failed",
                       "paid", "paid", "confirmed", "confirmed"):
            conn.execute("update public.bookings set status = %s where id = %s",
                         (status, booking.id))
        for _ in range(2):
            assert conn.execute("select private.record_refund(%s, %s)",
                                (booking.id, booking.amount)).fetchone()[0] == "cancelled"
        assert rows() == [
            ("payment_failed", f"{booking.id}-payment_failed-1"),
            ("payment_failed", f"{booking.id}-payment_failed-2"),
            ("booking_confirmed", f"{booking.id}-booking_confirmed-1"),
            ("booking_refunded", f"{booking.id}-booking_refunded-{booking.amount}"),
        ]
        jobs = conn.execute("select count(*) from public.jobs where type = 'email.send' "
                            "and user_id is null").fetchone()[0]
        assert jobs == 4
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("insert into private.email_outbox (booking_id, user_id, kind, "
                         "dedupe_key, recipient) values (%s, %s, 'booking_confirmed', %s, 'x')",
                         (booking.id, user.id, f"{booking.id}-booking_confirmed-1"))
        # a user without an address gets no row (and no job)
        phone_only = create_user(fresh_db_url)
        conn.execute("update auth.users set email = null where id = %s", (phone_only.id,))
        other = insert_booking(conn, phone_only.id)
        conn.execute("update public.bookings set status = 'payment_failed' where id = %s",
                      (other.id,))
        assert conn.execute("select count(*) from private.email_outbox where booking_id = %s",
                            (other.id,)).fetchone()[0] == 0
