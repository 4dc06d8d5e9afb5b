"""Accounts, passwords (argon2id) and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from policyflow.core.errors import Conflict, InvalidValue, NotAuthenticated, NotFound, PermissionDenied
from policyflow.models import ROLES, ApiToken, User, UserRole
from policyflow.models.base import utcnow
from policyflow.services import audit
from policyflow.services.actors import Actor

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "pf_"  # noqa: S105 - a public prefix that marks our tokens, not a secret
# Verifying against a real hash when the user does not exist keeps timing uniform.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, actor: Actor, username: str, password: str, roles: list[str],
                display_name: str | None = None, email: str | None = None, position: str | None = None) -> User:
    if not (actor.is_system or "admin" in actor.roles):
        raise PermissionDenied("Only administrators can create accounts.")
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidValue("A username is 2-64 lower-case letters, digits, '.', '_' or '-'.")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise InvalidValue(f"Unknown role(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ROLES)}.")
    if "ombuds_lead" in roles and "ombuds" not in roles:
        raise InvalidValue("The ombuds lead is a member of ombuds staff: give the role 'ombuds' too.")
    _check_new_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username {username!r} is taken.")
    position = (position or "").strip() or None
    if position is not None and len(position) > 200:
        raise InvalidValue("A position is at most 200 characters.")
    user = User(username=username, display_name=(display_name or username).strip(), email=email,
                password_hash=hash_password(password), position=position)
    user.role_rows = [UserRole(role=role) for role in sorted(set(roles))]
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", f"user:{username}", data={"roles": sorted(set(roles)), "position": position})
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials, or :class:`NotAuthenticated` (same message either way)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("Unknown username or wrong password.") from None
    if user is None or not user.is_active:
        raise NotAuthenticated("Unknown username or wrong password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


MAX_PASSWORD_LENGTH = 1024


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidValue(f"A password is at most {MAX_PASSWORD_LENGTH} characters.")


def change_password(session: Session, actor: Actor, current: str, new: str, *, revoke_tokens: bool) -> User:
    """The user's own change: every other signed-in session of theirs ends (a new session generation),
    and their API tokens too when they ask, as after a password that may have leaked."""
    user = actor.user
    if user is None:
        raise PermissionDenied("Sign in to change your password.")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("Your current password is not right.") from None  # a failed sign-in: throttled alike
    _check_new_password(new)
    if new == current:
        raise InvalidValue("The new password is the same as the current one.")
    revoked = _set_password(session, actor, user, new, revoke_tokens=revoke_tokens)
    audit.record(session, actor, "user.password_changed", f"user:{user.username}", data={"tokens_revoked": revoked})
    return user


def reset_password(session: Session, actor: Actor, username: str, new: str) -> User:
    """An administrator's reset (the command line): the user's sessions and tokens all end."""
    if not (actor.is_system or "admin" in actor.roles):
        raise PermissionDenied("Only administrators reset other people's passwords.")
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise NotFound(f"There is no user {username!r}.")
    _check_new_password(new)
    revoked = _set_password(session, actor, user, new, revoke_tokens=True)
    audit.record(session, actor, "user.password_reset", f"user:{user.username}", data={"tokens_revoked": revoked})
    return user


def _set_password(session: Session, actor: Actor, user: User, new: str, *, revoke_tokens: bool) -> int:
    user.password_hash = hash_password(new)
    user.session_generation += 1  # every copy of every session cookie of theirs stops working
    revoked = 0
    if revoke_tokens:
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
            revoked += 1
    session.flush()
    return revoked


def user_by_id(session: Session, user_id: int) -> User | None:
    """The user with their roles in one query (every signed-in request starts here)."""
    return session.get(User, user_id, options=[joinedload(User.role_rows)])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the clear token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidValue("A token needs a name of 1-200 characters.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token), prefix=token[:10])
    session.add(row)
    session.flush()
    audit.record(session, Actor.of(user), "token.created", f"user:{user.username}", data={"name": name, "prefix": row.prefix})
    return row, token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    row.last_used_at = utcnow()
    return row.user


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"No token with id {token_id}.")
    if not (actor.is_system or "admin" in actor.roles or (actor.user and actor.user.id == row.user_id)):
        raise PermissionDenied("You can revoke only your own tokens.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor, "token.revoked", f"user:{row.user.username}", data={"prefix": row.prefix})
    return row
