"""The index of saved reports: one row per (kind, period, lang, format). The file itself lives
under the workspace (``reports/<kind>/<period>/``); the row says where, when, by whom and its
checksum. Rows change only through ``commops.reports.saved``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base


class Report(Base):
    """A generated report or newsletter file."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("kind", "period", "lang", "format"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # monthly | annual | weekly
    period: Mapped[str] = mapped_column(String(20))  # 2026-10 | 2026 | 2026-W43
    lang: Mapped[str] = mapped_column(String(10))  # en | zh-CN
    format: Mapped[str] = mapped_column(String(10))  # html | pdf | md
    path: Mapped[str] = mapped_column(String(500))  # relative to the workspace, with "/"
    generated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    generated_by: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
