"""The ``commops`` command line."""

from __future__ import annotations

import sys

from commops.cli.app import app
from commops.cli.common import err_console
from commops.errors import CommopsError


def main() -> None:
    try:
        app()
    except CommopsError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[dim]{exc.hint}[/]", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
