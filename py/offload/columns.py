"""Streaming statistics of one column of a table: type, counts, range, mean, histogram, top values.

Values arrive in batches (a few thousand rows at a time) so the per-value work runs in C where it
can (`map(int, ...)`, `Counter.update`), and memory stays bounded whatever the file's size: the
histogram has a fixed number of bins that widen as values stray outside them, and the counter of
values keeps at most `MAX_DISTINCT` of them (past that its counts are approximate and say so).
"""

from __future__ import annotations

import bisect
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

#: The types a column can have, in the order a column moves through them as values arrive.
EMPTY, INTEGER, FLOAT, TEXT = "empty", "integer", "float", "text"

BINS = 64  # fine bins kept while streaming
SHOWN_BINS = 16  # at most this many in the summary: enough for a small chart
MAX_DISTINCT = 2_000  # values counted exactly per column before the counter is pruned
MAX_KEY = 100  # characters of a value kept as a counter key (a 1 MB field must not be kept 2,000x)
TOP = 5  # most frequent values reported for a text column
SAFE_INTEGER = 2**53  # beyond this a JavaScript number is inexact: report such bounds as floats


class Histogram:
    """Counts of numbers in `BINS` equal bins that double in width when a value falls outside.

    The first batch sets the range; a later value below or above it doubles the bin width (pairs
    of bins merge) towards that side until it fits, so the counts stay exact per bin and memory
    stays `BINS` integers.
    """

    def __init__(self) -> None:
        self.counts = [0] * BINS
        self.low = 0.0
        self.width = 0.0

    def add(self, numbers: Sequence[float], low: float, high: float) -> None:
        """Count `numbers` (finite), whose least and greatest are `low` and `high`.

        Sorting the batch (C) and bisecting it at each bin edge is ~20x faster in Python than
        binning value by value; half-open bins [edge, next edge) either way.
        """
        if not numbers:
            return
        if self.width == 0.0:
            span = high - low or max(abs(low), 1.0)
            start = low - span / 2 if high == low else low
            self.low, self.width = start, span / (BINS - 1)
        self._fit(low)
        self._fit(high)
        ordered = sorted(numbers)
        below = [bisect.bisect_left(ordered, self.low + k * self.width) for k in range(1, BINS)]
        for k, (first, end) in enumerate(zip([0, *below], [*below, len(ordered)], strict=True)):
            self.counts[k] += end - first

    def _fit(self, number: float) -> None:
        """Double the bins' width towards `number` until it falls inside them."""
        while number < self.low or number >= self.low + self.width * BINS:
            if not math.isfinite(self.width * 2 * BINS):
                return  # a range wider than floats reach: the edge bins take the values
            merged = [self.counts[i] + self.counts[i + 1] for i in range(0, BINS, 2)]
            empty = [0] * (BINS // 2)
            if number < self.low:
                self.low -= self.width * BINS
                self.counts = empty + merged
            else:
                self.counts = merged + empty
            self.width *= 2

    def summary(self) -> dict[str, list[float] | list[int]]:
        """`{edges, counts}`: at most `SHOWN_BINS` bins over the occupied range, edges one more."""
        occupied = [i for i, count in enumerate(self.counts) if count]
        if not occupied:
            return {"edges": [], "counts": []}
        first, last = occupied[0], occupied[-1]
        group = math.ceil((last - first + 1) / SHOWN_BINS)
        starts = range(first, last + 1, group)
        counts = [sum(self.counts[start : start + group]) for start in starts]
        edges = [self.low + start * self.width for start in starts]
        edges.append(self.low + (starts[-1] + group) * self.width)
        return {"edges": edges, "counts": counts}


class Column:
    """The statistics of one column, fed batch by batch.

    A column starts as integer; a value Python's `int` cannot read makes it float, one `float`
    cannot read (or one that is not finite) makes it text for good. Empty and whitespace-only
    values are missing and never change the type; a column with no other values is "empty".
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.kind = INTEGER
        self.count = 0
        self.missing = 0
        self.total: int | float = 0
        self.minimum: int | float | None = None
        self.maximum: int | float | None = None
        self.histogram = Histogram()
        self.values: Counter[str] = Counter()
        self.pruned = False  # the counter forgot values: its counts are lower bounds
        self.partial = False  # the column became text after some values: they were not counted

    def add_missing(self, how_many: int) -> None:
        """Count `how_many` missing values (e.g. a key absent from a JSON line)."""
        self.missing += how_many

    def add_texts(self, texts: Sequence[str]) -> None:
        """Add a batch of values as read from text (CSV fields)."""
        present = list(filter(None, texts))  # C loops: this runs for every cell of the file
        numbers: list[int] | list[float] | None = None
        distinct: set[str] | None = None
        # Whitespace-only values (missing) are rare, and looking for them costs a call per value,
        # which the worker (wasm) pays dearly: look only where needed.
        if self.kind == TEXT:
            distinct = set(present)  # a text column's distinct values are often far fewer
            spaces = any(map(str.isspace, distinct))
        else:
            # int() and float() refuse whitespace-only texts: a batch they read whole has none.
            numbers = _read(present, int) if self.kind == INTEGER else _read(present, float)
            spaces = numbers is None and any(map(str.isspace, present))
        if spaces:
            present = [text for text in present if not text.isspace()]
            distinct = None
        self.missing += len(texts) - len(present)
        if not present:
            return
        self.count += len(present)
        if self.kind == INTEGER:
            try:
                self._add_numbers(numbers if numbers is not None else list(map(int, present)))
                return
            # Not all integers, or one longer than int's digit limit, or beyond a float's range.
            except (ValueError, OverflowError):
                self._become(FLOAT)
                numbers = None
        if self.kind == FLOAT:
            try:
                self._add_numbers(numbers if numbers is not None else list(map(float, present)))
                return
            except ValueError:
                self._become(TEXT)
        self._count_values(present, distinct)

    def add_values(self, values: Sequence[object]) -> None:
        """Add a batch of values already typed (parsed JSON): None is missing, strings are text."""
        present = [value for value in values if value is not None]
        self.missing += len(values) - len(present)
        if not present:
            return
        self.count += len(present)
        if self.kind == INTEGER and all(type(value) is int for value in present):
            self._add_numbers(present)  # type: ignore[arg-type]  # checked just above
            return
        if self.kind in (INTEGER, FLOAT) and all(type(v) in (int, float) for v in present):
            self._become(FLOAT)
            try:
                self._add_numbers([float(value) for value in present])  # type: ignore[arg-type]
                return
            except ValueError:  # NaN or infinity (Python's json reads them)
                pass
        self._become(TEXT)
        self._count_values([_as_text(value) for value in present])

    def _add_numbers(self, numbers: Sequence[int] | Sequence[float]) -> None:
        """Add numbers to the range, mean and histogram.

        Raises:
            ValueError: a float is not finite ("inf" and "nan" read as floats but are no
                measurements); nothing was added.
        """
        low, high = min(numbers), max(numbers)
        edges = float(low), float(high)  # OverflowError for an integer past floats, before changes
        if self.kind == FLOAT:
            batch_sum: int | float = math.fsum(numbers)
            if not math.isfinite(batch_sum) and not all(map(math.isfinite, numbers)):
                raise ValueError("not finite")
        else:
            batch_sum = sum(numbers)  # exact for integers
        self.minimum = low if self.minimum is None else min(self.minimum, low)
        self.maximum = high if self.maximum is None else max(self.maximum, high)
        self.total += batch_sum
        self.histogram.add(numbers, *edges)

    def _become(self, kind: str) -> None:
        if kind == FLOAT and self.kind == INTEGER:
            try:
                self.total = float(self.total)
            except OverflowError:  # integers summing past floats' range: no measurement either
                kind = TEXT
        if kind == TEXT and self.kind != TEXT:
            # Numbers are not counted by value (that would cost as much as the rest together), so
            # a column that turns to text late has counted only the values from then on.
            self.partial = self.minimum is not None
            self.total, self.minimum, self.maximum = 0, None, None
            self.histogram = Histogram()
        self.kind = kind

    def _count_values(self, texts: list[str], distinct: set[str] | None = None) -> None:
        """Count `texts` by value; `distinct`, when given, is the set of them (a quicker `max`)."""
        if max(map(len, texts if distinct is None else distinct)) > MAX_KEY:
            texts = [text if len(text) <= MAX_KEY else text[:MAX_KEY] + "…" for text in texts]
        self.values.update(texts)
        if len(self.values) > MAX_DISTINCT:
            # Forget the values seen once (cheap, and all of them in a column of identifiers),
            # then if need be all but the most frequent half. A forgotten value may come back
            # and is counted afresh: from here on the counts are lower bounds.
            self.values = Counter({text: n for text, n in self.values.items() if n > 1})
            if len(self.values) > MAX_DISTINCT // 2:
                self.values = Counter(dict(self.values.most_common(MAX_DISTINCT // 2)))
            self.pruned = True

    def summary(self) -> dict[str, object]:
        """The column as plain values (see csv_summary's docstring for the keys)."""
        kind = EMPTY if self.count == 0 else self.kind
        result: dict[str, object] = {
            "name": self.name,
            "type": kind,
            "count": self.count,
            "missing": self.missing,
        }
        if kind in (INTEGER, FLOAT):
            result["min"] = _js_safe(self.minimum)
            result["max"] = _js_safe(self.maximum)
            result["mean"] = self.total / self.count
            result["histogram"] = self.histogram.summary()
        elif kind == TEXT:
            result["top"] = [
                {"value": value, "count": count} for value, count in self.values.most_common(TOP)
            ]
            exact = not (self.pruned or self.partial)
            # Past the counter's capacity only a lower bound of the distinct values is known.
            result["distinct"] = len(self.values) if exact else None
            result["top_exact"] = exact
        return result


def _read[T](texts: list[str], kind: Callable[[str], T]) -> list[T] | None:
    """`texts` read with `kind` (int or float); None if one of them does not read."""
    try:
        return list(map(kind, texts))
    except (ValueError, OverflowError):
        return None


def _as_text(value: object) -> str:
    """A JSON value as the text a person would read: strings as they are, others in JSON."""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _js_safe(number: int | float | None) -> int | float | None:
    if isinstance(number, int) and abs(number) > SAFE_INTEGER:
        return float(number)
    return number


def summarise(columns: Iterable[Column]) -> list[dict[str, object]]:
    """Every column's summary, in order."""
    return [column.summary() for column in columns]
