"""``commops qna ...``: the Q&A desk (docs/qna.md).

Every command first lets the desk notice answers that arrived (``detect_answers``), so what
it shows is current."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import cli_actor, console, date_option, print_json, table, workspace
from commops.errors import UsageError
from commops.workspace import Workspace

qna_app = typer.Typer(
    help="The Q&A desk: unanswered questions, who could answer them, who answered whom, "
    "assignments.",
    no_args_is_help=True,
)
app.add_typer(qna_app, name="qna")

QuestionArg = Annotated[
    str,
    typer.Argument(
        help="The question: CHANNEL#TARGET as the queue shows it (kubesphere/kubekey#12, "
        "questions#314), SOURCE:CHANNEL#TARGET, or its activity uid.",
        show_default=False,
    ),
]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        help="An issue label that makes an issue a question (repeatable). Default: [qna] "
        "question_labels (question, kind/question, type/question).",
    ),
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Questions asked on or after this day (YYYY-MM-DD).")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Questions asked on or before this day (YYYY-MM-DD).")
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="See the desk as of this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC). Default: now.",
    ),
]
StaffOpt = Annotated[
    bool,
    typer.Option(
        "--include-staff",
        help="Count questions asked by staff too (left out by default, as community-support does).",
    ),
]


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not a date or time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _detect(ws: Workspace, labels: list[str] | None) -> list[dict[str, Any]]:
    """Let the desk notice the answers that arrived; returns what changed."""
    from commops.ops.qna import detect_answers

    with ws.store.session() as session:
        rows = detect_answers(session, actor=cli_actor(), labels=labels)
        return [{"question": f"{r.channel or ''}#{r.target or ''}", "id": r.id} for r in rows]


def _note_detected(detected: list[dict[str, Any]], as_json: bool) -> None:
    if detected and not as_json:
        refs = ", ".join(escape(d["question"]) for d in detected)
        console.print(f"Answered since last seen: {refs}.")


@qna_app.command("queue")
def queue_cmd(
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            help="Hours a question has waited at least. Default: [qna] unanswered_hours (48).",
        ),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Only this repository or forum category (repeatable)."),
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="Suggested answerers per question.")] = 3,
    at: AtOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Unanswered questions older than N hours, oldest first, with suggested answerers.

    The table shows the best suggestion; `commops qna answerers QUESTION` and --json show
    them all, with the reasons."""
    from commops.ops.qna import queue

    now = _moment(at)
    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        detected = _detect(ws, label)
        hours = ws.config.qna_unanswered_hours if older_than is None else older_than
        with ws.store.session() as session:
            items = queue(
                session,
                older_than_hours=hours,
                now=now,
                channels=channel,
                labels=label,
                top=top,
            )
    rows = [asdict(i) for i in items]
    if as_json:
        print_json(rows)
        return
    _note_detected(detected, as_json)
    if not rows:
        console.print(f"No question has waited more than {hours:g} hours for an answer.")
        return
    for row in rows:
        row["asker"] = row["asker"] + (" (staff)" if row["asker_staff"] else "")
        row["waiting"] = _hours(row["age_hours"])
        row["assignee"] = row["assignee"] or ""
        row["suggested"] = ", ".join(s["name"] for s in row["suggested"][:1])
    columns = ["ref", "title", "asker", "waiting", "assignee", "suggested"]
    console.print(table(f"Unanswered for more than {hours:g} hours", columns, rows))


def _hours(h: float) -> str:
    return f"{h / 24:.1f} d" if h >= 48 else f"{h:.1f} h"


@qna_app.command("answerers")
def answerers_cmd(
    question: QuestionArg,
    top: Annotated[int, typer.Option(min=1, help="How many to suggest.")] = 3,
    at: AtOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who could answer a question: members who answered in its channel or on its tags, with
    the score and the reason."""
    from commops.ops.qna import find_question, suggest_answerers
    from commops.ops.qna.desk import assignee_of, desk_rows

    now = _moment(at)
    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        detected = _detect(ws, label)
        with ws.store.session() as session:
            q = find_question(session, question, labels=label)
            found = suggest_answerers(session, q, now=now, top=top, labels=label)
            row = desk_rows(session, [q.uid]).get(q.uid)
            assignee_id, assignee = assignee_of(session, row)
            first = q.first_answer
            info: dict[str, Any] = {
                "question": q.ref,
                "uid": q.uid,
                "kind": q.kind,
                "title": q.title,
                "link": q.link,
                "asker": q.asker.name,
                "asked_at": q.asked_at,
                "tags": list(q.tags),
                "state": row.state if row is not None else "open",
                "assignee": assignee if row is not None and row.state == "assigned" else None,
                "assignee_id": assignee_id if row is not None and row.state == "assigned" else None,
                "first_answer": None
                if first is None
                else {
                    "member_id": first.person.member_id,
                    "name": first.person.name,
                    "is_staff": first.person.is_staff,
                    "at": first.at,
                },
                "suggested": [asdict(s) for s in found],
            }
    if as_json:
        print_json(info)
        return
    _note_detected(detected, as_json)
    console.print(
        f"[bold]{escape(info['question'])}[/] ({info['kind']}): {escape(info['title'] or '')}\n"
        f"asked by {escape(info['asker'])} on {info['asked_at']:%Y-%m-%d %H:%M} UTC; "
        f"desk: {info['state']}"
        + (f", assigned to {escape(info['assignee'])}" if info["assignee"] else "")
    )
    if first is not None:
        staff = " (staff)" if first.person.is_staff else ""
        console.print(
            f"First answered by {escape(first.person.name)}{staff} on {first.at:%Y-%m-%d %H:%M}."
        )
    if not found:
        console.print("Nobody answered in this channel or on these tags in the last 12 months.")
        return
    rows = [
        {**s, "name": s["name"] + (" (staff)" if s["is_staff"] else "")} for s in info["suggested"]
    ]
    console.print(table("Suggested answerers", ["member_id", "name", "score", "reason"], rows))


@qna_app.command("pairs")
def pairs_cmd(
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many pairs.")] = 20,
    include_staff: StaffOpt = False,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who answered whom: (answerer -> asker) pairs for the questions asked in the range."""
    from commops.ops.qna import pairs

    start, end = date_option("--since", since), date_option("--until", until)
    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        detected = _detect(ws, label)
        with ws.store.session() as session:
            found = pairs(
                session, since=start, until=end, labels=label, include_staff_askers=include_staff
            )
    rows = [asdict(p) for p in found[:limit]]
    if as_json:
        print_json(rows)
        return
    _note_detected(detected, as_json)
    if not rows:
        console.print("No question asked in the range was answered.")
        return
    for row in rows:
        row["answerer"] += " (staff)" if row["answerer_staff"] else ""
    columns = ["answerer", "asker", "questions", "accepted", "thanked"]
    console.print(table(f"Who answered whom (top {limit} of {len(found)})", columns, rows))


@qna_app.command("stats")
def stats_cmd(
    since: SinceOpt = None,
    until: UntilOpt = None,
    top: Annotated[int, typer.Option(min=1, help="Answerers listed.")] = 10,
    include_staff: StaffOpt = False,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answered share by the community vs staff, time to first answer (p50, p90), accepted
    answers and thank-you signals per answerer, for the questions asked in the range."""
    from commops.ops.qna import stats

    start, end = date_option("--since", since), date_option("--until", until)
    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        detected = _detect(ws, label)
        with ws.store.session() as session:
            result = stats(
                session, since=start, until=end, labels=label, include_staff_askers=include_staff
            )
    data = asdict(result)
    data["answerers"] = data["answerers"][:top]
    if as_json:
        print_json(data)
        return
    _note_detected(detected, as_json)
    rows = [
        {
            "scope": r["scope"],
            "questions": r["questions"],
            "answered": r["answered"],
            "community": _pct(r["community_share"]),
            "staff": _pct(r["staff_share"]),
            "accepted": r["accepted"],
            "thanked": r["thanked"],
            "p50_h": r["p50_hours"],
            "p90_h": r["p90_hours"],
        }
        for r in data["support"]
        if r["scope"] == "all" or r["questions"]
    ]
    console.print(table("Community support", list(rows[0]), rows))
    if data["answerers"]:
        rows = [
            {
                "member_id": a["member_id"],
                "name": a["name"] + (" (staff)" if a["is_staff"] else ""),
                "answered": a["answered"],
                "first": a["first_answers"],
                "accepted": a["accepted"],
                "thanks": a["thanks"],
                "likes": a["likes"],
            }
            for a in data["answerers"]
        ]
        console.print(table("Answerers and their thank-you signals", list(rows[0]), rows))


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


def _changed(row: Any, action: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "question": f"{row.channel or ''}#{row.target or ''}",
        "uid": row.question_uid,
        "state": row.state,
        "action": action,
    }


@qna_app.command("assign")
def assign_cmd(
    question: QuestionArg,
    to: Annotated[
        str, typer.Option("--to", help="The member to answer it (id, login, e-mail, name).")
    ],
    reason: ReasonOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a member to answer a question (reassigns when it is assigned to someone else)."""
    from commops.ops.qna import assign
    from commops.ops.qna.desk import assignee_of

    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        _detect(ws, label)
        with ws.store.session() as session:
            row = assign(session, question, to, actor=cli_actor(), reason=reason, labels=label)
            info = _changed(row, "assigned")
            info["assignee_id"], info["assignee"] = assignee_of(session, row)
    if as_json:
        print_json(info)
        return
    console.print(
        f"Assigned [bold]{escape(info['question'])}[/] to {escape(info['assignee'] or '')}."
    )


@qna_app.command("unassign")
def unassign_cmd(
    question: QuestionArg,
    reason: ReasonOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take a question back from its assignee: it is open again."""
    from commops.ops.qna import unassign

    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        _detect(ws, label)
        with ws.store.session() as session:
            info = _changed(
                unassign(session, question, actor=cli_actor(), reason=reason, labels=label),
                "unassigned",
            )
    if as_json:
        print_json(info)
        return
    console.print(f"[bold]{escape(info['question'])}[/] is open again.")


@qna_app.command("drop")
def drop_cmd(
    question: QuestionArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why it needs no answer (spam, duplicate, answered elsewhere)."
        ),
    ],
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take a question off the queue: it needs no answer."""
    from commops.ops.qna import drop

    if not reason.strip():
        raise UsageError("--reason: empty", hint="Say why the question needs no answer.")
    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        _detect(ws, label)
        with ws.store.session() as session:
            info = _changed(
                drop(session, question, actor=cli_actor(), reason=reason, labels=label), "dropped"
            )
    if as_json:
        print_json(info)
        return
    console.print(f"Dropped [bold]{escape(info['question'])}[/] from the queue.")


@qna_app.command("reopen")
def reopen_cmd(
    question: QuestionArg,
    reason: ReasonOpt = None,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a dropped question back on the queue."""
    from commops.ops.qna import reopen

    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        _detect(ws, label)
        with ws.store.session() as session:
            info = _changed(
                reopen(session, question, actor=cli_actor(), reason=reason, labels=label),
                "reopened",
            )
    if as_json:
        print_json(info)
        return
    console.print(f"[bold]{escape(info['question'])}[/] is back on the queue.")


@qna_app.command("log")
def log_cmd(
    question: Annotated[
        str | None, typer.Argument(help="Only this question's entries.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 50,
    label: LabelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The desk's audit log, newest first: assignments, drops, reopenings, answers detected."""
    from commops.ops.qna import desk_log

    with workspace() as ws:
        label = ws.config.qna_question_labels if label is None else label
        _detect(ws, label)
        with ws.store.session() as session:
            entries = [
                {
                    "id": e.id,
                    "at": e.at,
                    "actor": e.actor,
                    "record_id": e.record_id,
                    "question": (e.details or {}).get("question"),
                    "action": e.action,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "reason": e.reason,
                    "details": dict(e.details or {}),
                }
                for e in desk_log(session, question, labels=label, limit=limit)
            ]
    if as_json:
        print_json(entries)
        return
    if not entries:
        console.print("The desk log is empty." if question is None else "No log entries.")
        return
    for e in entries:
        d = cast(dict[str, Any], e["details"])
        who = d.get("assignee") or d.get("answerer") or ""
        if e["action"] == "answered":
            who = f"{d.get('answerer')}" + (" (the assignee)" if d.get("by_assignee") else "")
        e["who"] = who
        e["at"] = f"{e['at']:%Y-%m-%d %H:%M}"
    columns = ["id", "at", "question", "action", "who", "reason", "actor"]
    console.print(table("Q&A desk log", columns, entries))
