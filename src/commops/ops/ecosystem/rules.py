"""The ecosystem's vocabulary: partner kinds, collaboration kinds and states and the moves
between them, touch kinds, and the organization kind a partner's organization is created with."""

from __future__ import annotations

from commops.errors import UsageError

PARTNER_RECORD = "partner"
COLLAB_RECORD = "collaboration"

PARTNER_KINDS = (
    "community",
    "company",
    "university",
    "training-institution",
    "foundation",
    "vendor",
)
# The kind an organization is created with when a partner names one that does not exist yet
# (organizations have their own, shorter list: see commops.identity.orgs.ORG_KINDS).
ORG_KIND = {
    "community": "community",
    "company": "company",
    "university": "university",
    "training-institution": "other",
    "foundation": "foundation",
    "vendor": "company",
}

COLLAB_KINDS = (
    "product-integration",
    "content-collaboration",
    "co-hosted-event",
    "course",
    "sponsorship",
    "case-study",
)

STATES = ("proposed", "active", "paused", "completed", "cancelled")
# state -> the states it may become: proposed → active → completed, active ↔ paused, and
# cancelled from every state that is not final.
FLOW: dict[str, tuple[str, ...]] = {
    "proposed": ("active", "cancelled"),
    "active": ("paused", "completed", "cancelled"),
    "paused": ("active", "cancelled"),
    "completed": (),
    "cancelled": (),
}

TOUCH_KINDS = ("meeting", "email", "call", "event", "other")
LINK_TYPES = ("url", "content", "event")

# The activity a completed collaboration credits its owner with, and its all-contributors type
# (business development).
COLLABORATED = "partner:collaborated"
CONTRIBUTION_TYPE = "business"


def _choice(value: str, choices: tuple[str, ...], field: str) -> str:
    clean = value.strip().lower().replace("_", "-").replace(" ", "-")
    if clean == "e-mail":
        clean = "email"
    if clean not in choices:
        raise UsageError(f"{field}: {value!r} is not one of {', '.join(choices)}")
    return clean


def partner_kind(value: str) -> str:
    return _choice(value, PARTNER_KINDS, "kind")


def collab_kind(value: str) -> str:
    return _choice(value, COLLAB_KINDS, "kind")


def touch_kind(value: str) -> str:
    return _choice(value, TOUCH_KINDS, "kind")
