"""What a handler raises, and what the worker raises inside a handler to stop it."""

from __future__ import annotations


class RetryableError(Exception):
    """A transient failure: the job is retried with backoff while it has attempts left.

    Any exception a handler raises that is not one of the classes below counts as this.
    Its message goes to private.job_errors (operators), never to the user.
    """


class PermanentError(Exception):
    """A failure that retrying cannot fix: the job fails now, showing `user_message` to its
    owner (write it for them: no internals, no PII). `detail` is for operators only."""

    def __init__(self, user_message: str, *, detail: str | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message
        self.detail = detail


class JobStopped(Exception):
    """Base of the signals `JobContext.check_cancel()` raises to end a handler early."""


class JobCancelled(JobStopped):
    """The job's owner asked to cancel it: stop; the worker marks the job cancelled."""


class JobLost(JobStopped):
    """This worker no longer holds the job's lease (it expired and the job went back to the
    queue, or the worker is shutting down and released it): stop; nothing more is recorded."""
