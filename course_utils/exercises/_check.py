"""What every checker does with a verdict."""

from __future__ import annotations


class NotYet(AssertionError):
    """The answer is not right yet; the message says what went wrong and gives a hint."""


def passed(what: str) -> None:
    """Print the confirmation for a correct answer."""
    print(f"Correct: {what}")


def fail(problem: str, hint: str) -> None:
    """Raise :class:`NotYet` with the problem and a hint."""
    raise NotYet(f"Not yet. {problem}\nHint: {hint}")
