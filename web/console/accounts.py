"""Review-console accounts: users with Argon2id password hashes, server-side sessions, login throttling.

::

    ConsoleUser 1 ── * ConsoleSession   a signed-in browser (only the SHA-256 of its token is stored)
    LoginThrottle                       consecutive failures per user name and per client address

The tables are declared with the rest of our schema in :mod:`store.models`; this module is the
console's logic over them.

Failed logins are slowed: after ``n`` consecutive failures on a key (a user name, or a
client address) the next attempt on it is refused until ``delay(n)`` seconds have passed,
``base · 2^(n-1)`` capped (see :class:`ThrottlePolicy`). A success clears both keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from store.errors import AccountError, UnknownUserError, UserExistsError
from store.models import USER_NAME_MAX_LENGTH, ConsoleSession, ConsoleUser, LoginThrottle, utcnow

__all__ = [
    "AccountError",
    "AccountStore",
    "LoginResult",
    "SessionInfo",
    "ThrottlePolicy",
    "UnknownUserError",
    "UserExistsError",
    "hash_token",
]

def hash_token(token: str) -> str:
    """The stored form of a session token (SHA-256, hex).

    >>> len(hash_token("abc"))
    64
    """
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ThrottlePolicy:
    """How fast failed logins are slowed down.

    Attributes:
        base_seconds: the wait after the first counted failure.
        cap_seconds: the longest wait.
        free_failures: failures allowed before any wait (per key).
    """

    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    free_failures: int = 0

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures.

        >>> [ThrottlePolicy().delay(n) for n in range(5)]
        [0.0, 1.0, 2.0, 4.0, 8.0]
        >>> ThrottlePolicy(cap_seconds=60).delay(30)
        60.0
        """
        counted = failures - self.free_failures
        if counted <= 0:
            return 0.0
        return float(min(self.cap_seconds, self.base_seconds * 2 ** min(counted - 1, 62)))


@dataclass(frozen=True)
class SessionInfo:
    """A valid session: who, and the form token to check."""

    user_id: int
    user_name: str
    csrf_token: str
    expires_at: float


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt.

    Attributes:
        token: the new session's cookie value (``None`` unless signed in).
        session: the new session.
        retry_after: when refused because of earlier failures, seconds to wait; else ``0``.
        delay: after a failure, the wait now imposed before the next attempt.
    """

    token: str | None = None
    session: SessionInfo | None = None
    retry_after: float = 0.0
    delay: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the user is signed in."""
        return self.token is not None


class AccountStore:
    """Users, sessions and login throttling for the review console.

    Args:
        engine: an engine on our database (the schema must exist: ``create_schema``).
        hasher: the Argon2id hasher (default parameters of ``argon2-cffi``).
        user_policy: slowing of failures per user name.
        client_policy: slowing of failures per client address (more lenient: shared addresses).
        session_seconds: how long a session lasts.
        failure_memory_seconds: failures older than this no longer count (and are deleted).
        clock: epoch seconds (tests pass a fake).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        hasher: PasswordHasher | None = None,
        user_policy: ThrottlePolicy | None = None,
        client_policy: ThrottlePolicy | None = None,
        session_seconds: float = 12 * 3600,
        failure_memory_seconds: float = 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self.user_policy = user_policy or ThrottlePolicy()
        self.client_policy = client_policy or ThrottlePolicy(free_failures=5)
        self.session_seconds = session_seconds
        self.failure_memory_seconds = failure_memory_seconds
        self._now = clock
        self._dummy_hash = self.hasher.hash(secrets.token_hex(8))

    # users -------------------------------------------------------------------------------
    def add_user(self, name: str, password: str) -> None:
        """Create a user.

        Raises:
            AccountError: when the name or password is unacceptable, or the name is taken.
        """
        name = name.strip()
        if not name or len(name) > USER_NAME_MAX_LENGTH or any(c.isspace() for c in name):
            raise AccountError(f"invalid user name {name!r}: 1–{USER_NAME_MAX_LENGTH} characters, no spaces")
        if len(password) < 8:
            raise AccountError("the password must have at least 8 characters")
        with Session(self.engine) as session, session.begin():
            if session.scalar(select(ConsoleUser.id).where(ConsoleUser.name == name)) is not None:
                raise UserExistsError(name)
            session.add(ConsoleUser(name=name, password_hash=self.hasher.hash(password)))

    def remove_user(self, name: str) -> None:
        """Delete a user and sign out all their sessions.

        Raises:
            UnknownUserError: when there is no such user.
        """
        with Session(self.engine) as session, session.begin():
            user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
            if user is None:
                raise UnknownUserError(name)
            session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
            session.delete(user)

    def list_users(self) -> list[tuple[str, datetime, datetime | None]]:
        """Every user: name, created, last login."""
        with Session(self.engine) as session:
            rows = session.execute(select(ConsoleUser.name, ConsoleUser.created_at, ConsoleUser.last_login_at)
                                   .order_by(ConsoleUser.name))
            return [(name, created, last) for name, created, last in rows]

    # login -------------------------------------------------------------------------------
    def wait_before_login(self, name: str, client: str) -> float:
        """Seconds before a login attempt on this name from this client is accepted (``0``: now)."""
        with Session(self.engine) as session:
            return max(self._remaining(session, f"user:{name}", self.user_policy),
                       self._remaining(session, f"client:{client}", self.client_policy))

    def failures(self, key: str) -> int:
        """Consecutive failures recorded on a key (``user:<name>`` or ``client:<address>``)."""
        with Session(self.engine) as session:
            row = session.get(LoginThrottle, key)
            return row.failures if row else 0

    def login(self, name: str, password: str, client: str) -> LoginResult:
        """Check a password and open a session.

        Refused without checking when an earlier failure imposed a wait that has not passed.
        An unknown name costs the same hashing work as a wrong password.
        """
        name = name.strip()[:USER_NAME_MAX_LENGTH]
        wait = self.wait_before_login(name, client)
        if wait > 0:
            return LoginResult(retry_after=wait)
        with Session(self.engine) as session, session.begin():
            user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
            valid = self._verify(user.password_hash if user else None, password)
            if user is None or not valid:
                session.execute(delete(LoginThrottle).where(
                    LoginThrottle.last_failure_at < self._now() - self.failure_memory_seconds))
                user_delay = self._fail(session, f"user:{name}", self.user_policy)
                client_delay = self._fail(session, f"client:{client}", self.client_policy)
                return LoginResult(delay=max(user_delay, client_delay))
            if self.hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self.hasher.hash(password)
            user.last_login_at = utcnow()
            session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([f"user:{name}", f"client:{client}"])))
            now = self._now()
            session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session.add(ConsoleSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf,
                                       created_at=now, expires_at=now + self.session_seconds))
            info = SessionInfo(user.id, user.name, csrf, now + self.session_seconds)
        return LoginResult(token=token, session=info)

    def session(self, token: str | None) -> SessionInfo | None:
        """The valid session of a cookie value, or ``None`` (unknown, expired or no token)."""
        if not token:
            return None
        with Session(self.engine) as session:
            row = session.execute(
                select(ConsoleSession, ConsoleUser.name).join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
                .where(ConsoleSession.token_hash == hash_token(token))
            ).first()
        if row is None:
            return None
        stored, user_name = row
        if stored.expires_at <= self._now():
            return None
        return SessionInfo(stored.user_id, user_name, stored.csrf_token, stored.expires_at)

    def logout(self, token: str | None) -> None:
        """End a session (nothing happens for an unknown token)."""
        if token:
            with Session(self.engine) as session, session.begin():
                session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == hash_token(token)))

    @staticmethod
    def csrf_matches(session: SessionInfo, submitted: str | None) -> bool:
        """Whether a submitted form token is the session's (constant-time comparison)."""
        return bool(submitted) and hmac.compare_digest(session.csrf_token.encode(), str(submitted).encode())

    # internals ---------------------------------------------------------------------------
    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self._dummy_hash, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _remaining(self, session: Session, key: str, policy: ThrottlePolicy) -> float:
        row = session.get(LoginThrottle, key)
        if row is None:
            return 0.0
        return max(0.0, row.last_failure_at + policy.delay(row.failures) - self._now())

    def _fail(self, session: Session, key: str, policy: ThrottlePolicy) -> float:
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=0.0)
            session.add(row)
        row.failures = (row.failures or 0) + 1
        row.last_failure_at = self._now()
        return policy.delay(row.failures)
