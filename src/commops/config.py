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
    # [bots]: accounts named here are bots (a login, an e-mail or a name, any case); an identity
    # that merged at least merge_threshold pull requests with no other activity is a CI account.
    bot_accounts: list[str] = field(default_factory=list)
    bot_merge_threshold: int = 200
    # [staff]: members enrolled in these organizations, or holding these identities
    # ("alice@example.com", "github:alice", "alice"), are staff.
    staff_organizations: list[str] = field(default_factory=list)
    staff_identities: list[str] = field(default_factory=list)
    # [identity]: the resolver merges on its own at or above auto_merge_score when one strong
    # signal is present; between suggest_score and that it suggests.
    auto_merge_score: float = 0.8
    suggest_score: float = 0.5
    resolve_after_sync: bool = True
    # [organizations]: e-mail domains of organizations, on top of the built-in seed list, and
    # more public e-mail providers (never an affiliation).
    org_domains: dict[str, str] = field(default_factory=dict)
    public_providers: list[str] = field(default_factory=list)
    # [feedback]: issues with these labels and forum topics in these categories are product
    # feedback; a theme not shipped or declined within sla_days is overdue.
    feedback_labels: list[str] = field(
        default_factory=lambda: ["kind/feature", "feature", "enhancement", "feature request"]
    )
    feedback_categories: list[str] = field(default_factory=lambda: ["feature-requests", "feedback"])
    feedback_sla_days: int = 30
    # [content]: approvals an item needs in community review (at least one by a non-staff
    # reviewer).
    content_approvals: int = 2
    # [qna]: a question with no answer after this many hours is in the unanswered queue.
    qna_unanswered_hours: int = 48
    # ... and issues with one of these labels are questions (with the forum's and Discussions').
    qna_question_labels: list[str] = field(
        default_factory=lambda: ["question", "kind/question", "type/question"]
    )
    # [reports]: which reports `commops serve` generates on its own ("monthly" on the first day
    # of a month for the month before, "annual" on 1 January, "weekly" on Mondays for the week
    # before), in which languages and formats; Jinja2 templates in template_dir (relative to the
    # workspace) override the built-in ones by name.
    reports_schedule: list[str] = field(default_factory=list)
    reports_languages: list[str] = field(default_factory=lambda: ["en"])
    reports_formats: list[str] = field(default_factory=lambda: ["html", "md"])
    reports_template_dir: str = "templates"
    # [web]: `commops serve`. Public pages (dashboard, leaderboard) are off unless asked; a
    # session lasts session_hours; after login_attempts failed logins for one account or
    # address within 15 minutes, logins are refused for 15 minutes.
    web_public_pages: bool = False
    web_session_hours: int = 12
    web_login_attempts: int = 5
    web_secure_cookies: bool = True

    def to_toml(self) -> dict[str, Any]:
        return {
            "commops": {"format": CONFIG_FORMAT},
            "database": {"url": self.database_url},
            "analytics": {"snapshot_dir": self.snapshot_dir},
            "cache": {"dir": self.cache_dir},
            "bots": {
                "patterns": list(self.bot_patterns),
                "accounts": list(self.bot_accounts),
                "merge_threshold": self.bot_merge_threshold,
            },
            "staff": {
                "organizations": list(self.staff_organizations),
                "identities": list(self.staff_identities),
            },
            "identity": {
                "auto_merge_score": self.auto_merge_score,
                "suggest_score": self.suggest_score,
                "resolve_after_sync": self.resolve_after_sync,
            },
            "organizations": {
                "public_providers": list(self.public_providers),
                "domains": dict(self.org_domains),
            },
            "http": {
                "timeout": self.http_timeout,
                "attempts": self.http_attempts,
                "max_wait": self.http_max_wait,
            },
            "feedback": {
                "labels": list(self.feedback_labels),
                "categories": list(self.feedback_categories),
                "sla_days": self.feedback_sla_days,
            },
            "content": {"approvals": self.content_approvals},
            "qna": {
                "unanswered_hours": self.qna_unanswered_hours,
                "question_labels": list(self.qna_question_labels),
            },
            "reports": {
                "schedule": list(self.reports_schedule),
                "languages": list(self.reports_languages),
                "formats": list(self.reports_formats),
                "template_dir": self.reports_template_dir,
            },
            "web": {
                "public_pages": self.web_public_pages,
                "session_hours": self.web_session_hours,
                "login_attempts": self.web_login_attempts,
                "secure_cookies": self.web_secure_cookies,
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
    strings = {
        (section, key): _strings(raw, path, section, key)
        for section, key in (
            ("bots", "accounts"),
            ("staff", "organizations"),
            ("staff", "identities"),
            ("organizations", "public_providers"),
        )
    }
    merge_threshold = _get(raw, path, "bots", "merge_threshold", int, 200)
    if merge_threshold < 1:
        raise ConfigError(f"{path}: [bots] merge_threshold must be at least 1")
    scores = {
        key: float(_get(raw, path, "identity", key, int | float, default))
        for key, default in (("auto_merge_score", 0.8), ("suggest_score", 0.5))
    }
    for key, value in scores.items():
        if not 0 < value <= 1:
            raise ConfigError(f"{path}: [identity] {key} must be in (0, 1], got {value}")
    if scores["suggest_score"] > scores["auto_merge_score"]:
        raise ConfigError(f"{path}: [identity] suggest_score is above auto_merge_score")
    domains = _get(raw, path, "organizations", "domains", dict, {})
    for domain, org in domains.items():
        if not isinstance(org, str) or not org.strip():
            raise ConfigError(f"{path}: [organizations.domains] {domain} must name an organization")
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
    for section, key in (
        ("feedback", "labels"),
        ("feedback", "categories"),
        ("qna", "question_labels"),
        ("reports", "schedule"),
        ("reports", "languages"),
        ("reports", "formats"),
    ):
        if section in raw and key in raw[section]:
            strings[(section, key)] = _strings(raw, path, section, key)
    positive = {
        (section, key): _get(raw, path, section, key, int, default)
        for section, key, default in (
            ("feedback", "sla_days", 30),
            ("content", "approvals", 2),
            ("qna", "unanswered_hours", 48),
            ("web", "session_hours", 12),
            ("web", "login_attempts", 5),
        )
    }
    for (section, key), value in positive.items():
        if value < 1:
            raise ConfigError(f"{path}: [{section}] {key} must be at least 1, got {value}")
    defaults = Config()
    choices = {
        ("reports", "schedule"): ("monthly", "annual", "weekly"),
        ("reports", "languages"): ("en", "zh-CN"),
        ("reports", "formats"): ("html", "pdf", "md"),
    }
    for (section, key), allowed in choices.items():
        for i, choice in enumerate(strings.get((section, key), [])):
            if choice not in allowed:
                raise ConfigError(
                    f"{path}: [{section}] {key}[{i}] {choice!r} is not one of {', '.join(allowed)}"
                )
    return Config(
        reports_schedule=strings.get(("reports", "schedule"), defaults.reports_schedule),
        reports_languages=strings.get(("reports", "languages"), defaults.reports_languages),
        reports_formats=strings.get(("reports", "formats"), defaults.reports_formats),
        reports_template_dir=_get(raw, path, "reports", "template_dir", str, "templates"),
        web_public_pages=_get(raw, path, "web", "public_pages", bool, False),
        web_session_hours=positive[("web", "session_hours")],
        web_login_attempts=positive[("web", "login_attempts")],
        web_secure_cookies=_get(raw, path, "web", "secure_cookies", bool, True),
        feedback_labels=strings.get(("feedback", "labels"), defaults.feedback_labels),
        feedback_categories=strings.get(("feedback", "categories"), defaults.feedback_categories),
        feedback_sla_days=positive[("feedback", "sla_days")],
        content_approvals=positive[("content", "approvals")],
        qna_unanswered_hours=positive[("qna", "unanswered_hours")],
        qna_question_labels=strings.get(("qna", "question_labels"), defaults.qna_question_labels),
        tokens=dict(tokens),
        http_timeout=http["timeout"],
        http_attempts=int(http["attempts"]),
        http_max_wait=http["max_wait"],
        database_url=_get(raw, path, "database", "url", str, DEFAULT_DATABASE_URL),
        bot_patterns=patterns,
        snapshot_dir=_get(raw, path, "analytics", "snapshot_dir", str, ".commops/snapshot"),
        cache_dir=_get(raw, path, "cache", "dir", str, ".commops/cache"),
        bot_accounts=strings[("bots", "accounts")],
        bot_merge_threshold=merge_threshold,
        staff_organizations=strings[("staff", "organizations")],
        staff_identities=strings[("staff", "identities")],
        auto_merge_score=scores["auto_merge_score"],
        suggest_score=scores["suggest_score"],
        resolve_after_sync=_get(raw, path, "identity", "resolve_after_sync", bool, True),
        org_domains={d.strip().lower(): o.strip() for d, o in domains.items()},
        public_providers=[
            p.strip().lower() for p in strings[("organizations", "public_providers")]
        ],
    )


def _strings(raw: dict[str, Any], path: Path, section: str, key: str) -> list[str]:
    values = _get(raw, path, section, key, list, [])
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: [{section}] {key}[{i}] must be a non-empty string")
    return [v.strip() for v in values]


def write_config(path: Path, config: Config) -> None:
    path.write_text(
        "# commops workspace configuration. See docs/user-guide.md.\n"
        + tomli_w.dumps(config.to_toml()),
        encoding="utf-8",
    )
