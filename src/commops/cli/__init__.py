"""The ``commops`` command line."""

from __future__ import annotations

import sys

from rich.markup import escape

from commops.cli.app import app
from commops.cli.common import err_console
from commops.errors import CommopsError


def main() -> None:
    try:
        app()
    except CommopsError as exc:
        # Messages quote config keys such as "[bots] patterns": escape them, or Rich reads them
        # as markup and drops them. No wrapping, so a message stays one greppable line.
        err_console.print(
            f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True
        )
        if exc.hint:
            err_console.print(f"[dim]{escape(exc.hint)}[/]", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
