"""The Q&A desk: users answering each other.

Over the store (current without a snapshot refresh): the queue of unanswered questions with
suggested answerers (``desk``), who answered whom, the community's share of the answering, time
to first answer and thank-you signals (``stats``), and the desk's one state machine, assigning a
question to a member to answer (``assignments``; table ``qna_assignments`` in ``models``).
Definitions in ``questions`` and docs/qna.md.
"""

from commops.ops.qna.assignments import (
    RECORD_TYPE,
    STATES,
    assign,
    desk_log,
    detect_answers,
    drop,
    mark_answered,
    reopen,
    unassign,
)
from commops.ops.qna.desk import (
    AnswererIndex,
    QueueItem,
    Suggestion,
    queue,
    suggest_answerers,
)
from commops.ops.qna.models import QnaAssignment
from commops.ops.qna.questions import (
    QUESTION_LABELS,
    THANKS,
    Person,
    Question,
    Reply,
    find_question,
    load_questions,
)
from commops.ops.qna.stats import AnswererRow, Pair, Stats, SupportRow, pairs, stats

__all__ = [
    "QUESTION_LABELS",
    "RECORD_TYPE",
    "STATES",
    "THANKS",
    "AnswererIndex",
    "AnswererRow",
    "Pair",
    "Person",
    "QnaAssignment",
    "Question",
    "QueueItem",
    "Reply",
    "Stats",
    "Suggestion",
    "SupportRow",
    "assign",
    "desk_log",
    "detect_answers",
    "drop",
    "find_question",
    "load_questions",
    "mark_answered",
    "pairs",
    "queue",
    "reopen",
    "stats",
    "suggest_answerers",
    "unassign",
]
