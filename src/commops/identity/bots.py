"""Telling bots from people.

An identity is a bot when its name ends in ``[bot]`` (GitHub Apps), when its username or the
local part of its e-mail is a known automation account, when its name ends in a separate word
"bot" or "robot" ("KubeSphere CI Bot"), or when it matches one of the workspace's own patterns
(``[bots] patterns`` in commops.toml, regular expressions matched against name, e-mail and
username, case-insensitively).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

KNOWN_ACCOUNTS = frozenset(
    {
        "dependabot",
        "dependabot-preview",
        "renovate",
        "renovate-bot",
        "renovatebot",
        "github-actions",
        "actions-user",
        "web-flow",
        "k8s-ci-robot",
        "ks-ci-bot",
        "codecov",
        "codecov-io",
        "codecov-commenter",
        "mergify",
        "snyk-bot",
        "allcontributors",
        "all-contributors",
        "pre-commit-ci",
        "greenkeeper",
        "greenkeeperio-bot",
        "travis-ci",
        "stale",
        "imgbot",
        "whitesource-bolt-for-github",
        "sonarcloud",
        "deepsource-autofix",
        "coveralls",
        "netlify",
        "vercel",
        "gitee-bot",
        "openfunction-bot",
        "kubesphere-bot",
        "fossabot",
        "copilot-swe-agent",
        "claassistant",
        "cla-assistant",
        "googlebot",
        "lgtm-com",
        "pyup-bot",
        "gitter-badger",
        "semantic-release-bot",
        "nobody",
    }
)

_NAME_BOT = re.compile(r"(\[bot\]$)|((^|[\s_\-.])(ci[\s_\-])?(ro)?bot$)", re.IGNORECASE)
_LOCAL_BOT = re.compile(r"(\[bot\]$)|([_\-.](ro)?bot$)|(^(ro)?bot[_\-.])", re.IGNORECASE)
_NOREPLY = re.compile(r"^(\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)


class BotRules:
    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]

    def is_bot(
        self, *, name: str | None = None, email: str | None = None, username: str | None = None
    ) -> bool:
        candidates = [x for x in (name, email, username) if x]
        if any(p.search(x) for p in self.patterns for x in candidates):
            return True
        if name and _NAME_BOT.search(name.strip()):
            return True
        for login in _logins(email, username):
            low = login.lower()
            if low in KNOWN_ACCOUNTS or _LOCAL_BOT.search(low):
                return True
        return False


def _logins(email: str | None, username: str | None) -> list[str]:
    out = []
    if username:
        out.append(username)
    if email:
        m = _NOREPLY.match(email)
        out.append(m.group("login") if m else email.split("@", 1)[0])
    return out
