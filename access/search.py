"""Search and paging of the VPN access list.

``filter_accesses`` takes the user's scoped queryset and the search text;
``page_of`` cuts one page without counting the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from vpnconsole.ids import looks_like_id_prefix

MAX_QUERY_LENGTH = 200


def normalise_query(q: str | None) -> str:
    return (q or "").strip()[:MAX_QUERY_LENGTH]


def filter_accesses(accesses: QuerySet, q: str) -> QuerySet:
    """An ID or ID prefix (any case), or any part of a device name. Text is literal."""
    q = normalise_query(q)
    if not q:
        return accesses
    by_name = accesses.filter(device__name__icontains=q)
    if looks_like_id_prefix(q):
        return accesses.filter(public_id__startswith=q.lower()) | by_name
    return by_name


@dataclass
class Page:
    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def page_of(accesses: QuerySet, page: str | int | None, size: int) -> Page:
    """Newest first; one row more than the page tells whether a next page exists."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    number = min(number, 100_000)
    start = (number - 1) * size
    rows = list(accesses.order_by("-created_at", "-id")[start : start + size + 1])
    return Page(object_list=rows[:size], number=number, has_next=len(rows) > size)
