"""The partner ecosystem: partners (communities, companies, universities, training
institutions, foundations, vendors) linked to organizations, their contacts, collaborations
with a status flow, dated outcomes and links to content and events, touches, and partner
health. See docs/ecosystem.md.

Importing this package imports its models, so their tables are known to the metadata whenever
the domain functions are used.
"""

from __future__ import annotations

from commops.ops.ecosystem.health import Contributor, PartnerHealth, health, partner_health
from commops.ops.ecosystem.models import TABLES, Collaboration, Partner, PartnerContact, Touch
from commops.ops.ecosystem.partners import (
    TRANSITIONS,
    add_collaboration,
    add_contact,
    add_link,
    add_outcome,
    add_partner,
    cancel_collaboration,
    collaborations,
    complete_collaboration,
    contacts,
    delete_collaboration,
    delete_partner,
    edit_partner,
    get_collaboration,
    get_partner,
    list_partners,
    owner_id,
    partner_log,
    pause_collaboration,
    remove_contact,
    restore_collaboration,
    restore_partner,
    resume_collaboration,
    set_status,
    start_collaboration,
    touch,
    touches,
)
from commops.ops.ecosystem.rules import (
    COLLAB_KINDS,
    COLLABORATED,
    CONTRIBUTION_TYPE,
    FLOW,
    PARTNER_KINDS,
    STATES,
    TOUCH_KINDS,
)

__all__ = [
    "COLLABORATED",
    "COLLAB_KINDS",
    "CONTRIBUTION_TYPE",
    "FLOW",
    "PARTNER_KINDS",
    "STATES",
    "TABLES",
    "TOUCH_KINDS",
    "TRANSITIONS",
    "Collaboration",
    "Contributor",
    "Partner",
    "PartnerContact",
    "PartnerHealth",
    "Touch",
    "add_collaboration",
    "add_contact",
    "add_link",
    "add_outcome",
    "add_partner",
    "cancel_collaboration",
    "collaborations",
    "complete_collaboration",
    "contacts",
    "delete_collaboration",
    "delete_partner",
    "edit_partner",
    "get_collaboration",
    "get_partner",
    "health",
    "list_partners",
    "owner_id",
    "partner_health",
    "partner_log",
    "pause_collaboration",
    "remove_contact",
    "restore_collaboration",
    "restore_partner",
    "resume_collaboration",
    "set_status",
    "start_collaboration",
    "touch",
    "touches",
]
