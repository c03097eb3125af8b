"""What every command shares: the workspace option, consoles and output helpers."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from commops.errors import UsageError
from commops.workspace import Workspace, open_workspace

console = Console()
err_console = Console(stderr=True)


@dataclass
class State:
    workspace_dir: Path | None = None


state = State()


def date_option(flag: str, value: str | None) -> date | None:
    """A ``--since``-style option's value as a date, or a UsageError naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a date: use YYYY-MM-DD") from None


def cli_actor() -> str:
    """Who a change made from the command line is logged as: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user entry (some containers)
        return "cli:unknown"


def refresh_snapshot(ws: Workspace) -> None:
    """Bring the analytics snapshot up to date after a change of who is who (cheap when no
    activity changed: the identity -> member map is rewritten)."""
    from commops.analytics.snapshot import Snapshot

    Snapshot(ws.snapshot_dir).refresh(ws.store)


@contextmanager
def workspace() -> Iterator[Workspace]:
    ws = open_workspace(state.workspace_dir)
    try:
        yield ws
    finally:
        ws.close()


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=jsonable) + "\n")


def print_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    writer = csv.DictWriter(
        sys.stdout, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return str(jsonable(value))
    return str(value)


def table(title: str | None, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        numeric = bool(rows) and all(isinstance(r.get(col), int | float) for r in rows)
        t.add_column(col.replace("_", " "), justify="right" if numeric else "left")
    for row in rows:
        t.add_row(*(_cell(row.get(c)) for c in columns))
    return t


def progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )
