"""Generated documentation stays true to the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gen_cli_docs.py"


def gen_cli_docs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_reference_is_current() -> None:
    proc = gen_cli_docs("--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_reference_check_fails_when_stale(tmp_path: Path) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text((ROOT / "docs" / "cli.md").read_text(encoding="utf-8") + "\nextra\n")
    proc = gen_cli_docs("--check", "--output", str(stale))
    assert proc.returncode == 1
    assert f"{stale} is stale: run `python scripts/gen_cli_docs.py`" in proc.stderr
    assert "-extra" in proc.stdout


def test_cli_reference_lists_every_command(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    assert gen_cli_docs("--output", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    for command in (
        "init",
        "migrate",
        "sources",
        "sync",
        "metrics",
        "quickstart",
        "add git",
        "export activities",
        "export identities",
        "snapshot refresh",
        "snapshot rebuild",
    ):
        assert f"## `commops {command}`" in text, command
    assert "| `--mailmap` / `--no-mailmap` | flag | `--mailmap` |" in text


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors, plus explicit <a id="...">."""
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_docs_links_resolve() -> None:
    docs = ROOT / "docs"
    broken = []
    for page in sorted(docs.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and anchor not in _anchors(linked.read_text(encoding="utf-8")):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
