"""``commops demo``: seed an empty workspace with the synthetic demo community."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID

from commops.cli.app import JsonOpt, app
from commops.cli.common import console, date_option, print_json, progress, table, workspace
from commops.demo import (
    DEFAULT_ACTIVITIES_PER_MEMBER,
    DEFAULT_END,
    DEFAULT_MEMBERS,
    DEFAULT_MONTHS,
    DEFAULT_SEED,
    STAFF_ORGANIZATION,
    generate,
)
from commops.demo_ops import seed_operations


@app.command("demo")
def demo(
    members: Annotated[
        int, typer.Option(help="People in the community, the two bot accounts included.")
    ] = DEFAULT_MEMBERS,
    months: Annotated[
        int, typer.Option(help="Whole months of history, ending with the month of --end.")
    ] = DEFAULT_MONTHS,
    seed: Annotated[int, typer.Option(help="The same seed gives the same rows.")] = DEFAULT_SEED,
    activities: Annotated[
        int | None,
        typer.Option(
            help=f"Exact number of activities. Default: {DEFAULT_ACTIVITIES_PER_MEMBER} per "
            "member.",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            help=f"Last day of the history (YYYY-MM-DD). Default: {DEFAULT_END.isoformat()}, "
            "fixed so that a seed always gives the same rows.",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="The workspace holds a previous demo: delete everything in its database and "
            "seed again. Refused when it has any other source.",
        ),
    ] = False,
    operations: Annotated[
        bool,
        typer.Option(
            "--operations/--no-operations",
            help="Also seed every workflow (feedback, content, Q&A, events, partners, "
            "governance) with a few records, for the web app and the reports.",
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Seed an empty workspace with a realistic synthetic community (docs/demo.md): power-law
    activity, people on several platforms, bots, staff, organisations, issues, pull requests,
    forum questions, stars and downloads. Never run it on a workspace with real data."""
    last = date_option("--end", end) or DEFAULT_END
    with workspace() as ws, progress() as bar:
        tasks: dict[str, TaskID] = {}

        def report(step: str, advance: int, total: int | None) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total, note="")
            bar.update(tasks[step], advance=advance)

        stats = generate(
            ws,
            members=members,
            months=months,
            seed=seed,
            activities=activities,
            end=last,
            replace=replace,
            progress=report,
        )
        seeded = seed_operations(ws, seed=seed) if operations else []
    data = {**stats.to_json(), "operations": seeded}
    if as_json:
        print_json(data)
        return
    console.print(
        f"Seeded the demo community (seed {stats.seed}, {stats.start} to {stats.end}) in "
        f"{stats.seconds:.1f} s: {stats.members:,} members ({stats.bots} bots, "
        f"{stats.multi_platform:,} on 3 or more platforms), {stats.identities:,} identities, "
        f"{stats.activities:,} activities, {stats.observations:,} observations."
    )
    console.print(
        table(
            "Activities by kind",
            ["kind", "activities"],
            [{"kind": k, "activities": n} for k, n in stats.by_kind.items()],
        )
    )
    console.print(
        table(
            "Sources (demo:// locations: `commops sync` cannot read them)",
            ["source", "activities"],
            [{"source": k, "activities": n} for k, n in stats.sources.items()],
        )
    )
    console.print(
        table(
            "Organizations",
            ["organization", "members"],
            [{"organization": k, "members": n} for k, n in stats.organizations.items()],
        )
    )
    if seeded:
        console.print(f"Workflows seeded: {', '.join(seeded)}.")
    if stats.staff == 0:
        console.print(
            f"Staff: none flagged. Add [bold]\\[staff] organizations = "
            f'["{escape(STAFF_ORGANIZATION)}"][/] to commops.toml, then run '
            "`commops members detect`."
        )
    else:
        console.print(f"Staff: {stats.staff:,} members flagged.")
