"""The workspace configuration file, ``commops.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from commops.errors import ConfigError

CONFIG_NAME = "commops.toml"
CONFIG_FORMAT = 1
DEFAULT_DATABASE_URL = "sqlite:///commops.db"


@dataclass
class Config:
    """What ``commops.toml`` holds. Sources live in the database, not here."""

    database_url: str = DEFAULT_DATABASE_URL
    bot_patterns: list[str] = field(default_factory=list)
    snapshot_dir: str = ".commops/snapshot"
    cache_dir: str = ".commops/cache"

    def to_toml(self) -> dict[str, Any]:
        return {
            "commops": {"format": CONFIG_FORMAT},
            "database": {"url": self.database_url},
            "analytics": {"snapshot_dir": self.snapshot_dir},
            "cache": {"dir": self.cache_dir},
            "bots": {"patterns": list(self.bot_patterns)},
        }


def _get(
    table: dict[str, Any], path: Path, section: str, key: str, kind: type, default: Any
) -> Any:
    part = table.get(section, {})
    if not isinstance(part, dict):
        raise ConfigError(f"{path}: [{section}] must be a table, got {type(part).__name__}")
    value = part.get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(
            f"{path}: [{section}] {key} must be a {kind.__name__}, got {type(value).__name__}"
        )
    return value


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    fmt = _get(raw, path, "commops", "format", int, CONFIG_FORMAT)
    if fmt > CONFIG_FORMAT:
        raise ConfigError(
            f"{path}: [commops] format = {fmt} was written by a newer commops",
            hint="Upgrade commops to open this workspace.",
        )
    patterns = _get(raw, path, "bots", "patterns", list, [])
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str):
            raise ConfigError(f"{path}: [bots] patterns[{i}] must be a string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{path}: [bots] patterns[{i}] {pattern!r} is not a regex: {exc}"
            ) from None
    return Config(
        database_url=_get(raw, path, "database", "url", str, DEFAULT_DATABASE_URL),
        bot_patterns=patterns,
        snapshot_dir=_get(raw, path, "analytics", "snapshot_dir", str, ".commops/snapshot"),
        cache_dir=_get(raw, path, "cache", "dir", str, ".commops/cache"),
    )


def write_config(path: Path, config: Config) -> None:
    path.write_text(
        "# commops workspace configuration. See docs/user-guide.md.\n"
        + tomli_w.dumps(config.to_toml()),
        encoding="utf-8",
    )
