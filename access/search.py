"""Search and paging of the VPN access list, flat in the number of accesses.

What a search means, the same on SQLite and PostgreSQL (tests/test_search.py):

- ``va-`` and ID characters (any case): VPNアクセスIDs that start with it, so a
  full ID finds its access and the first few characters read over the phone
  narrow the list.
- three characters or more: device names that contain them (any case).
- one or two characters: device names that contain them (any case) among the
  newest ``SHORT_WINDOW`` accesses in view (``is_windowed`` tells the page to
  say so). A trigram index cannot look up fewer than three characters, and a
  scan of every device is what this module exists to avoid; such a short text
  matches a large share of all names anyway, so the newest ones are what is
  useful to show.

The text is always literal: ``%``, ``_``, quotes, backslashes and very long
input are characters to look for, never syntax and never an error.

How each stays flat: a search first asks its own index for at most
``CANDIDATES`` matching rows (the probe: the public_id unique index or the
trigram index: SQLite FTS5 ``trigram``,
PostgreSQL ``pg_trgm``; see devices/migrations/0002_name_search.py). If that is
all of them, the page is cut from those few rows by primary key. If there are
more, the term is common, so walking the list's own (created_at, id) index with
the term as a plain filter fills a page after about
``page size × accesses / matches`` rows. Support staff search across contracts
on the same indexes; an operator's search adds the contract to the final query.

Paging is by keyset: a page is "the ``size`` accesses after (or before) this
one" in the list's order, newest first, so a deep page costs what the first
page costs and nothing ever counts the whole table. The cursor is the public ID
of the row at the page's edge; integer keys stay internal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Substr

from devices.models import DEVICE_NAME_MAX_LENGTH, Device
from vpnconsole.ids import ALPHABET, ID_LENGTH

MAX_QUERY_LENGTH = 200
# Above this many matches a term counts as common and the list index is walked instead.
CANDIDATES = 2000
# A one- or two-character search looks at this many of the newest accesses.
SHORT_WINDOW = 5000
ACCESS_ID = re.compile(rf"va-[{ALPHABET}]{{1,{ID_LENGTH}}}")
ACCESS_CURSOR = re.compile(rf"va-[{ALPHABET}]{{{ID_LENGTH}}}")
TRIGRAM = 3
ORDER = ("-created_at", "-id")
# IDs are ASCII: folding only ASCII keeps, say, the Kelvin sign from turning into "k".
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def normalise_query(q: str | None) -> str:
    return (q or "").strip()[:MAX_QUERY_LENGTH]


def search_kind(q: str) -> str:
    """``""``, ``"id"``, ``"short_name"`` or ``"name"`` for a normalised query."""
    if not q:
        return ""
    if ACCESS_ID.fullmatch(ascii_lower(q)):
        return "id"
    if len(q) < TRIGRAM:
        return "short_name"
    return "name"


def is_windowed(q: str | None) -> bool:
    """True when the search only looks at the newest ``SHORT_WINDOW`` accesses."""
    return search_kind(normalise_query(q)) == "short_name"


def filter_accesses(accesses: QuerySet, q: str | None) -> QuerySet:
    """The accesses among ``accesses`` that match the search text ``q``; see the module doc."""
    q = normalise_query(q)
    kind = search_kind(q)
    if not kind:
        return accesses
    if "\x00" in q or (kind != "id" and len(q) > DEVICE_NAME_MAX_LENGTH):
        # Neither can be in a device name (forms refuse NUL, names are capped), and
        # PostgreSQL refuses NUL in any string, so answer without asking.
        return accesses.none()
    return _SEARCHES[kind](accesses, q)


def _successor(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (code-point order)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return None
    return prefix[:-1] + chr(last + 1)


def _prefix_range(column: str, prefix: str) -> Q:
    # A range rather than LIKE: SQLite only turns LIKE into an index range for
    # columns declared NOCASE, whereas a range works on any index in code-point
    # order (SQLite's BINARY; on PostgreSQL the ID alphabet sorts the same in
    # every collation).
    upper = _successor(prefix)
    condition = Q(**{f"{column}__gte": prefix})
    if upper is not None:
        condition &= Q(**{f"{column}__lt": upper})
    return condition


def _narrow(accesses: QuerySet, column: str, ids: list[int], common: Q) -> QuerySet:
    if len(ids) <= CANDIDATES:
        return accesses.filter(**{f"{column}__in": ids})
    return accesses.filter(common)


def _by_id(accesses: QuerySet, q: str) -> QuerySet:
    prefix = ascii_lower(q)
    probe = accesses.model.objects.filter(_prefix_range("public_id", prefix))
    ids = list(probe.values_list("pk", flat=True)[: CANDIDATES + 1])
    # substr() keeps the planner off the public_id index, which would fetch and
    # sort every match of a common prefix; the list index finds a page sooner.
    head = accesses.alias(id_head=Substr("public_id", 1, len(prefix)))
    return _narrow(head, "pk", ids, Q(id_head=prefix))


def _by_short_name(accesses: QuerySet, q: str) -> QuerySet:
    # The window's edge is the scope's WINDOW-th newest access, found on the list
    # index alone; the filter then walks at most that many rows whatever the cursor.
    edge = list(
        accesses.order_by(*ORDER).values_list("created_at", "pk")[SHORT_WINDOW - 1 : SHORT_WINDOW]
    )
    matches = accesses.filter(device__name__icontains=q)
    if edge:
        matches = matches.filter(_newer_than(edge[0], inclusive=True))
    return matches


def _by_name(accesses: QuerySet, q: str) -> QuerySet:
    if connection.vendor == "sqlite":
        ids = _fts_device_ids(q, CANDIDATES + 1)
    else:
        # pg_trgm's GIN index on upper(name) answers Django's icontains.
        probe = Device.objects.filter(name__icontains=q)
        ids = list(probe.values_list("pk", flat=True)[: CANDIDATES + 1])
    return _narrow(accesses, "device_id", ids, Q(device__name__icontains=q))


def _fts_device_ids(q: str, limit: int) -> list[int]:
    # One FTS5 phrase: the trigram tokenizer turns it into consecutive trigrams,
    # which is exactly "contains q" (case-folded). Inside double quotes only a
    # double quote is special, and doubling it makes it literal.
    phrase = '"' + q.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM devices_device_fts WHERE devices_device_fts MATCH %s LIMIT %s",
            [phrase, limit],
        )
        return [row[0] for row in cursor.fetchall()]


_SEARCHES = {"id": _by_id, "short_name": _by_short_name, "name": _by_name}


@dataclass
class Page:
    """One page of the list. Cursors are public IDs for ``?after=`` and ``?before=``."""

    object_list: list = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def _position(accesses: QuerySet, cursor: str | None) -> tuple | None:
    """(created_at, pk) of the cursor's access, looked up within the same scope and search."""
    if not cursor or not ACCESS_CURSOR.fullmatch(cursor):
        return None
    return accesses.filter(public_id=cursor).values_list("created_at", "pk").first()


def _older_than(position: tuple) -> Q:
    # created_at <= c bounds the index range; the OR settles ties inside it.
    created_at, pk = position
    return Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(pk__lt=pk))


def _newer_than(position: tuple, *, inclusive: bool = False) -> Q:
    created_at, pk = position
    tie = Q(pk__gte=pk) if inclusive else Q(pk__gt=pk)
    return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | tie)


def page_of(
    accesses: QuerySet,
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> Page:
    """Newest first: the page after ``after``, the page before ``before``, or the first page.

    An unknown or malformed cursor (the access was deleted, or belongs to another
    contract) gives the first page. One extra row tells whether there is more.
    """
    after_position = _position(accesses, after)
    before_position = None if after_position else _position(accesses, before)
    if before_position is not None:
        rows = list(
            accesses.filter(_newer_than(before_position)).order_by("created_at", "id")[: size + 1]
        )
        if len(rows) <= size:
            # Back at the top: the first page, full, rather than a short one.
            return page_of(accesses, size=size)
        rows = rows[:size][::-1]
        return Page(
            object_list=rows,
            next_cursor=rows[-1].public_id,
            previous_cursor=rows[0].public_id,
        )
    query = accesses.order_by(*ORDER)
    if after_position is not None:
        query = query.filter(_older_than(after_position))
    rows = list(query[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        object_list=rows,
        next_cursor=rows[-1].public_id if more else None,
        previous_cursor=rows[0].public_id if after_position is not None and rows else None,
    )
