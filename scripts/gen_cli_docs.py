"""Write docs/cli.md from the real command tree, so the CLI reference cannot drift from the code.

    python scripts/gen_cli_docs.py            # (re)write docs/cli.md
    python scripts/gen_cli_docs.py --check    # exit 1 when docs/cli.md is stale (tests, CI)

The reference is rendered from ``commops.cli.app.app`` through ``typer.main.get_command``:
every command, argument and option, with its help text, type and default, as the parser sees
them. The layout is ours (Markdown tables), not the terminal's, so it does not depend on the
width of the console that runs the script.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from commops.cli.app import app
from commops.errors import CommopsError, UsageError

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"
HELP_OPTIONS = {"--help", "-h"}


def paragraphs(text: str | None) -> list[str]:
    """A docstring's paragraphs, each reflowed onto one line."""
    if not text:
        return []
    blocks = inspect.cleandoc(text).split("\n\n")
    return [" ".join(line.strip() for line in b.splitlines() if line.strip()) for b in blocks]


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    return f"`{text}`" if text else ""


def is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def subcommands(command: Any, ctx: Any) -> list[tuple[str, Any]]:
    return [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)]


def context(command: Any, name: str, parent: Any = None) -> Any:
    return command.context_class(command, info_name=name, parent=parent, **command.context_settings)


def metavar(param: Any) -> str:
    """How an argument is written in a usage line: NAME, [NAME] or [NAME]..."""
    if param.metavar:
        return str(param.metavar)
    text = str(param.name).upper()
    if not param.required:
        text = f"[{text}]"
    if param.nargs == -1:
        text += "..."
    return text


def param_type(param: Any, ctx: Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    shown = str(param.display_type(ctx)).strip("<>")
    if shown.startswith("list[") and shown.endswith("]"):
        shown = shown[5:-1]
    if shown == "int range":
        low, high = getattr(param, "min", None), getattr(param, "max", None)
        bounds = [f"≥ {low}" if low is not None else "", f"≤ {high}" if high is not None else ""]
        shown = " ".join(["int", *(b for b in bounds if b)])
    return shown


def default(param: Any) -> str:
    value = param.default
    if param.required:
        return "required"
    if param.secondary_opts:  # --x/--no-x
        return code(param.opts[0] if value else param.secondary_opts[0])
    if getattr(param, "is_flag", False) or value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    return code(str(value))


def option_names(param: Any) -> str:
    names = sorted(param.opts, key=lambda o: (o.startswith("--"), o))
    text = ", ".join(code(n) for n in names)
    if param.secondary_opts:
        text += " / " + ", ".join(code(n) for n in param.secondary_opts)
    return text


def usage(path: list[str], command: Any, ctx: Any) -> str:
    parts = [path[0]]
    if len(path) > 1:
        parts.append("[GLOBAL OPTIONS]")
    parts += path[1:]
    params = command.get_params(ctx)
    if any(p.param_type_name == "option" and not set(p.opts) <= HELP_OPTIONS for p in params):
        parts.append("[OPTIONS]")
    parts += [metavar(p) for p in params if p.param_type_name == "argument"]
    if is_group(command):
        parts.append("COMMAND [ARGS]...")
    return " ".join(parts)


def params_tables(command: Any, ctx: Any) -> list[str]:
    out: list[str] = []
    params = command.get_params(ctx)
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [
        p for p in params if p.param_type_name == "option" and not set(p.opts) & HELP_OPTIONS
    ]
    if arguments:
        out += ["| argument | type | default | description |", "|---|---|---|---|"]
        for p in arguments:
            help_text = " ".join(paragraphs(getattr(p, "help", None)))
            out.append(
                f"| {code(metavar(p))} | {cell(param_type(p, ctx))} | {default(p)} "
                f"| {cell(help_text)} |"
            )
        out.append("")
    if options:
        out += ["| option | type | default | description |", "|---|---|---|---|"]
        for p in options:
            help_text = " ".join(paragraphs(getattr(p, "help", None)))
            out.append(
                f"| {option_names(p)} | {cell(param_type(p, ctx))} | {cell(default(p))} "
                f"| {cell(help_text)} |"
            )
        out.append("")
    return out


def anchor(path: list[str]) -> str:
    return "-".join(path)


def walk(command: Any, path: list[str], parent: Any) -> list[tuple[list[str], Any, Any]]:
    """Every command below ``command``, depth first, in the order the CLI lists them."""
    found = []
    ctx = context(command, path[-1], parent)
    for name, sub in subcommands(command, ctx):
        sub_path = [*path, name]
        found.append((sub_path, sub, context(sub, name, ctx)))
        if is_group(sub):
            found += walk(sub, sub_path, ctx)
    return found


def render() -> str:
    root = typer.main.get_command(app)
    ctx = context(root, "commops")
    commands = walk(root, ["commops"], None)
    lines = [
        "# CLI reference",
        "",
        "<!-- Generated by scripts/gen_cli_docs.py from commops.cli.app. Do not edit by hand:",
        "     run `python scripts/gen_cli_docs.py` after changing a command. -->",
        "",
        *(p + "\n" for p in paragraphs(root.help)),
        f"Usage: `{usage(['commops'], root, ctx)}`",
        "",
        "Every command and group takes `-h` / `--help`. The workspace is the folder named by "
        "`--workspace`, else `$COMMOPS_WORKSPACE`, else the nearest folder upward from the "
        "current one that holds `commops.toml`. Errors are printed on stderr as `error: ...`, "
        "with a hint on the next line when there is one; the exit status is "
        f"{CommopsError.exit_code} for an error and {UsageError.exit_code} for arguments that "
        "do not fit (a bad date, an unknown metric).",
        "",
        "## Global options",
        "",
        "These go before the command: `commops --workspace DIR sync`.",
        "",
        *params_tables(root, ctx),
        "## Commands",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for path, command, _ in commands:
        summary = command.get_short_help_str(limit=200)
        lines.append(f"| [`{' '.join(path)}`](#{anchor(path)}) | {cell(summary)} |")
    lines.append("")
    for path, command, sub_ctx in commands:
        lines += [
            f'<a id="{anchor(path)}"></a>',
            "",
            f"## `{' '.join(path)}`",
            "",
            *(p + "\n" for p in paragraphs(command.help)),
            f"Usage: `{usage(path, command, sub_ctx)}`",
            "",
        ]
        if is_group(command):
            lines.append(
                "Commands: "
                + ", ".join(
                    f"[`{name}`](#{anchor([*path, name])})"
                    for name, _ in subcommands(command, sub_ctx)
                )
                + "."
            )
            lines.append("")
        lines += params_tables(command, sub_ctx)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=TARGET, help="default: docs/cli.md")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    str(args.output),
                    "generated",
                )
            )
            print(f"{args.output} is stale: run `python scripts/gen_cli_docs.py`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
