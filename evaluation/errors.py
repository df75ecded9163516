"""Named errors raised by the evaluation package.

The hierarchy::

    EvaluationError        base of every error ``evaluation`` raises on purpose
    ├── StackError         a server of the stack did not start (also a RuntimeError)
    └── SuiteError         a conversation suite file is malformed (also a ValueError)

Each keeps the built-in base it had before the tree existed, so older callers keep catching it.

>>> print(SuiteError(["a.yml: conversation 'x' has no turns"]))
invalid conversation suite:
  a.yml: conversation 'x' has no turns
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["EvaluationError", "StackError", "SuiteError"]


class EvaluationError(Exception):
    """Base class of every error raised by ``evaluation``."""


class StackError(EvaluationError, RuntimeError):
    """A server did not start; the message carries the end of its log."""


class SuiteError(EvaluationError, ValueError):
    """A suite file is malformed; the message lists every problem with its file, conversation and turn."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid conversation suite:\n  " + "\n  ".join(self.problems))
