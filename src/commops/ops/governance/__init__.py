"""Governance and recognition: contributor ladders as rules over the activity stream (rule
files in ``ladders/``), nominations and role grants, the inactivity review, the user committee,
and the ``.all-contributorsrc`` / OWNERS exports. See docs/governance.md.

Importing this package registers its tables (``models``) with the ORM metadata.
"""

from __future__ import annotations

from commops.ops.governance import models as models
