"""Errors the engine raises: each names what is wrong and what to do about it."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the recommendation engine raises on purpose."""


class NoCandidateError(EngineError):
    """The constraints (or the offered search space) leave no configuration to choose from."""


class TooManyCandidatesError(EngineError):
    """The constraints (or the offered search space) allow more configurations than the engine will score."""


class InvalidHistoryError(EngineError):
    """A run in the history cannot be used (e.g. a successful run without a positive runtime)."""


class InvalidRequestError(EngineError):
    """An offline request (JSONL line, CSV table) is malformed: the message names the field."""
