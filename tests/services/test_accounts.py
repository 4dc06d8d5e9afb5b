"""Accounts: hashed passwords, tokens stored hashed and revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotAuthenticated, PermissionDenied
from policyflow.models import ApiToken, User
from policyflow.services import accounts
from policyflow.services.actors import Actor


def test_passwords_are_hashed_with_argon2(session: Session) -> None:
    user = accounts.create_user(session, Actor.system(), "newstaff", "a-long-password", ["reviewer"])
    assert user.password_hash.startswith("$argon2id$")
    assert "a-long-password" not in user.password_hash
    assert accounts.authenticate(session, "NewStaff", "a-long-password").id == user.id
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, "newstaff", "wrong-password")
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, "nobody", "a-long-password")


def test_account_rules(session: Session) -> None:
    with pytest.raises(Conflict):
        accounts.create_user(session, Actor.system(), "ombuds", "a-long-password", ["ombuds"])
    with pytest.raises(InvalidValue, match="Unknown role"):
        accounts.create_user(session, Actor.system(), "x1", "a-long-password", ["superuser"])
    with pytest.raises(InvalidValue, match="at least"):
        accounts.create_user(session, Actor.system(), "x2", "short", ["reviewer"])
    ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
    with pytest.raises(PermissionDenied):
        accounts.create_user(session, ombuds, "x3", "a-long-password", ["admin"])


def test_tokens_are_stored_hashed_and_revocable(session: Session) -> None:
    user = session.scalar(select(User).where(User.username == "reviewer"))
    row, token = accounts.create_token(session, user, "script")
    stored = session.scalar(select(ApiToken).where(ApiToken.id == row.id))
    assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    assert accounts.user_for_token(session, token).id == user.id
    accounts.revoke_token(session, Actor.of(user), row.id)
    assert accounts.user_for_token(session, token) is None
    other = session.scalar(select(User).where(User.username == "leader1"))
    row2, _ = accounts.create_token(session, user, "second")
    with pytest.raises(PermissionDenied):
        accounts.revoke_token(session, Actor.of(other), row2.id)
