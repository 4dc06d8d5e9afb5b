"""Twenty demo concerns across the demo policies, channels and student groups: one referred with
consent, one with consent to share, one whose retention period has passed (its identity and notes
deleted), some resolved, some in informal resolution, some pointing at an exact passage.

Every name and contact is invented and uses example.org; summaries are written without names, as the
office writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.vocabulary import load_vocabularies
from policyflow.models import Policy, User
from policyflow.resources import workflows_dir
from policyflow.services import concerns, equity, policies
from policyflow.services.actors import Actor


@dataclass(frozen=True)
class DemoConcern:
    days_ago: int
    channel: str
    raised_by: str
    summary: str
    themes: tuple[str, ...]
    subgroups: tuple[str, ...]
    policy: str
    passage: str | None = None  # words of the policy's newest version the concern points at
    name: str | None = None
    contact: str | None = None
    handler: str = "ombuds"  # the demo's ombuds, who is also the ombuds lead
    status: str = "open"  # open | informal_resolution | resolved
    outcome: str | None = None
    note: str | None = None


DEMO_CONCERNS: tuple[DemoConcern, ...] = (
    DemoConcern(12, "phone", "parent_guardian", "A family staying in a motel was asked for a lease before enrollment.",
                ("enrollment",), ("mckinney-vento",), "JFABD", name="Marisol Ortega", contact="m.ortega@example.org",
                status="resolved", outcome="The school enrolled the student the same day; the registrar got the liaison's number.",
                note="Called the registrar with the family's permission."),
    DemoConcern(20, "walk_in", "parent_guardian", "A family living with relatives was told to prove residency within a week.",
                ("enrollment",), ("mckinney-vento", "latinx"), "JFABD", name="Ana Lucía Reyes", status="informal_resolution"),
    DemoConcern(35, "feedback_platform", "community_member", "A shelter volunteer reports that students wait days for bus service.",
                ("transportation",), ("mckinney-vento",), "JFABD"),
    DemoConcern(48, "school_visit", "employee", "A counselor asks who decides the school of origin when a family moves twice.",
                ("enrollment",), ("mckinney-vento", "foster-care"), "JFABD"),
    DemoConcern(9, "phone", "parent_guardian", "A foster parent was told the student must change schools within two days.",
                ("transportation", "enrollment"), ("foster-care",), "JFABE", passage="school of origin",
                name="Gregory Fields", contact="555-0188", status="informal_resolution"),
    DemoConcern(26, "email", "organization", "A foster care agency says records transfer late and classes are missed.",
                ("enrollment",), ("foster-care",), "JFABE", passage="records", name="Riverbend Family Services",
                contact="intake@riverbendfamily.example.org"),
    DemoConcern(60, "walk_in", "student", "A student in foster care was not told who the district's point of contact is.",
                ("communication",), ("foster-care",), "JFABE", status="resolved",
                outcome="The student met the foster care liaison; the school posted the contact in the office."),
    DemoConcern(15, "phone", "parent_guardian", "A parent says the suspension letter was only in English.",
                ("discipline", "language-access"), ("english-learners", "latinx"), "JD", name="Rosa María Cárdenas"),
    DemoConcern(33, "school_visit", "student", "Students describe longer suspensions for the same dress code violation.",
                ("discipline",), ("latinx",), "JD", passage="suspension"),
    DemoConcern(41, "email", "parent_guardian", "A parent of a student with an IEP says a removal was not counted toward the limit.",
                ("discipline", "special-education"), ("special-education",), "JD", name="Daniel Whitaker",
                contact="d.whitaker@example.org", status="informal_resolution"),
    DemoConcern(70, "feedback_platform", "student", "A student reports being misgendered in a discipline hearing record.",
                ("discipline", "bullying"), ("lgbtqia",), "JD"),
    DemoConcern(18, "walk_in", "parent_guardian", "Interpretation was not offered at a meeting about an English learner's services.",
                ("language-access", "communication"), ("english-learners",), "IHBEA", name="Nguyen Thi Lan",
                status="resolved", outcome="The school scheduled a new meeting with an interpreter."),
    DemoConcern(52, "email", "employee", "A teacher reports that newcomer students wait weeks for language screening.",
                ("language-access",), ("english-learners",), "IHBEA"),
    DemoConcern(7, "phone", "student", "A student says reports of homophobic slurs on the bus were not followed up.",
                ("bullying", "transportation"), ("lgbtqia",), "JICFB", passage="report"),
    DemoConcern(29, "school_visit", "parent_guardian", "A parent of a student with a disability says bullying reports go unanswered.",
                ("bullying", "special-education"), ("special-education",), "JICFB", name="Harriet Okonkwo"),
    DemoConcern(84, "feedback_platform", "community_member", "A community group asks how families can see how bullying reports end.",
                ("bullying", "communication"), (), "JICFB"),
    DemoConcern(23, "email", "employee", "An employee says a grievance deadline ran while they were on approved leave.",
                ("employment",), (), "GAE", name="Terrence Bailey", contact="t.bailey@example.org"),
    DemoConcern(45, "phone", "employee", "An employee asks whether a complaint about a supervisor must go through the supervisor.",
                ("employment",), (), "GAE", name="Priscilla Yamamoto"),
    DemoConcern(39, "walk_in", "parent_guardian", "A parent could not find family engagement events in their home language.",
                ("communication", "language-access"), ("english-learners",), "KB"),
    DemoConcern(500, "phone", "parent_guardian", "A family asked why equity data by school is not published.",
                ("communication",), ("economically-disadvantaged",), "ADF", name="Long-ago Caller",
                status="resolved", outcome="The family was shown the district's data dashboard.", note="Old working note."),
)
REFERRED = 16  # index of the employee grievance concern: referred to Employee Relations with consent
CONSENTING = 1  # index of a family who allowed their situation to be shared with the school's registrar
RETENTION_DAYS = 365


def load(session: Session, now: datetime) -> None:
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    words = load_vocabularies(workflows_dir())
    groups = dict(equity.current_definition(workflows_dir()).question("groups").options)
    made = []
    for item in DEMO_CONCERNS:
        actor = users[item.handler]
        link = concerns.PolicyLink(item.policy)
        if item.passage:
            policy = session.scalar(select(Policy).where(Policy.code == item.policy))
            assert policy is not None, item.policy
            text = policies.version_text(session, policy, policies.get_version(session, actor, policy, policy.head_version_number))
            start = text.find(item.passage)
            if start >= 0:
                link = concerns.PolicyLink(item.policy, policy.head_version_number, start, start + len(item.passage))
        when = now - timedelta(days=item.days_ago)
        concern = concerns.record(session, actor, received_on=when.date(), channel=item.channel, raised_by=item.raised_by,
                                  summary=item.summary, themes=list(item.themes), subgroups=list(item.subgroups), name=item.name,
                                  contact=item.contact, links=[link], allowed_themes=words.concern_themes,
                                  allowed_subgroups=groups, now=when + timedelta(hours=1))
        if item.note:
            concerns.add_note(session, actor, concern.id, item.note, now=when + timedelta(hours=2))
        if item.status in ("informal_resolution", "resolved"):
            concerns.set_status(session, actor, concern.id, "informal_resolution", now=when + timedelta(days=1))
        if item.status == "resolved":
            concerns.set_status(session, actor, concern.id, "resolved", outcome=item.outcome, now=when + timedelta(days=3))
        made.append((concern, actor, when))
    concern, actor, when = made[REFERRED]
    consent = concerns.record_consent(session, actor, concern.id, what="The dates of the leave and of the grievance deadline.",
                                      with_whom="Employee Relations", given_on=(when + timedelta(days=1)).date(),
                                      now=when + timedelta(days=1))
    concerns.refer(session, actor, concern.id, target="employee-relations", consent_id=consent.id,
                   shared="An employee's grievance deadline ran during approved leave; dates of both.",
                   allowed_targets=words.referral_targets, now=when + timedelta(days=2))
    concern, actor, when = made[CONSENTING]
    concerns.record_consent(session, actor, concern.id, what="That the family is living with relatives, not their name.",
                            with_whom="The school's registrar", given_on=(when + timedelta(days=1)).date(),
                            now=when + timedelta(days=1))
    # The oldest concern closed more than a year ago: its identity and notes are gone, its facts stay.
    concerns.purge_expired(session, now, RETENTION_DAYS)
