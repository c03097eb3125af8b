"""The content pipeline with community review: articles, cases, user stories, tutorials,
videos and translations, from pitch to publication, with named reviewers, an approval rule,
an editorial calendar, performance per channel, credits in the activity stream, and the import
of an existing blog. See docs/content.md.

Importing this package imports its models, so their tables are known to the metadata whenever
the domain functions are used.
"""

from __future__ import annotations

from commops.ops.content.blog import BlogImport, import_blog, parse_post
from commops.ops.content.calendar import Calendar, CalendarCell, CalendarEntry, calendar
from commops.ops.content.credits import AUTHORED, REVIEWED, TRANSLATED, sync_credits
from commops.ops.content.items import (
    ReviewOutcome,
    accept,
    add_item,
    approve,
    cross_post,
    delete_item,
    edit_item,
    get_item,
    list_items,
    publish,
    request_changes,
    restore_item,
    review,
    schedule,
    start_drafting,
    submit_for_review,
    withdraw,
)
from commops.ops.content.models import (
    TABLES,
    ContentAuthor,
    ContentItem,
    ContentPost,
    ContentReading,
    ContentReview,
    ContentRound,
    ContentRoundReviewer,
)
from commops.ops.content.performance import PerformanceImport, import_performance
from commops.ops.content.rules import (
    CONTRIBUTION_TYPES,
    FLOW,
    KINDS,
    STATES,
    ApprovalStatus,
    approval_status,
)

__all__ = [
    "AUTHORED",
    "CONTRIBUTION_TYPES",
    "FLOW",
    "KINDS",
    "REVIEWED",
    "STATES",
    "TABLES",
    "TRANSLATED",
    "ApprovalStatus",
    "BlogImport",
    "Calendar",
    "CalendarCell",
    "CalendarEntry",
    "ContentAuthor",
    "ContentItem",
    "ContentPost",
    "ContentReading",
    "ContentReview",
    "ContentRound",
    "ContentRoundReviewer",
    "PerformanceImport",
    "ReviewOutcome",
    "accept",
    "add_item",
    "approval_status",
    "approve",
    "calendar",
    "cross_post",
    "delete_item",
    "edit_item",
    "get_item",
    "import_blog",
    "import_performance",
    "list_items",
    "parse_post",
    "publish",
    "request_changes",
    "restore_item",
    "review",
    "schedule",
    "start_drafting",
    "submit_for_review",
    "sync_credits",
    "withdraw",
]
