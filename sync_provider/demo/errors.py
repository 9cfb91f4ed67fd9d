"""The one error type of the demo: what failed, what to do, and the tail of the log that shows why."""

from __future__ import annotations


class DemoError(Exception):
    """A demo step failed. `hint` says what to do; `log_tail` holds the last lines of the step's log, if any."""

    def __init__(self, message: str, *, hint: str | None = None, log_tail: str | None = None):
        super().__init__(message)
        self.hint = hint
        self.log_tail = log_tail


def tail(text: str, lines: int = 40) -> str:
    """The last `lines` lines of a log, where the reason for a failure usually is."""
    return "\n".join(text.rstrip().splitlines()[-lines:])
