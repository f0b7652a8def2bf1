"""The example page's own Python (own-function.js calls it): plain functions, no Offload task.

The page starts its worker with `modules: ["./mymod.py"]`; the worker fetches this file and
`worker.call("mymod.count_primes", [n])` imports it and calls the function. `progress` is the only
thing it takes from Offload, and natively it does nothing: `python3 -c "import mymod; ..."` works.
"""

from __future__ import annotations

from collections import Counter

from offload import progress


def count_primes(n: int) -> int:
    """How many primes are below `n`, by trial division (slow on purpose: try Cancel)."""
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    found = 0
    for candidate in range(2, n):
        divisor = 2
        while divisor * divisor <= candidate and candidate % divisor:
            divisor += 1
        found += divisor * divisor > candidate
        if candidate % 1024 == 0:
            progress(candidate, n)  # throttled for you: call it as often as you like
    progress(n, n)
    return found


def word_stats(text: str, top: int = 3) -> dict[str, object]:
    """The words of `text` counted: how many, how many distinct, and the `top` most common."""
    words = text.lower().split()
    if not words:
        raise ValueError("word_stats needs some text, got none")
    counts: Counter[str] = Counter()
    for done, word in enumerate(words, 1):
        counts[word] += 1
        progress(done, len(words))
    return {"words": len(words), "distinct": len(counts), "top": counts.most_common(top)}
