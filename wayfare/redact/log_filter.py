"""A :class:`logging.Filter` that redacts PII from log records before any handler sees them.

    import logging
    from wayfare.redact.log_filter import RedactingFilter

    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())

Attach it to handlers (not loggers) so records propagated from child loggers are covered too.
The formatted message (``msg % args``) is redacted and stored back with ``args`` cleared, so a
value passed as an argument (``log.info("user %s", email)``) is caught like one in the format
string. Tracebacks (``exc_info``) are formatted later by the handler and are not redacted.
"""

from __future__ import annotations

import logging

from . import redact


class RedactingFilter(logging.Filter):
    """Replace PII in each record's message with placeholders; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: let the handler report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
