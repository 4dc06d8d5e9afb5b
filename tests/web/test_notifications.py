"""The notifications inbox: listed, opened, marked read, e-mail switched off."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.models import Notification, User
from tests.conftest import login


def test_inbox_read_and_preferences(client: FlaskClient) -> None:
    login(client, "leader1")
    page = client.get("/notifications").get_data(as_text=True)
    assert "decision needed" in page and "GAE" in page  # the demo's approval stage waits for leadership
    unread = int(re.search(r'class="count-badge">(\d+)', page).group(1))
    first = int(re.search(r"/notifications/(\d+)/read", page).group(1))
    opened = client.post(f"/notifications/{first}/read", data={"open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].startswith("/reviews/")
    page = client.get("/notifications").get_data(as_text=True)
    assert (int(m.group(1)) if (m := re.search(r'class="count-badge">(\d+)', page)) else 0) == unread - 1
    assert client.post("/notifications/read-all").status_code == 302
    page = client.get("/notifications?show=unread").get_data(as_text=True)
    assert "count-badge" not in page and "Nothing here unread" in page
    client.post("/notifications/email", data={})
    assert 'id="email" name="email" checked' not in client.get("/notifications").get_data(as_text=True)


def test_someone_elses_notification_is_not_found(client: FlaskClient) -> None:
    login(client, "leader1")
    mine = int(re.search(r"/notifications/(\d+)/read", client.get("/notifications").get_data(as_text=True)).group(1))
    client.post("/logout")
    login(client, "reviewer")
    assert client.post(f"/notifications/{mine}/read").status_code == 404
    client.post("/logout")
    assert client.get("/notifications").status_code == 302


def test_a_long_unread_inbox_shows_99_plus(client: FlaskClient, session: Session) -> None:
    reviewer = session.scalar(select(User).where(User.username == "reviewer"))
    session.execute(Notification.__table__.update().where(Notification.user_id == reviewer.id).values(read_at=None))
    unread = len(session.scalars(select(Notification.id).where(Notification.user_id == reviewer.id)).all())
    session.add_all(Notification(user_id=reviewer.id, kind="stage_changed", message=f"Stage changed {number}",
                                 url="/reviews") for number in range(99 - unread))
    session.flush()
    login(client, "reviewer")
    assert re.search(r'class="count-badge">99<', client.get("/policies").get_data(as_text=True))
    session.add(Notification(user_id=reviewer.id, kind="stage_changed", message="One more", url="/reviews"))
    session.flush()
    assert re.search(r'class="count-badge">99\+<', client.get("/policies").get_data(as_text=True))
