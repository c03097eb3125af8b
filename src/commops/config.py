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
    # API tokens by name ("github", "gitee", a source's name): read, never written back, never
    # stored in the database. The environment is the better place (see docs/connectors).
    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    http_timeout: float = 30.0
    http_attempts: int = 6
    http_max_wait: float = 120.0

    def to_toml(self) -> dict[str, Any]:
        return {
            "commops": {"format": CONFIG_FORMAT},
            "database": {"url": self.database_url},
            "analytics": {"snapshot_dir": self.snapshot_dir},
            "cache": {"dir": self.cache_dir},
            "bots": {"patterns": list(self.bot_patterns)},
            "http": {
                "timeout": self.http_timeout,
                "attempts": self.http_attempts,
                "max_wait": self.http_max_wait,
            },
        }


def _get(table: dict[str, Any], path: Path, section: str, key: str, kind: Any, default: Any) -> Any:
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
    tokens = raw.get("tokens", {})
    if not isinstance(tokens, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tokens.items()
    ):
        raise ConfigError(f'{path}: [tokens] must be a table of name = "token" strings')
    http = {
        key: float(_get(raw, path, "http", key, int | float, default))
        for key, default in (("timeout", 30.0), ("attempts", 6), ("max_wait", 120.0))
    }
    for key, value in http.items():
        if value <= 0:
            raise ConfigError(f"{path}: [http] {key} must be positive, got {value}")
    return Config(
        tokens=dict(tokens),
        http_timeout=http["timeout"],
        http_attempts=int(http["attempts"]),
        http_max_wait=http["max_wait"],
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
