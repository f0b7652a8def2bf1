"""What a CSV summary should say, worked out the plain way: Python's csv module over the whole
decoded text, then int()/float() per value. Tests (native and in the browser) compare against it."""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter


def reference_summary(text: str, delimiter: str = ",") -> dict[str, object]:
    """rows, and per column: name, type, count, missing, min, max, mean, top counts (exact)."""
    records = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row]
    header, body = records[0], records[1:]
    good = [row for row in body if len(row) == len(header)]
    columns = []
    for index, name in enumerate(header):
        values = [row[index] for row in good]
        present = [value for value in values if value.strip()]
        column: dict[str, object] = {
            "name": name or f"column {index + 1}",
            "count": len(present),
            "missing": len(values) - len(present),
        }
        numbers = _numbers(present)
        if not present:
            column["type"] = "empty"
        elif numbers is not None:
            column["type"] = "integer" if all(isinstance(n, int) for n in numbers) else "float"
            column["min"], column["max"] = min(numbers), max(numbers)
            column["mean"] = math.fsum(numbers) / len(numbers)
        else:
            column["type"] = "text"
            column["top"] = Counter(present).most_common()
        columns.append(column)
    return {"rows": len(body), "ragged": len(body) - len(good), "columns": columns}


def _numbers(values: list[str]) -> list[int | float] | None:
    numbers: list[int | float] = []
    for value in values:
        try:
            numbers.append(int(value))
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            if not math.isfinite(number):
                return None
            numbers.append(number)
    return numbers


def realistic_csv(rows: int, seed: int = 0, delimiter: str = ",", newline: str = "\n") -> str:
    """A table people keep: ids, names with commas and quotes, amounts, dates, gaps, unicode."""
    rng = random.Random(seed)
    names = ["Ada", "Grace", 'Alan "the" Turing', "Émilie, du Châtelet", "李白", "Ola\nNordmann"]
    cities = ["Oslo", "Köln", "São Paulo", "Zürich", ""]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["id", "name", "city", "amount", "visits", "joined", "note"])
    for i in range(rows):
        amount = "" if rng.random() < 0.05 else f"{rng.gauss(100, 30):.2f}"
        visits = "" if rng.random() < 0.03 else str(rng.randint(0, 40))
        note = "x" * rng.randint(0, 3) if rng.random() < 0.9 else "long " * 200
        joined = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        writer.writerow([i, rng.choice(names), rng.choice(cities), amount, visits, joined, note])
    return out.getvalue()
