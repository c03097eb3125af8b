"""Errors that reach the user. Each one says what went wrong, where, and what to do next."""

from __future__ import annotations


class CommopsError(Exception):
    """An error the CLI prints as one clear message (and a hint) instead of a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n{self.hint}"


class WorkspaceError(CommopsError):
    """No workspace, or a workspace that cannot be read."""


class ConfigError(CommopsError):
    """A configuration file or value is wrong; the message names the file and the key."""


class StoreError(CommopsError):
    """The database cannot be reached or is not in the expected state."""


class SourceError(CommopsError):
    """A source cannot be added or read; the message names the source."""


class SyncError(CommopsError):
    """A sync failed; nothing it read was recorded as complete."""


class UsageError(CommopsError):
    """The command was called with arguments that do not fit."""

    exit_code = 2


class StateConflict(UsageError):
    """The record's state, or a record that exists already, does not allow the change: a draft
    that is published already, a second check-in, a full shift, a duplicate name (the web app
    answers 409 Conflict; the command line exits 2 as for any usage error)."""


class NotFoundError(UsageError):
    """A record named by the caller does not exist (the web app answers 404)."""


class PermissionDenied(CommopsError):
    """The signed-in user's role does not allow this (the web app answers 403)."""

    exit_code = 3
