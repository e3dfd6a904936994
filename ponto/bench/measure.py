"""Small measuring helpers shared by the benchmarks."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
from collections.abc import Iterator, Sequence


def rate(count: int, seconds: float) -> float:
    """Items per second, to one decimal place (0 when nothing was timed)."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    """`numerator / denominator` to three places; None when the denominator is not positive."""
    return round(numerator / denominator, 3) if denominator > 0 else None


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def at_least(value: float | None, target: float) -> bool:
    return value is not None and value >= target


def at_most(value: float | None, target: float) -> bool:
    return value is not None and value <= target


class _NullWriter(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def silenced_stdout() -> Iterator[None]:
    """Send stdout to nowhere, at the Python level and at file descriptor 1.

    Powertools prints an EMF line and a log line per invocation; written to a terminal they would cost
    more than the work being timed. Its logger's stream was bound to sys.stdout when it was created, so
    replacing sys.stdout alone would not catch it: descriptor 1 is pointed at the null device too.
    """
    sys.stdout.flush()
    with contextlib.ExitStack() as stack:
        try:
            saved = os.dup(1)
        except OSError:
            saved = -1
        if saved >= 0:
            null_fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null_fd, 1)
            os.close(null_fd)

            def restore() -> None:
                with contextlib.suppress(ValueError, OSError):
                    sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(saved)

            stack.callback(restore)
        stack.enter_context(contextlib.redirect_stdout(_NullWriter()))
        yield
