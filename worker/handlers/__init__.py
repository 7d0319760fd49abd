"""Handler modules: importing one registers its handlers. Add a module with one line here."""

from worker.handlers import demo, email, payments, research  # noqa: F401
