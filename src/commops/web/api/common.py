"""What the API routers share: pagination and the list envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")
API = "/api/v1"


class Paging(BaseModel):
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page (1–500).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items``, the ``total`` matching the filters, and the paging."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(items: Sequence[T], p: Paging) -> Page[T]:
    """A page cut from a whole list (for lists that are small or already filtered in memory)."""
    return Page[T](
        items=list(items[p.offset : p.offset + p.limit]),
        total=len(items),
        limit=p.limit,
        offset=p.offset,
    )
