"""Named errors raised by the store package.

The hierarchy::

    StoreError                     base of every error ``store`` raises on purpose
    ├── SettingsError              a setting from the environment cannot be used        (also a ValueError)
    ├── StoreUnavailableError      the database stayed unreachable; the work was NOT saved (also a RuntimeError)
    ├── NothingStoredError         nothing at all is stored about a sender                 (also a LookupError)
    ├── AccountError               a console user cannot be created or changed as asked   (also a ValueError)
    │   ├── UserExistsError        the user name is taken
    │   └── UnknownUserError       no user of that name
    ├── InvalidTagError            a review tag that does not match the tag pattern        (also a ValueError)
    └── ExperimentError            an experiment definition that cannot run               (also a ValueError)

Each error keeps the built-in base it had before the tree existed, so a caller that
catches ``ValueError`` (or ``LookupError``, ``RuntimeError``) still catches it; the
boundaries (the ``shopkeeper`` CLI, the actions, the web app) catch :class:`StoreError`.
Every message says what was wrong and with which value.

>>> issubclass(UnknownUserError, StoreError) and issubclass(UnknownUserError, ValueError)
True
>>> str(UnknownUserError("ana"))
"no user named 'ana'"

The modules that raise them import these and re-export them (``web.console.accounts.AccountError``
and so on). ``AccountError`` and ``InvalidTagError`` are raised by the review console's logic, which
lives beside the console in ``web.console``; they stay in this tree because they refuse what would be
written to the console's tables in our schema (``store.models``), and because the web package raises
no errors of its own: it translates these (``web/errors.py``).
"""

from __future__ import annotations

__all__ = [
    "AccountError",
    "ExperimentError",
    "InvalidTagError",
    "NothingStoredError",
    "SettingsError",
    "StoreError",
    "StoreUnavailableError",
    "UnknownUserError",
    "UserExistsError",
]


class StoreError(Exception):
    """Base class of every error raised by ``store``."""


class SettingsError(StoreError, ValueError):
    """A setting from the environment that cannot be used (the message names the variable)."""


class StoreUnavailableError(StoreError, RuntimeError):
    """The database could not be reached, even after retrying; the unit of work was not saved."""

    def __init__(self, what: str, attempts: int, cause: BaseException) -> None:
        super().__init__(f"{what} was NOT saved: the database was unreachable for {attempts} attempts ({cause})")
        self.what = what
        self.attempts = attempts


class NothingStoredError(StoreError, LookupError):
    """Nothing at all is stored about a sender (no customer, interaction or conversation event)."""

    def __init__(self, sender_id: str) -> None:
        super().__init__(f"nothing is stored about the conversation {sender_id!r}")
        self.sender_id = sender_id


class AccountError(StoreError, ValueError):
    """A user cannot be created or changed as asked."""


class UserExistsError(AccountError):
    """The user name is taken."""

    def __init__(self, name: str) -> None:
        super().__init__(f"user {name!r} already exists")


class UnknownUserError(AccountError):
    """No user of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no user named {name!r}")


class InvalidTagError(StoreError, ValueError):
    """A review tag that does not match :data:`web.console.review.TAG_PATTERN`."""

    def __init__(self, tag: str) -> None:
        super().__init__(f"invalid tag {tag!r}: use 1–40 letters, digits, '-' or '_'")
        self.tag = tag


class ExperimentError(StoreError, ValueError):
    """An experiment definition that cannot run (the message says why)."""
