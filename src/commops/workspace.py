"""Finding, creating and opening a workspace: a folder with ``commops.toml`` and its data."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from commops.config import CONFIG_NAME, DEFAULT_DATABASE_URL, Config, load_config, write_config
from commops.errors import WorkspaceError
from commops.store.db import Store

ENV_WORKSPACE = "COMMOPS_WORKSPACE"


def find_root(explicit: Path | None = None, cwd: Path | None = None) -> Path:
    """``--workspace``, then ``$COMMOPS_WORKSPACE``, then upward from the current directory."""
    if explicit is not None:
        root = explicit.expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise WorkspaceError(
                f"--workspace {explicit}: no {CONFIG_NAME} there",
                hint=f"Create one with: commops init {explicit}",
            )
        return root
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise WorkspaceError(
                f"{ENV_WORKSPACE}={env}: no {CONFIG_NAME} there",
                hint=f"Create one with: commops init {env}",
            )
        return root
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceError(
        f"no commops workspace here: no {CONFIG_NAME} in {start} or any folder above it",
        hint="Create one with `commops init [DIR]`, or name one with --workspace DIR "
        f"or {ENV_WORKSPACE}.",
    )


def resolve_database_url(root: Path, url: str) -> str:
    """SQLite paths in commops.toml are relative to the workspace, so it can be moved."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # Store reports it as a URL that cannot be used
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            return parsed.set(database=str(root / path)).render_as_string(hide_password=False)
    return url


@dataclass
class Workspace:
    root: Path
    config: Config
    _store: Store | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        return resolve_database_url(self.root, self.config.database_url)

    @property
    def snapshot_dir(self) -> Path:
        return self.root / self.config.snapshot_dir

    @property
    def cache_dir(self) -> Path:
        return self.root / self.config.cache_dir

    @property
    def store(self) -> Store:
        if self._store is None:
            store = Store(self.database_url)
            store.ensure_schema()
            self._store = store
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None


def open_workspace(explicit: Path | None = None) -> Workspace:
    root = find_root(explicit)
    return Workspace(root=root, config=load_config(root / CONFIG_NAME))


def init_workspace(directory: Path, database_url: str | None = None) -> tuple[Workspace, bool]:
    """Create (or re-open) a workspace. Returns it and whether it was created just now."""
    root = directory.expanduser().resolve()
    config_path = root / CONFIG_NAME
    if config_path.exists():
        config = load_config(config_path)
        if database_url is not None and database_url != config.database_url:
            raise WorkspaceError(
                f"{config_path} already exists with database {config.database_url!r}",
                hint="Edit [database] url in commops.toml to move the workspace to another "
                "database.",
            )
        ws = Workspace(root=root, config=config)
        _ = ws.store  # runs pending migrations
        return ws, False
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} exists and is not a folder")
    config = Config(database_url=database_url or DEFAULT_DATABASE_URL)
    # Connect and migrate before writing commops.toml, so a bad URL leaves nothing behind.
    made = [d for d in (root, *root.parents) if not d.exists()]
    root.mkdir(parents=True, exist_ok=True)
    store: Store | None = None
    try:
        store = Store(resolve_database_url(root, config.database_url))
        store.ensure_schema(create=True)
    except Exception:
        if store is not None:
            store.dispose()
        for folder in made:  # innermost first; only the folders made here, if still empty
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    write_config(config_path, config)
    return Workspace(root=root, config=config, _store=store), True
