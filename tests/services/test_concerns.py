"""Concerns under the office's principles: sealed identities, consent, the exception path, the informal
path, referrals with consent only, retention, and who may open a concern at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.vocabulary import DEFAULT_CONCERN_THEMES, DEFAULT_REFERRAL_TARGETS
from policyflow.models import ConcernIdentity, ConcernNote, Event, Notification
from policyflow.services import accounts, concerns
from policyflow.services.actors import Actor
from tests.reviewing import NOW, who

SUBGROUPS = ("latinx", "mckinney-vento", "foster-care", "english-learners")
NAME, CONTACT = "Dolores Quintanilla", "dq@example.org"


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    # The demo's ombuds is the ombuds lead; a staff member handling concerns, and one who is neither.
    handler = accounts.create_user(session, Actor.system(), "ombuds2", "demo-password-123", ["ombuds"])
    other = accounts.create_user(session, Actor.system(), "ombuds3", "demo-password-123", ["ombuds"])
    return {"handler": Actor.of(handler), "lead": who(session, "ombuds"), "other": Actor.of(other)}


def new(session: Session, actor: Actor, **extra: object) -> concerns.Concern:
    values: dict[str, object] = dict(received_on=NOW.date(), channel="phone", raised_by="parent_guardian",
                                      summary="A family in a shelter was told to bring a lease to enroll.",
                                      themes=["enrollment"], subgroups=["mckinney-vento"], name=NAME, contact=CONTACT,
                                      links=[concerns.PolicyLink("JFABD")])
    values.update(extra)
    return concerns.record(session, actor, allowed_themes=DEFAULT_CONCERN_THEMES, allowed_subgroups=SUBGROUPS, now=NOW,
                           **values)  # type: ignore[arg-type]


def test_only_ombuds_staff_open_concerns(session: Session, people: dict[str, Actor]) -> None:
    concern = new(session, people["handler"])
    for username in ("admin", "leader1", "reviewer", "stakeholder"):
        with pytest.raises(PermissionDenied):
            new(session, who(session, username))
        with pytest.raises(NotFound):  # not even whether it exists
            concerns.get(session, who(session, username), concern.id)
        with pytest.raises(PermissionDenied):
            concerns.list_concerns(session, who(session, username))
    with pytest.raises(NotFound):
        concerns.get(session, Actor.anonymous(), concern.id)


def test_the_identity_is_sealed_to_the_handler_and_the_lead(session: Session, people: dict[str, Actor]) -> None:
    concern = new(session, people["handler"])
    concerns.add_note(session, people["handler"], concern.id, "Called the school; the registrar will call back.")
    for key in ("handler", "lead"):
        view = concerns.get(session, people[key], concern.id)
        assert not view.sealed and view.identity.name == NAME and len(view.notes) == 1
    other = concerns.get(session, people["other"], concern.id)
    assert other.sealed and other.identity is None and other.notes == [] and other.concern.summary
    with pytest.raises(PermissionDenied):
        concerns.add_note(session, people["other"], concern.id, "Let me look.")
    # The audit trail says what happened, never who or what was said.
    events = session.scalars(select(Event).where(Event.subject == f"concern:{concern.id}").order_by(Event.seq)).all()
    assert [e.action for e in events] == ["concern.recorded", "concern.note_added"]
    assert all(NAME not in str(e.data) and CONTACT not in str(e.data) and "lease" not in str(e.data) for e in events)
    assert all(e.policy_id is None for e in events)  # never on a policy's trail, which other staff read


def test_bad_input_is_refused_and_nothing_is_written(session: Session, people: dict[str, Actor]) -> None:
    before = len(concerns.list_concerns(session, people["handler"]))
    for extra, message in (({"channel": "pigeon"}, "The channel is one of"), ({"raised_by": "cat"}, "Who raised it"),
                           ({"summary": " "}, "Give a summary"), ({"themes": ["astrology"]}, "Unknown themes: astrology"),
                           ({"subgroups": ["nobody"]}, "Unknown student subgroups"),
                           ({"received_on": NOW.date() + timedelta(days=1)}, "cannot be in the future"),
                           ({"links": [concerns.PolicyLink("JFABD", start=5)]}, "both its start and its end"),
                           ({"name": "x" * 201}, "limited to 200"), ({"links": [concerns.PolicyLink("NOPE")]}, "no policy|NOPE")):
        with pytest.raises((InvalidValue, NotFound), match=message):
            new(session, people["handler"], **extra)
    assert len(concerns.list_concerns(session, people["handler"])) == before


def test_a_concern_can_point_at_an_exact_passage(session: Session, people: dict[str, Actor]) -> None:
    from policyflow.services import policies

    policy = policies.get_policy(session, people["handler"], "JFABD")
    text = policies.version_text(session, policy, policies.get_version(session, people["handler"], policy,
                                                                       policy.head_version_number))
    start = text.index("enroll")
    concern = new(session, people["handler"], links=[concerns.PolicyLink("JFABD", start=start, end=start + 6)])
    link = concern.links[0]
    assert link.exact == "enroll" and link.selector["prefix"] == text[max(0, start - 32):start]


def test_the_informal_path(session: Session, people: dict[str, Actor]) -> None:
    concern = new(session, people["handler"])
    concerns.set_status(session, people["handler"], concern.id, "informal_resolution", now=NOW)
    with pytest.raises(InvalidValue, match="how it was resolved"):
        concerns.set_status(session, people["handler"], concern.id, "resolved")
    concerns.set_status(session, people["handler"], concern.id, "resolved", outcome="The school enrolled the student the same day.",
                        now=NOW)
    assert concern.status == "resolved" and concern.closed_at == NOW
    with pytest.raises(Conflict, match="it can go to: informal_resolution"):
        concerns.set_status(session, people["handler"], concern.id, "open")
    with pytest.raises(PermissionDenied):
        concerns.set_status(session, people["other"], concern.id, "informal_resolution")


def test_a_referral_shares_only_what_the_person_allowed(session: Session, people: dict[str, Actor]) -> None:
    concern = new(session, people["handler"])
    with pytest.raises(InvalidValue, match="Choose the consent"):
        concerns.refer(session, people["handler"], concern.id, target="human-resources", shared="The facts.", consent_id=None,
                       allowed_targets=DEFAULT_REFERRAL_TARGETS)
    consent = concerns.record_consent(session, people["handler"], concern.id, what="The enrollment facts, not my name.",
                                      with_whom="Human Resources", given_on=NOW.date(), now=NOW)
    concerns.revoke_consent(session, people["handler"], concern.id, consent.id, now=NOW)
    with pytest.raises(Conflict, match="withdrew that consent"):
        concerns.refer(session, people["handler"], concern.id, target="human-resources", shared="The facts.",
                       consent_id=consent.id, allowed_targets=DEFAULT_REFERRAL_TARGETS)
    again = concerns.record_consent(session, people["handler"], concern.id, what="The enrollment facts, not my name.",
                                    with_whom="Human Resources", given_on=date(2026, 3, 1), now=NOW)
    with pytest.raises(InvalidValue, match="Refer to one of"):
        concerns.refer(session, people["handler"], concern.id, target="the-press", shared="x", consent_id=again.id,
                       allowed_targets=DEFAULT_REFERRAL_TARGETS)
    referral = concerns.refer(session, people["handler"], concern.id, target="human-resources",
                              shared="A shelter family was asked for a lease at enrollment.", consent_id=again.id,
                              allowed_targets=DEFAULT_REFERRAL_TARGETS, now=NOW)
    assert (referral.grounds, referral.shared_with, concern.status) == ("consent", "Human Resources", "referred")


def test_the_exception_path_is_justified_audited_and_told_to_the_lead(session: Session, people: dict[str, Actor]) -> None:
    concern = new(session, people["handler"])
    with pytest.raises(InvalidValue, match="only on these grounds"):
        concerns.disclose_on_exception(session, people["handler"], concern.id, grounds="curiosity", shared="x",
                                       shared_with="y", justification="z")
    with pytest.raises(InvalidValue, match="written justification"):
        concerns.disclose_on_exception(session, people["handler"], concern.id, grounds="imminent_harm", shared="x",
                                       shared_with="y", justification=" ")
    with pytest.raises(PermissionDenied):
        concerns.disclose_on_exception(session, people["other"], concern.id, grounds="imminent_harm", shared="x",
                                       shared_with="y", justification="z")
    concerns.disclose_on_exception(session, people["handler"], concern.id, grounds="imminent_harm",
                                   shared="The student's name and shelter address.", shared_with="Child Protective Services",
                                   justification="The student said they were not safe tonight.", now=NOW)
    told = session.scalars(select(Notification).where(Notification.kind == "concern_exception")).all()
    assert [n.user_id for n in told] == [people["lead"].user.id] and told[0].url == f"/concerns/{concern.id}"
    assert "shelter" not in told[0].message
    event = session.scalars(select(Event).where(Event.action == "concern.exception_disclosure")).one()
    assert event.data["grounds"] == "imminent_harm" and "shelter" not in str(event.data)


def test_retention_deletes_identity_and_notes_and_keeps_the_facts(session: Session, people: dict[str, Actor]) -> None:
    concern = new(session, people["handler"])
    concerns.add_note(session, people["handler"], concern.id, "Spoke with the registrar.")
    concerns.set_status(session, people["handler"], concern.id, "resolved", outcome="Enrolled.", now=NOW)
    assert concerns.purge_expired(session, NOW + timedelta(days=364), retention_days=365) == []
    assert concerns.purge_expired(session, NOW + timedelta(days=366), retention_days=365) == [concern.id]
    assert session.scalars(select(ConcernNote).where(ConcernNote.concern_id == concern.id)).all() == []
    assert session.scalars(select(ConcernIdentity).where(ConcernIdentity.concern_id == concern.id)).all() == []
    kept = concerns.get(session, people["lead"], concern.id).concern
    assert kept.themes == ["enrollment"] and kept.subgroups == ["mckinney-vento"] and kept.links[0].policy.code == "JFABD"
    event = session.scalars(select(Event).where(Event.action == "concern.retention_deleted",
                                                Event.subject == f"concern:{concern.id}")).one()
    assert event.data == {"retention_days": 365} and event.actor == "system"
    with pytest.raises(Conflict, match="retention"):
        concerns.set_status(session, people["handler"], concern.id, "informal_resolution")
    assert concerns.purge_expired(session, NOW + timedelta(days=400), retention_days=365) == []


def test_the_lead_role_comes_with_ombuds(session: Session) -> None:
    with pytest.raises(InvalidValue, match="give the role 'ombuds' too"):
        accounts.create_user(session, Actor.system(), "lonelead", "demo-password-123", ["ombuds_lead"])


def test_a_concerns_passage_follows_the_text_to_a_new_version(session: Session, people: dict[str, Actor]) -> None:
    from policyflow.models import ConcernPlacement
    from policyflow.services import policies
    from tests.conftest import STORE

    policy = policies.get_policy(session, people["handler"], "JFABD")
    head = policy.head_version_number
    text = policies.version_text(session, policy, policies.get_version(session, people["handler"], policy, head))
    phrase = text[text.index("enroll"):text.index("enroll") + 6]
    start = text.index(phrase)
    concern = new(session, people["handler"], links=[concerns.PolicyLink("JFABD", start=start, end=start + len(phrase))])
    policies.save_version(session, people["handler"], STORE, policy, text="# Added first\n\nA new opening paragraph.\n\n" + text,
                          summary="A new opening.", base_version=head)
    placed = session.scalars(select(ConcernPlacement).where(ConcernPlacement.link_id == concern.links[0].id)).one()
    new_text = policies.version_text(session, policy, policies.get_version(session, people["handler"], policy, head + 1))
    assert placed.version_number == head + 1 and placed.status == "exact"
    assert new_text[placed.start:placed.end] == phrase


def test_policy_analysis_counts_without_singling_anyone_out(session: Session, people: dict[str, Actor]) -> None:
    from policyflow.services import policies

    policy = policies.get_policy(session, people["handler"], "JFABD")
    text = policies.version_text(session, policy, policies.get_version(session, people["handler"], policy,
                                                                       policy.head_version_number))
    start = text.index("enroll")
    for n in range(4):
        new(session, people["handler"], themes=["enrollment"] if n else ["enrollment", "transportation"],
            links=[concerns.PolicyLink("JFABD", start=start, end=start + 6)] if n < 2 else [concerns.PolicyLink("JFABD")])
    other = concerns.policy_analysis(session, people["other"], policy)
    assert other.total >= 4 and other.by_theme["enrollment"] >= 4 and other.by_theme["transportation"] >= 1
    assert other.masked and concerns.shown_count(other.by_theme["transportation"], other.masked) == "fewer than 3"
    assert (start, start + 6, 2) in other.passages
    lead = concerns.policy_analysis(session, people["lead"], policy)
    assert not lead.masked and concerns.shown_count(1, lead.masked) == "1"
    with pytest.raises(PermissionDenied):
        concerns.policy_analysis(session, who(session, "leader1"), policy)


def test_the_dashboard_ranks_policies_and_finds_rising_themes(session: Session, people: dict[str, Actor]) -> None:
    before = concerns.dashboard(session, people["other"], NOW.date())
    for days_ago, theme in ((10, "other"), (20, "other"), (30, "other"), (120, "other")):
        new(session, people["handler"], received_on=NOW.date() - timedelta(days=days_ago), themes=[theme])
    board = concerns.dashboard(session, people["other"], NOW.date())
    counted = dict((policy.code, n) for policy, n in board.ranked)
    assert counted["JFABD"] == dict((policy.code, n) for policy, n in before.ranked).get("JFABD", 0) + 4 and board.masked
    assert board.ranked == sorted(board.ranked, key=lambda item: (-item[1], item[0].code))
    rising = {theme: (now, then) for theme, now, then in board.rising}
    assert rising["other"] == (3, 1)  # three in the last 90 days, one in the 90 before
    with pytest.raises(PermissionDenied):
        concerns.dashboard(session, who(session, "admin"), NOW.date())


def test_the_annual_report_counts_by_theme_group_channel_outcome_and_policy(session: Session, people: dict[str, Actor]) -> None:
    before = concerns.annual_report(session, people["handler"], NOW.year)
    new(session, people["handler"], channel="email", themes=["bullying"], subgroups=["latinx"])
    after = concerns.annual_report(session, people["handler"], NOW.year)
    assert after.total == before.total + 1
    assert after.tables["theme"]["bullying"] == before.tables["theme"].get("bullying", 0) + 1
    assert after.tables["subgroup"]["latinx"] >= 1 and after.tables["channel"]["email"] >= 1
    assert after.tables["outcome"]["open"] >= 1 and after.tables["policy"]["JFABD"] >= 1
    with pytest.raises(InvalidValue, match="between 2000 and 2100"):
        concerns.annual_report(session, people["handler"], 1900)
