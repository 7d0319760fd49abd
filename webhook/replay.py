"""Replay Stripe events the webhook endpoint missed (an outage, a wrong secret, a disabled
endpoint): list them from the Stripe API and feed each, oldest first, to the same SQL function
the endpoint uses. Events already recorded come back as `duplicate` and change nothing, so
running it twice, or over a period the endpoint did receive, is safe.

    python -m webhook.replay --since 2026-11-25T08:00:00Z [--until ...] [--all-types]
    python -m webhook.replay --since 1795000000 --dry-run

Needs STRIPE_API_KEY (a restricted key with read access to Events is enough) and
DATABASE_URL. It reaches Postgres through the web service's door (webhook/db.py: one
connection, as role wayfare_web, with the webhook route's statement time limit). Stripe
keeps events for 30 days. Prints one JSON summary line on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import stripe

from wayfare.config import ConfigError, Settings
from wayfare.logs import configure_logging, get_logger
from wayfare.stripe_version import STRIPE_API_VERSION
from webhook.db import Database

# the types private.apply_stripe_event acts on (docs/payments.md); --all-types lists every type
HANDLED_TYPES = (
    "payment_intent.processing",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
)
log = get_logger("webhook.replay")


def parse_time(text: str) -> int:
    """Unix seconds, or an ISO 8601 time (UTC when it names no zone)."""
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def fetch_events(client: stripe.StripeClient, since: int, until: int | None,
                 types: Sequence[str] | None) -> list[dict[str, Any]]:
    """Every event created in [since, until], oldest first."""
    created: dict[str, int] = {"gte": since}
    if until is not None:
        created["lte"] = until
    params: dict[str, Any] = {"created": created, "limit": 100}
    if types:
        params["types"] = list(types)
    page = client.v1.events.list(params=params)  # type: ignore[arg-type]
    events = [event.to_dict() for event in page.auto_paging_iter()]
    return sorted(events, key=lambda e: (e["created"], e["id"]))


def record(database: Database, event: dict[str, Any], request_id: str) -> str:
    result = database.record_stripe_event(json.dumps(event), request_id)
    return str(result["outcome"]) if result else "unknown"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m webhook.replay", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--since", required=True, type=parse_time,
                   help="replay events created at or after this time (ISO 8601 or unix)")
    p.add_argument("--until", type=parse_time, help="and at or before this time")
    p.add_argument("--all-types", action="store_true",
                   help="every event type, not only the ones Wayfare acts on")
    p.add_argument("--dry-run", action="store_true", help="list and count, record nothing")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("webhook-replay")
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    if not settings.stripe_api_key:
        raise ConfigError("STRIPE_API_KEY is required")
    client = stripe.StripeClient(
        settings.stripe_api_key,
        stripe_version=STRIPE_API_VERSION,  # events in the pinned version (docs/deploy.md)
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
        max_network_retries=2,
    )
    events = fetch_events(client, args.since, args.until,
                          None if args.all_types else HANDLED_TYPES)
    outcomes: Counter[str] = Counter()
    request_id = f"replay-{uuid.uuid4()}"
    if args.dry_run:
        outcomes.update(e["type"] for e in events)
    else:
        database = Database(settings.database_url, min_size=1, max_size=1, timeout=10.0,
                            application_name="wayfare-webhook-replay")
        database.open()
        try:
            for event in events:
                outcome = record(database, event, request_id)
                outcomes[outcome] += 1
                log.info("stripe.event_replayed", event_id=event["id"], event_type=event["type"],
                         outcome=outcome, request_id=request_id)
        finally:
            database.close()
    summary = {"events": len(events), "dryRun": args.dry_run, "requestId": request_id,
               ("types" if args.dry_run else "outcomes"): dict(sorted(outcomes.items()))}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
