"""The demo's operations: a realistic handful of records in every workflow (feedback,
content, Q&A, events, partners, governance), made through each workflow's own domain
functions on top of the demo community, so that the web app and the reports have something to
show. Deterministic for a seed."""

from __future__ import annotations

import importlib
import random

from commops.workspace import Workspace

AREAS = ("feedback", "content", "qna", "events", "ecosystem", "governance")


def seed_operations(ws: Workspace, *, seed: int, actor: str = "demo") -> list[str]:
    """Seed each workflow in its own transaction; returns the areas seeded. Activities that
    the workflows emit reach the metrics after the next snapshot refresh."""
    rng = random.Random(seed)
    done = []
    for area in AREAS:
        module = importlib.import_module(f"commops.ops.{area}.demo")
        with ws.store.session() as session:
            module.seed(session, rng, actor=actor)
        done.append(area)
    return done
