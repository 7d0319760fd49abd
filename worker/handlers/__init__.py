"""Handler modules. The worker imports them explicitly: worker/__main__.py, HANDLER_MODULES."""
