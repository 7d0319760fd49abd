"""Print `export KEY='value'` lines for the settings of a .env file the environment lacks.

The shell scripts (`make run`) load .env with the same rule as the Python processes
(python-dotenv, `override=False`): a variable the real environment already has, even empty,
wins over .env. Usage: eval "$(python scripts/envfile.py .env)".
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from dotenv import dotenv_values


def exports(path: Path, environ: dict[str, str]) -> list[str]:
    """The export lines for the keys of `path` that `environ` does not have."""
    if not path.is_file():
        return []
    lines = []
    for key, value in dotenv_values(path).items():
        if key in environ or not key.isidentifier():
            continue
        lines.append(f"export {key}={shlex.quote(value or '')}")
    return lines


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else ".env")
    for line in exports(path, dict(os.environ)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
