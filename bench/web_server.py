"""The app factory ``bench/web.py`` serves with when ``commops serve`` is not available:

    COMMOPS_WORKSPACE=DIR python -m uvicorn --factory web_server:make --app-dir bench

It builds the same app ``commops serve`` does (``commops.web.create_app`` with its background
thread) for the workspace in ``$COMMOPS_WORKSPACE``.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from commops.web import create_app
from commops.workspace import open_workspace


def make() -> FastAPI:
    return create_app(open_workspace(Path(os.environ["COMMOPS_WORKSPACE"])))
