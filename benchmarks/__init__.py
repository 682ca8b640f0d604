"""Benchmarks: scripts that print tables of figures, never run as tests.

Every script takes ``--smoke``: a size that runs in seconds, judged only on whether the run worked
(nothing lost, no error answer, every figure present), never on how fast it was, because CI runs
them on a shared, noisy machine.  ``python -m benchmarks --smoke`` runs them all (see
``__main__.py``).  Files whose names start with ``_`` are helpers, not scripts.
"""
from __future__ import annotations

import math
import sys


def absent(figures: dict, *keys: str) -> list[str]:
    """The keys of ``figures`` that are missing, None or NaN: a figure the table should show."""
    out = []
    for k in keys:
        v = figures.get(k)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(f"figure missing: {k}")
    return out


def verdict(problems: list[str]) -> int:
    """The exit status of a run: 1, with each problem on stderr, when anything went wrong."""
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0
