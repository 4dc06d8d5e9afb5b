"""The pinned demo accounts, the demo policy histories, and reviews with their notes and stakeholder comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.config import base_url
from policyflow.core.diffing import DELETE, EQUAL, INSERT, diff
from policyflow.core.vocabulary import load_vocabularies
from policyflow.core.workflow import load_workflow
from policyflow.models import Policy, Review, User
from policyflow.models.base import utcnow
from policyflow.resources import demo_dir, workflows_dir
from policyflow.services import accounts, annotations, comments, decisions, demo_concerns, equity, importer, policies, reviews
from policyflow.services.actors import Actor
from policyflow.services.importer import ImportReport
from policyflow.services.policies import StoreSettings

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the pinned, documented demo password


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    position: str | None = None


DEMO_USERS = (
    DemoUser("admin", "Alex Morgan (Administrator)", ("admin",)),
    DemoUser("ombuds", "Rosa Delgado (Ombuds)", ("ombuds", "ombuds_lead")),  # also the ombuds lead
    DemoUser("reviewer", "Sam Okafor (Legal Reviewer)", ("reviewer",)),
    DemoUser("leader1", "Dr. Priya Raman (Superintendent)", ("leadership",), "Superintendent"),
    DemoUser("leader2", "Marcus Hill (Chief Equity and Social Justice Officer)", ("leadership",),
             "Chief Equity and Social Justice Officer"),
    DemoUser("stakeholder", "Jordan Lee (Parent)", ("stakeholder",)),
)


def is_empty(session: Session) -> bool:
    users = session.scalar(select(func.count()).select_from(User)) or 0
    policy_count = session.scalar(select(func.count()).select_from(Policy)) or 0
    return users == 0 and policy_count == 0


def load(session: Session, settings: StoreSettings) -> ImportReport:
    """Create the demo users and import the demo policies (their full revision histories)."""
    system = Actor.system()
    for demo_user in DEMO_USERS:
        accounts.create_user(session, system, demo_user.username, DEMO_PASSWORD, list(demo_user.roles),
                             display_name=demo_user.display_name, position=demo_user.position,
                             email=f"{demo_user.username}@riverbend.example.org")
    files = importer.read_directory(demo_dir() / "policies", settings.max_text_bytes)
    report = importer.import_files(session, system, settings, files)
    now = utcnow()
    _demo_reviews(session, now)
    _demo_notes(session)
    _demo_review_dates(session, now)
    demo_concerns.load(session, now)
    return report


# Published policies' next review dates, relative to the day the demo is loaded: one overdue, one due soon
# (the worker starts periodic reviews within POLICYFLOW_PERIODIC_REVIEW_LEAD_DAYS), the rest years ahead.
DEMO_REVIEW_DATES = {"IHBEA": -12, "ADF": 40, "AC": 420, "DJE": 610, "JFABD": 800}
DEMO_OWNERS = {"ADF": "leader2"}  # the Chief Equity and Social Justice Officer answers for the equity policy


def _demo_review_dates(session: Session, now: datetime) -> None:
    for code, days in DEMO_REVIEW_DATES.items():
        policy = session.scalar(select(Policy).where(Policy.code == code))
        if policy is not None and policy.published_version_number is not None:
            policy.next_review_date = (now + timedelta(days=days)).date()
    for code, username in DEMO_OWNERS.items():
        policy = session.scalar(select(Policy).where(Policy.code == code))
        owner = session.scalar(select(User).where(User.username == username))
        if policy is not None and owner is not None:
            policy.owner_id = owner.id
    session.flush()


def _demo_reviews(session: Session, now: datetime) -> None:
    """Reviews in every stage of the standard workflow, one of them overdue, each with a history; equity
    assessments (complete for every review past the equity review, in progress for JICFB); stakeholder
    comments on the open comment period (JFABE) and on the one that closed (GAE), all of those answered."""
    definition = load_workflow(workflows_dir() / "standard-review.yaml")
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    ombuds, leader, equity_officer = users["ombuds"], users["leader1"], users["leader2"]

    def begin(code: str, started: datetime, **dates: date) -> int:
        policy = session.scalar(select(Policy).where(Policy.code == code))
        assert policy is not None, code
        return reviews.start_review(session, ombuds, policy, definition, now=started, **dates).id

    def step(review_id: int, actor: Actor, action: str, when: datetime, note: str = "") -> None:
        reviews.perform_action(session, actor, review_id, action, note, now=when)

    def decide(review_id: int, actor: Actor, when: datetime, decision: str, note: str = "") -> None:
        review = session.get(Review, review_id)
        assert review is not None
        decisions.decide(session, actor, review_id, decision=decision, version=review.version_number, note=note, now=when)

    # KB: a draft being prepared.
    begin("KB", now - timedelta(days=3))
    # JICFB: in equity review for 30 days (due after 21): overdue.
    review = begin("JICFB", now - timedelta(days=34))
    step(review, ombuds, "submit_for_equity_review", now - timedelta(days=30))
    _demo_assessment(session, review, "JICFB", now - timedelta(days=26), complete=False)
    # JFABE: open for stakeholder comment.
    review = begin("JFABE", now - timedelta(days=20), comment_opens_on=(now - timedelta(days=5)).date(),
                   comment_closes_on=(now + timedelta(days=25)).date())
    step(review, ombuds, "submit_for_equity_review", now - timedelta(days=19))
    _demo_assessment(session, review, "JFABE", now - timedelta(days=12))
    step(review, ombuds, "open_comment_period", now - timedelta(days=5),
         "Equity review done with the Family Engagement and Special Education reviewers.")
    _demo_comments(session, review, JFABE_COMMENTS, first=now - timedelta(days=5) + timedelta(hours=1),
                   last=now - timedelta(hours=2), answered=now - timedelta(minutes=30))
    # GAE: comment period over, waiting for leadership.
    review = begin("GAE", now - timedelta(days=70), comment_opens_on=(now - timedelta(days=45)).date(),
                   comment_closes_on=(now - timedelta(days=15)).date())
    step(review, ombuds, "submit_for_equity_review", now - timedelta(days=68))
    _demo_assessment(session, review, "GAE", now - timedelta(days=60))
    step(review, ombuds, "open_comment_period", now - timedelta(days=45))
    # Every comment answered (or hidden with a reason) before the period could close.
    _demo_comments(session, review, GAE_COMMENTS, first=now - timedelta(days=44), last=now - timedelta(days=16),
                   answered=now - timedelta(days=15))
    step(review, ombuds, "close_comment_period", now - timedelta(days=14), "All comments have a response.")
    decide(review, leader, now - timedelta(days=10), "approve")  # one approval of the two needed
    # JD: its current version went through the whole review in 2021.
    adopted = datetime(2021, 8, 22, 15, tzinfo=UTC)
    review = begin("JD", adopted - timedelta(days=90), comment_opens_on=(adopted - timedelta(days=50)).date(),
                   comment_closes_on=(adopted - timedelta(days=20)).date())
    step(review, ombuds, "submit_for_equity_review", adopted - timedelta(days=85))
    _demo_assessment(session, review, "JD", adopted - timedelta(days=70))
    step(review, ombuds, "open_comment_period", adopted - timedelta(days=50))
    step(review, ombuds, "close_comment_period", adopted - timedelta(days=19))
    decide(review, leader, adopted - timedelta(days=9), "approve")
    decide(review, equity_officer, adopted - timedelta(days=2), "approve")
    reviews.perform_action(session, leader, review, "publish", "Adopted by the Board of Education.", now=adopted,
                           effective_date=date(2021, 8, 23))
    # AC: a review withdrawn when state guidance changed.
    review = begin("AC", now - timedelta(days=60))
    step(review, ombuds, "withdraw", now - timedelta(days=40), "Paused until the new state nondiscrimination guidance is out.")


def _demo_notes(session: Session) -> None:
    """Notes of every visibility and status on the policies under review; some made on the
    previous version and carried over by re-anchoring, among them edited and orphaned ones."""
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    for code in ("KB", "JICFB", "JFABE", "GAE"):
        policy = session.scalar(select(Policy).where(Policy.code == code))
        assert policy is not None, code
        head = policy.head_version_number
        old_text = _text(session, policy, head - 1)
        new_text = _text(session, policy, head)
        for target, body, username, visibility in _passages_on_previous(old_text, new_text):
            annotations.create(session, users[username], policy, head - 1, target=target, body=body, visibility=visibility,
                               tags=["clarity"] if visibility == "internal" else ["equity"])
        annotations.place_on_new_version(session, policy, head - 1, old_text, head, new_text)
        paragraphs = [p for p in new_text.split("\n\n") if len(p) > 120 and not p.startswith(("#", "|"))]
        notes = (
            ("ombuds", "confidential", "A family raised this with the ombuds office in confidence; keep their name out of "
             "the review.", ["family-impact"], False),
            ("reviewer", "internal", "Legal should confirm this timeline against state law before the equity review.",
             ["legal", "timeline"], code == "KB"),
            ("reviewer", "public", "Plain-language suggestion: say who to call and how quickly they will answer.",
             ["clarity"], False),
        )
        for index, (username, visibility, body, tags, blocking) in enumerate(notes):
            paragraph = paragraphs[index % len(paragraphs)]
            quote = " ".join(paragraph.split(" ")[:8])
            start = new_text.index(quote)
            note = annotations.create(session, users[username], policy, head, target={"start": start, "end": start + len(quote)},
                                      body=body, visibility=visibility, tags=tags, blocking=blocking)
            if index == 2:
                annotations.reply(session, users["ombuds"], note.id, "Agreed; the next draft will add the phone line.")
                annotations.set_status(session, users["ombuds"], note.id, "resolved")


def _text(session: Session, policy: Policy, number: int) -> str:
    system = Actor.system()
    return policies.version_text(session, policy, policies.get_version(session, system, policy, number))


def _passages_on_previous(old: str, new: str) -> list[tuple[dict[str, int], str, str, str]]:
    """Passages of the previous version: one unchanged, one reworded, one deleted (if the edit has them)."""
    found: list[tuple[dict[str, int], str, str, str]] = []
    position = 0
    ops = diff(old, new)
    kept = edited = deleted = False
    for index, (op, chunk) in enumerate(ops):
        if op == EQUAL and not kept and len(chunk) > 200:
            middle = position + len(chunk) // 2
            start = old.rfind(" ", position, middle) + 1
            end = old.find(" ", start + 40)
            if 0 < start < end <= position + len(chunk):
                found.append(({"start": start, "end": end}, "This commitment should stay as written.", "reviewer",
                              "internal"))
                kept = True
        elif op == DELETE and not deleted and len(chunk.strip()) > 40 and chunk.strip()[:40] not in new:
            start = position + len(chunk) - len(chunk.lstrip())
            end = start + min(len(chunk.strip()), 120)
            found.append(({"start": start, "end": end}, "Is removing this intended? Families relied on it.", "ombuds",
                          "confidential"))
            deleted = True
        elif (op == DELETE and not edited and 0 < len(chunk) <= 30 and index > 0 and ops[index - 1][0] == EQUAL
              and len(ops[index - 1][1]) > 30 and index + 1 < len(ops) and ops[index + 1][0] == INSERT):
            start = old.rfind(" ", position - 30, position) + 1
            end = old.find(" ", position + len(chunk) + 15)
            if 0 < start < position and end > position + len(chunk):
                found.append(({"start": start, "end": end}, "The wording here changed; check it still says what we meant.",
                               "reviewer", "public"))
                edited = True
        if op != INSERT:
            position += len(chunk)
    return found


# ---------------------------------------------------------------------------------------------
# Stakeholder comments
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoComment:
    """One demo comment: who sent it and how, and what the ombuds office did with it."""

    body: str
    identity: str  # public, confidential or anonymous
    category: str | None
    name: str | None = None
    email: str | None = None
    passage: str | None = None  # words quoted from the draft under review (an anchored comment)
    filed_via: str | None = None  # ombuds staff filed it for someone who called or wrote in
    account: str | None = None  # a demo user commenting signed in
    disposition: str | None = None
    response: str = ""
    hidden: str = ""  # why ombuds staff hid it
    disclosed: bool = False  # a confidential commenter who later allowed their name to be shown


# A form letter the Riverbend Foster and Kinship Families Network circulated: the same words with a
# different signature, a sentence added or a word changed (one near-duplicate group on the triage page).
_FORM_LETTER = (
    "I am writing about Policy JFABE, Educational Rights of Students in Foster Care. Please keep the promise that a "
    "student in foster care stays in the school of origin while the best interest determination is pending, and make "
    "sure that transportation really starts within five school days. The draft says that the additional cost of "
    "transportation across District boundaries shall be shared equally with the county. Our children cannot wait while "
    "two agencies argue about a bus bill. The District should pay up front and settle the cost with the county "
    "afterwards, so that no child misses a single day of school. Every move already costs these children their friends, "
    "their teachers and their routines. Please do not let it cost them their school too."
)



def _letter(signature: str, name: str | None, email: str | None, *, identity: str = "public",
            category: str = "parent_guardian", filed_via: str | None = None, change: tuple[str, str] = ("", "")) -> DemoComment:
    body = _FORM_LETTER.replace(*change, 1) if change[0] else _FORM_LETTER
    return DemoComment(f"{body}\n\n{signature}", identity, category, name, email, filed_via=filed_via)


JFABE_COMMENTS: tuple[DemoComment, ...] = (
    DemoComment(
        "Ten school days is a long time for a child who has just been moved, sometimes in the middle of the night. During "
        "those ten days the child still has to get to the school of origin, but this section does not say who drives. Last "
        "spring our foster son missed most of two weeks while the paperwork went back and forth between the county and the "
        "school. Please say that transportation starts the first school day after the District learns of the placement, "
        "not after the determination.",
        "public", "parent_guardian", "Angela Whitfield", "angela.whitfield@example.org",
        passage="The determination shall be completed within ten (10) school days of the District receiving notice of a new "
                "placement or change in placement.",
        disposition="partially_accepted",
        response="The draft already requires interim transportation until regular transportation begins (see "
                 "Transportation). The next draft moves that sentence into School Stability so it is clear that it applies "
                 "from the first school day after the District learns of the placement. The ten-day limit stays: the county "
                 "needs that time to bring the caseworker and the education decision-maker together."),
    DemoComment(
        "I have been in foster care since I was 12 and I am a junior now. The list says \"the student's preference\" but "
        "in three placements nobody ever asked me. Can the policy say the Point of Contact has to talk to the student "
        "alone, before the meeting, and write down what we said? Students should be able to come to the meeting too if "
        "we want to.",
        "public", "student", "Destiny Howard", None, passage="the student's preference;",
        disposition="accepted",
        response="Thank you for telling us. The next draft requires the Point of Contact to ask the student privately, before "
                 "the meeting, what they want, to record the answer in the determination, and to invite students aged 12 "
                 "and older to the meeting."),
    DemoComment(
        "Please keep this part exactly as it is. At my last placement the family did not know I am trans, and school was "
        "the only place where people used my real name. If the school had told them I would have lost that placement too.",
        "anonymous", "student",
        passage="Schools shall use the name and pronouns a student in foster care asks staff to use"),
    DemoComment(
        "I am a parent whose children are in care right now. I am working my case plan and I still hold education rights "
        "for my son, but I have never been invited to a best interest meeting. The policy should say how parents are told "
        "about the meeting, in what language, and that we can join by phone when we cannot get time off work.",
        "confidential", "parent_guardian", "Rebecca Lindqvist", "rebecca.lindqvist@example.org",
        passage="the preference of the student's parents or education decision-maker;",
        disposition="accepted",
        response="The next draft says the Point of Contact invites the parents and the education decision-maker in writing, "
                 "in their home language, at least two school days before the meeting, and offers to let them join by "
                 "phone or video."),
    DemoComment(
        "I support this, but counselors at Riverbend High have caseloads over 400 students. \"Connected with\" needs to "
        "mean something: a check-in at least once a month, and a warm hand-off to the new school's counselor when a "
        "student has to change schools. Otherwise it becomes a name on a form.",
        "public", "employee", "Marcus Bell", "marcus.bell@example.org",
        passage="ensure that each student in foster care is connected with a school counselor or other trusted adult",
        disposition="partially_accepted",
        response="The next draft adds a monthly check-in and a hand-off to the receiving school's counselor when a student "
                 "changes schools. Counselor caseloads are set in the budget, not in this policy, so that part is outside "
                 "this review; we have passed your comment to Student Services."),
    _letter("Sincerely,\nMaria Lopez", "Maria Lopez", "maria.lopez@example.org"),
    DemoComment(
        "I work in the transportation office. Five school days is possible for routes inside the District. Across "
        "District lines it usually takes longer, because we need the other district or a contracted van. In the "
        "meantime we use taxis, which is expensive but works. Please keep the interim transportation sentence: it is "
        "what lets us say yes the same day.",
        "confidential", "employee", "Tanya Brooks", "tanya.brooks@example.org",
        passage="Transportation shall begin within five (5) school days of the best interest determination"),
    DemoComment(
        "The Riverbend Foster and Kinship Families Network represents about 140 foster and kinship households in the "
        "District. We welcome the 2024 agreement with the county, but an equal split of cross-boundary costs invites "
        "exactly the delays the policy forbids: every invoice becomes a negotiation. We ask the District to (1) pay "
        "cross-boundary transportation in full and bill the county's share afterwards, (2) publish each year how many "
        "students used school-of-origin transportation and how long it took to start, and (3) name a single phone "
        "number caregivers can call when a ride does not show up.",
        "public", "organization", "Gloria Estrada, Riverbend Foster and Kinship Families Network", "gloria.estrada@example.org",
        passage="the additional cost of transportation across District boundaries shall be shared equally"),
    DemoComment(
        "We support this sentence; it matches the federal guidance. Please add that when the court has appointed a CASA "
        "volunteer or a guardian ad litem, that person is invited to the best interest determination. Our volunteers "
        "often know the child's school history better than anyone else at the table.",
        "public", "organization", "Helen Park, CASA of Riverbend County", "helen.park@example.org",
        passage="The child welfare agency shall have the final decision if the parties cannot agree.",
        disposition="accepted",
        response="The next draft adds the court-appointed special advocate or guardian ad litem, where there is one, to the "
                 "people invited to the best interest determination."),
    DemoComment(
        "Why should Riverbend taxpayers pay to bus children to schools in other districts? The county placed them there, "
        "so the county should pay all of it.",
        "anonymous", "community_member",
        passage="the additional cost of transportation across District boundaries shall be shared equally",
        disposition="not_accepted",
        response="Federal law (the Every Student Succeeds Act) requires the District and the child welfare agency to agree "
                 "how transportation to the school of origin is provided and paid for, and to keep the student there while "
                 "that is settled. The equal split follows the 2024 local agreement with the county."),
    _letter("Thank you,\nDaniel Okoye", "Daniel Okoye", "d.okoye@example.org"),
    DemoComment(
        "Annual training is good, but the front office needs it most. Registrars and office managers are the ones who "
        "tell a foster parent \"come back when you have the records\". Please name them in the training requirement, "
        "and include substitutes who cover the front desk.",
        "public", "employee", "Jennifer Nakamura", "jennifer.nakamura@example.org", passage="provide annual training to school staff.",
        disposition="accepted",
        response="The next draft names registrars, office managers and front-desk substitutes among the staff trained each "
                 "year, and asks for the training before the first day of school."),
    DemoComment(
        "Caller is a grandmother raising two grandchildren in a kinship placement. The school asked her for guardianship "
        "papers she does not have before it would enroll the younger child, and he stayed home for a week. She asks that "
        "the policy say a kinship caregiver can enroll a child with the placement letter from the caseworker. She does "
        "not use e-mail and asked for a call back.",
        "confidential", "parent_guardian", "Dolores Ramírez", None, filed_via="phone",
        passage="the student shall be immediately enrolled in the new school, even if the student is unable to produce records "
                "normally required for enrollment",
        disposition="accepted",
        response="The next draft says a foster parent or kinship caregiver may enroll a student with the caseworker's "
                 "placement letter; no guardianship papers are needed. The ombuds office called the caregiver back."),
    DemoComment(
        "Our church runs a clothing closet and a tutoring night for foster families. The policy is good, but families "
        "never hear about what the community already offers. Could the Point of Contact keep a list of community "
        "supports and hand it out at enrollment?",
        "public", "community_member", "Rev. Samuel Adeyemi", "pastor.adeyemi@example.org"),
    DemoComment(
        "A teacher once said in front of the whole class that my \"foster mom\" had to sign the permission slip. Everybody "
        "knew after that. Please make it clear that this includes things said in class, not only records.",
        "anonymous", "student", passage="Staff shall not disclose a student's foster care status to other students or families.",
        disposition="accepted",
        response="The next draft adds examples: staff do not mention a student's foster care status in class, on permission "
                 "slips or in messages to other families."),
    _letter("Bernice Walker", "Bernice Walker", None,
            change=("Please keep the promise", "As a grandmother raising two grandsons, I ask you to keep the promise")),
    DemoComment(
        "The policy is long. Can there be a one-page version for families, in Spanish and Vietnamese too?",
        "anonymous", None,
        disposition="out_of_scope",
        response="A summary and translations are not part of the policy text itself. When the policy is adopted, the Office "
                 "of Student and Family Support will publish a one-page guide in the District's five most common home "
                 "languages."),
    DemoComment(
        "My foster son Tyler Brennan is in Ms. Alvarez's third grade class at Lincoln Elementary. He has an IEP for ADHD and "
        "came to us in March after his mother was arrested. The school still has not sent his records to the new school "
        "and nobody returns my calls. This policy needs teeth.",
        "public", "parent_guardian", "Craig Dunmore", "craig.dunmore@example.org",
        passage="the school of origin shall send them within two (2) school days of the request",
        hidden="Personal information about a student (name, school, disability and family circumstances). The ombuds office "
               "has contacted the commenter, who may send the comment again without those details."),
    DemoComment(
        "As a principal I worry about the suspension consult. When a student is a danger to others I cannot wait for the "
        "Point of Contact to call back. Please say that in an emergency the consult can happen the same day, after the "
        "student is sent home.",
        "anonymous", "employee",
        passage="before imposing an out-of-school suspension on a student in foster care, the principal shall consult with the "
                "Point of Contact and notify the student's caseworker",
        disposition="partially_accepted",
        response="For an emergency removal under Policy JD the principal may act first and consult the Point of Contact the "
                 "same day; the next draft says so. For any other suspension the consult still comes first."),
    _letter("Karen and Tom Becker", "Karen Becker", "karen.becker@example.org", identity="confidential",
            change=("their school too.", "their school too. Our foster daughter changed schools three times in one year "
                                         "before she came to us.")),
    DemoComment(
        "Caller drove a Riverbend school bus for 22 years. He says cross-district taxis cost more than a small District "
        "van would, and that drivers who know the children make the long ride easier. He asks the District to run its own "
        "vans for school-of-origin trips.",
        "public", "community_member", "Harold Jensen", None, filed_via="phone"),
    DemoComment(
        "We went through a dispute last year. Our foster daughter stayed at her school, which was right, but nobody told "
        "us we could ask for the meeting in writing, and nobody told us about the appeal to the Superintendent. Please "
        "require the District to give every party the written dispute process at the end of the determination.",
        "confidential", "parent_guardian", "Yolanda Pierce", "yolanda.pierce@example.org",
        passage="the student shall remain in the school of origin until the dispute is resolved",
        disposition="accepted",
        response="The next draft requires the Point of Contact to give every party a written explanation of the dispute "
                 "process, including the appeal to the Superintendent, when the determination is made.",
        disclosed=True),
    DemoComment(
        "I rode 70 minutes each way for a year to stay at my school. It was worth it, but I could not stay for practice "
        "because the van left at 3:10. Transportation should cover after-school activities too, or the policy keeps us "
        "in the school but out of everything else.",
        "public", "student", "Jaylen Carter", "jaylen.carter@example.org", passage="the impact of commute time on the student;"),
    _letter("A foster parent in Riverbend", None, None, identity="anonymous",
            change=("Our children cannot wait", "Our kids cannot wait")),
    DemoComment(
        "\"Trauma-informed practices\" is used everywhere and means different things in every building. Please define it, "
        "or point to the District's framework, and make sure the training is paid time for staff.",
        "public", "employee", "Dr. Alicia Moreno", "alicia.moreno@example.org", passage="Schools shall use trauma-informed practices"),
    DemoComment(
        "Thank you for writing this in plain English. It is the first District policy I have read to the end.",
        "anonymous", "community_member"),
    DemoComment(
        "Two days is fine on paper, but special education records take weeks to arrive. Ask the school of origin to send "
        "the IEP and the behavior plan first, on the same day, and the rest within two days.",
        "confidential", "parent_guardian", "Kevin O'Neill", "kevin.oneill@example.org",
        passage="the school of origin shall send them within two (2) school days of the request"),
    DemoComment(
        "We strongly support this sentence. LGBTQIA+ youth are removed from placements after being outed far more often "
        "than their peers. Please also list what \"affirming supports\" means: a GSA, a named staff member, and referral "
        "to community organizations such as ours.",
        "public", "organization", "Sam Whitaker, Riverbend Pride Youth Alliance", "sam.whitaker@example.org",
        passage="shall not disclose a student's sexual orientation or gender identity to a caregiver or placement without the "
                "student's consent unless required by law"),
    _letter("Luis Ortega, foster parent since 2016", "Luis Ortega", None, category="community_member", filed_via="letter"),
    DemoComment(
        "I am a county caseworker. The monthly list is useful, but please say how it is shared: through the secure "
        "transfer site, not as an e-mail attachment. Last year a list went to the wrong school.",
        "confidential", "community_member", "Patricia Gomez", "patricia.gomez@example.org",
        passage="maintain a list of students in foster care that is updated with the child welfare agency at least monthly"),
    DemoComment(
        "I'm glad the ombuds section is there. Please add the office's phone number and say that families can call in "
        "their own language.",
        "public", "parent_guardian", account="stakeholder",
        passage="may consult the Office of the Organizational Ombuds for informal, confidential help with school-related concerns"),
    DemoComment(
        "Caller, a school secretary who asked not to be named, says the monthly list of students in foster care is "
        "e-mailed as a spreadsheet to everyone in the front office. She asks that the policy limit who receives it.",
        "anonymous", "employee", filed_via="phone",
        passage="Information about a student's foster care status and placement is confidential.",
        disposition="accepted",
        response="The next draft says the list goes only to the principal, the counselor and the registrar of the student's "
                 "school, through the District's secure file transfer."),
    DemoComment(
        "Families ask me to interpret at these meetings with no notice. The determination letter should be translated, "
        "and an interpreter booked ahead of time, not found in the hallway.",
        "public", "community_member", "Nguyen Thi Lan", "lan.nguyen@example.org"),
    DemoComment(
        "The policy does not say anything about partial credits when we change schools in the middle of a semester. I "
        "lost a whole semester of math because my new school would not take my grades.",
        "confidential", "student", "Aaliyah Thompson", "aaliyah.thompson@example.org"),
    DemoComment(
        "Please make sure the determination looks at whether the new school can actually deliver the IEP services, not "
        "only whether it has a program on paper. Our members have seen students lose speech and occupational therapy "
        "for months after a move.",
        "public", "organization", "Monique Dubois, Riverbend Special Education PTA", "monique.dubois@example.org",
        passage="including special education and English learner services"),
    _letter("With hope,\nPriya and Arjun Menon", "Priya Menon", "priya.menon@example.org"),
)

GAE_COMMENTS: tuple[DemoComment, ...] = (
    DemoComment(
        "I support the pause. Fifteen working days is often not enough when a mediation has to be scheduled around the "
        "school calendar. Can the pause be extended once by agreement?",
        "public", "employee", "Denise Harper", "denise.harper@example.org",
        passage="the time limits in this policy are paused for up to fifteen (15) working days",
        disposition="partially_accepted",
        response="The pause can already be extended by mutual written agreement under Time Limits. The final text will point "
                 "to that section from here."),
    DemoComment(
        "The Association supports removing the requirement to go to the immediate supervisor first, and the option to "
        "consult the Ombuds. We remind the District that grievances under our contract follow the contract, and ask that "
        "this section stay exactly as written.",
        "public", "organization", "Tom Kessler, Riverbend Education Association", "tom.kessler@example.org",
        passage="grievances concerning the interpretation or application of that agreement shall be processed under the "
                "agreement and not under this policy",
        disposition="accepted",
        response="Agreed. The section on collective bargaining agreements stays as written."),
    DemoComment(
        "I am afraid that telling HR about the pause tells my supervisor I went to the Ombuds. Please say exactly what the "
        "confirmation contains, and that it does not name the department or the supervisor.",
        "confidential", "employee", "Michael Chen", "michael.chen@example.org",
        passage="The Ombuds shall confirm the start and end of the pause to the Department of Human Resources without "
                "disclosing the nature of the concern.",
        disposition="accepted",
        response="The final text says the confirmation gives only the employee's name and the dates the pause starts and "
                 "ends, and that Human Resources does not share it with the employee's supervisors."),
    DemoComment(
        "Thirty working days to file at Level One is too short when you are dealing with a bad supervisor and trying to "
        "keep your job.",
        "anonymous", "employee",
        passage="within thirty (30) working days of the event giving rise to the grievance",
        disposition="not_accepted",
        response="Thirty working days is about six weeks, longer than in most neighboring districts. The Ombuds pause and "
                 "extensions by mutual agreement give more time where it is needed, so the limit stays."),
    DemoComment(
        "Caller works as a custodian and asked that the grievance form be available on paper in Spanish at every building, "
        "because not everyone on the night shift uses the electronic form.",
        "confidential", "employee", "Gloria Mendez", None, filed_via="phone",
        passage="Grievances and appeals may be filed on paper or through the District's electronic grievance form",
        disposition="partially_accepted",
        response="Human Resources will keep paper forms in English and Spanish in every building's main office. Where forms "
                 "are kept is set by regulation, not in the policy text."),
    DemoComment(
        "Why may the Board simply decline to hear an appeal? An employee who went through two levels deserves a hearing.",
        "public", "community_member", "Richard Vance", "richard.vance@example.org",
        passage="The Board may review the record, hold a hearing, or decline to hear the appeal.",
        disposition="not_accepted",
        response="The Board reads the record of every appeal before deciding whether to hold a hearing, and the earlier "
                 "levels each include a meeting with the grievant. The wording follows the state school boards' model policy."),
    DemoComment(
        "My supervisor, Mr. Dale Forsythe in Facilities, has retaliated against three of us who filed grievances last "
        "year. Everyone in the department knows it.",
        "public", "employee", "Anthony Russo", "anthony.russo@example.org",
        hidden="Names another employee and describes a personnel matter. The ombuds office has offered the commenter a "
               "confidential consultation."),
    DemoComment(
        "Parents have grievances too. Where is our process?",
        "anonymous", "parent_guardian",
        disposition="out_of_scope",
        response="This policy covers District employees. Complaints by families are handled under the District's public "
                 "complaints policy, and the ombuds office helps families as well."),
    DemoComment(
        "Please say that the representative can be a co-worker, not only a union representative or a lawyer.",
        "confidential", "employee", "Shirley Okafor", "s.okafor@example.org", filed_via="email",
        passage="a representative of the grievant's choosing",
        disposition="not_accepted",
        response="No change is needed: \"a representative of the grievant's choosing\" already includes a co-worker."),
    DemoComment(
        "Five years is shorter than the state records schedule for personnel matters. Please check it.",
        "public", "employee", "Sarah Lindgren", "sarah.lindgren@example.org",
        passage="shall be retained for five (5) years after the final decision",
        disposition="not_accepted",
        response="Legal counsel checked the state schedule: grievance files kept apart from the personnel file must be kept "
                 "for five years after the final decision, so the text stays."),
)


def _demo_comments(session: Session, review_id: int, items: tuple[DemoComment, ...], *, first: datetime, last: datetime,
                   answered: datetime) -> None:
    """Submit ``items`` evenly between ``first`` and ``last``; answer, hide and disclose them at ``answered``
    (or a day after they came in, when that is earlier)."""
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    ombuds = users["ombuds"]
    review = reviews.get_review(session, ombuds, review_id)
    text = _text(session, review.policy, review.version_number)
    categories = load_vocabularies(workflows_dir()).comment_categories
    link_base = base_url()  # the e-mails telling commenters about a response link to the public report
    step = (last - first) / max(1, len(items) - 1)
    for index, item in enumerate(items):
        when = first + step * index
        target = None
        if item.passage is not None:
            start = text.index(item.passage)
            target = {"start": start, "end": start + len(item.passage), "exact": item.passage}
        actor = ombuds if item.filed_via else users[item.account] if item.account else Actor.anonymous()
        comment = comments.submit(session, actor, review_id, body=item.body, identity=item.identity, name=item.name,
                                  email=item.email, category=item.category, target=target, allowed_categories=categories,
                                  filed_via=item.filed_via, now=when).comment
        later = min(when + timedelta(days=1), answered)
        if item.hidden:
            comments.hide(session, ombuds, comment.id, item.hidden, now=later)
        if item.disposition:
            comments.set_disposition(session, ombuds, comment.id, disposition=item.disposition, response=item.response,
                                     base_url=link_base, now=later)
        if item.disclosed:  # by the commenter, through the receipt link
            comments.set_disclosure(session, Actor.anonymous(), comment, True, now=later)


# ---------------------------------------------------------------------------------------------
# Equity impact assessments
# ---------------------------------------------------------------------------------------------

# Who wrote which answers (several reviewers contribute), per policy. Keys follow
# workflows/equity-assessment.yaml: a question's id, or question.group.follow_up for each group chosen.
DEMO_ASSESSMENTS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "JFABE": (
        ("reviewer", {
            "purpose": "Keeps students in foster care in their school of origin when that is in their best interest, and "
                       "says who pays for the rides under the 2024 agreement with the county child welfare agency. "
                       "Intended results: fewer school moves for students in foster care, no school days missed while "
                       "transportation is arranged, and a Point of Contact every caseworker can reach.",
            "groups": ["black", "special-education", "foster-care"],
            "data_considered": "Placement changes and school moves from 2021 to 2024 (county data-sharing agreement); "
                               "attendance in the 30 days after a placement change; days from a transportation request "
                               "to the first ride; enrollment by race and disability. We do not have the reasons for "
                               "school moves the county did not report to us.",
            "engagement_level": "consulted",
        }),
        ("ombuds", {
            "groups.foster-care.benefits": "Students stay with their teachers and friends through a placement change, "
                                           "and rides start within five school days.",
            "groups.foster-care.burdens": "Longer rides for some students whose new home is far from their school.",
            "groups.foster-care.barriers": "Caseworkers and foster parents may not know who the Point of Contact is or "
                                           "that they can ask for a best-interest meeting.",
            "groups.black.benefits": "Black students are more than twice as likely as their share of enrollment to be in "
                                     "foster care in our county, so school stability reaches them most.",
            "groups.black.burdens": "None we could find beyond those for all students in foster care.",
            "groups.black.barriers": "Families told us best-interest meetings felt one-sided; the draft now records the "
                                     "student's and caregiver's views in every decision.",
            "groups.special-education.benefits": "IEP services continue without a gap at the school of origin.",
            "groups.special-education.burdens": "Rides with an aide or a lift bus take longer to arrange.",
            "groups.special-education.barriers": "Special education transportation is booked by a different office; the "
                                                 "Point of Contact now coordinates both.",
            "engagement": "Two listening sessions with foster parents and kinship caregivers (one in Spanish), a meeting "
                          "with county caseworkers, and the Foster Youth Advisory Group. They asked for one phone number "
                          "and faster rides; the draft now lists the Point of Contact's duties first.",
            "unintended_consequences": "A dispute over who pays could delay rides. Staff could read 'best interest' as a "
                                       "reason to move a student who wants to stay.",
            "mitigations": "Rides start first and costs are settled afterwards; the student's wishes are recorded in every "
                           "best-interest decision; families who disagree are pointed to the ombuds office.",
            "tracking": "Each semester: the share of students in foster care who stay in their school of origin, days "
                        "from request to first ride, and attendance after a placement change, by race and disability; "
                        "reported to the Board and posted on the district website.",
            "internal_notes": "Ask Legal whether the county cost-sharing formula needs its own Board approval.",
        }),
    ),
    "GAE": (
        ("reviewer", {
            "purpose": "Gives employees a fair, prompt and orderly way to raise concerns about their work. This draft lets "
                       "a written request for help from the ombuds office pause grievance deadlines for up to 15 working "
                       "days, and no longer requires raising a concern with the immediate supervisor first. Intended "
                       "result: more concerns resolved early and informally, and fewer employees losing their grievance "
                       "because a deadline passed.",
            "groups": ["black", "latinx", "lgbtqia"],
            "groups.black.benefits": "Staff of color told the ombuds office they avoid raising concerns when the "
                                     "supervisor is part of the problem; now they can come to the ombuds office first "
                                     "without losing time.",
            "groups.black.burdens": "None expected beyond the time an informal process takes.",
            "groups.black.barriers": "Trust that the ombuds office is independent of Human Resources; the draft now says "
                                     "so in plain words.",
            "groups.latinx.benefits": "The same pathway, with an ombuds staff member who meets in Spanish.",
            "groups.latinx.burdens": "None expected.",
            "groups.latinx.barriers": "Grievance forms and notices are in English only today.",
            "groups.lgbtqia.benefits": "A concern about a supervisor can start in confidence.",
            "groups.lgbtqia.burdens": "None expected.",
            "groups.lgbtqia.barriers": "Fear of being outed at work; the confidentiality section addresses it.",
            "other_groups": "Hourly and part-time staff (bus drivers, food service, paraprofessionals) who cannot easily "
                            "meet during the workday: the pause gives them time to schedule a meeting.",
        }),
        ("ombuds", {
            "data_considered": "Grievances filed from 2019 to 2024 by level and outcome, the share dismissed as late, and "
                               "the ombuds office's de-identified count of employee consultations. Human Resources does "
                               "not yet record grievances by race or role.",
            "engagement_level": "involved",
            "engagement": "Employee focus groups at three sites, both employee associations, and the Human Resources staff "
                          "who handle grievances. The 15-day pause came from the associations.",
            "unintended_consequences": "Supervisors could feel bypassed; a pause could delay a grievance that needs a "
                                       "quick answer.",
            "mitigations": "A pause needs the employee's written agreement and ends by itself after 15 working days; "
                           "supervisors are trained on the informal pathway.",
            "tracking": "Every year: grievances filed and resolved at each level, the share dismissed as late, and pauses "
                        "requested, by role and (once recorded) by race; in the ombuds office's annual report.",
            "internal_notes": "The grievance forms need a Spanish translation before publication.",
        }),
    ),
    "JD": (
        ("reviewer", {
            "purpose": "Keeps students in class and safe. The revision adopts a yearly review of discipline by student "
                       "group, moves defiance to Level 1 so it can no longer lead to out-of-school suspension, and lowers "
                       "the Level 3 maximum suspension to 5 days. Intended results: fewer days of missed class and "
                       "smaller gaps in suspension rates between groups of students.",
            "groups": ["black", "latinx", "english-learners", "special-education"],
            "groups.black.benefits": "Black students were suspended for defiance at 3.4 times the rate of white "
                                     "students; defiance can no longer lead to suspension.",
            "groups.black.burdens": "Schools could record other offenses instead of defiance.",
            "groups.black.barriers": "Restorative alternatives depend on trained staff at each school.",
            "groups.latinx.benefits": "Fewer suspensions for vague offenses, which Latinx students received more often.",
            "groups.latinx.burdens": "None expected.",
            "groups.latinx.barriers": "Notices to families in Spanish were often late.",
            "groups.english-learners.benefits": "Notices and hearings in the family's language.",
            "groups.english-learners.burdens": "Hearings can take longer while an interpreter is booked.",
            "groups.english-learners.barriers": "Interpreters must be booked ahead.",
            "groups.special-education.benefits": "Fewer removals that count toward the 10-day limit before a "
                                                 "manifestation review.",
            "groups.special-education.burdens": "None expected.",
            "groups.special-education.barriers": "Behavior plans must be followed before any Level 2 consequence; staff "
                                                 "need training.",
        }),
        ("ombuds", {
            "data_considered": "Three years of suspension and expulsion data by race, disability, English learner status "
                               "and gender; days of class lost; the state's significant disproportionality findings.",
            "engagement_level": "involved",
            "engagement": "Student voice panels at four high schools, family forums in English, Spanish and Vietnamese, "
                          "the Special Education Advisory Council, and principals. Students asked that defiance no "
                          "longer lead to suspension.",
            "unintended_consequences": "Teachers may feel less supported with disruptive behavior; offenses could be "
                                       "recorded under other codes.",
            "mitigations": "Support staff for restorative practices at the schools with the most suspensions; the yearly "
                           "review compares the codes used before and after.",
            "tracking": "A yearly review presented to the Board in public: suspensions, days lost and codes used, by "
                        "group and by school.",
            "internal_notes": "The principals' association asked for a one-year check-in; schedule it with Student "
                              "Services.",
        }),
    ),
    # In equity review: started, not finished (the overdue review on the dashboard).
    "JICFB": (
        ("reviewer", {
            "purpose": "Protects students from bullying, harassment and intimidation and adds an informal, confidential "
                       "way to raise a concern with the ombuds office. Intended results: more students report early, and "
                       "fewer reports end with the student who reported changing schools.",
            "groups": ["lgbtqia", "special-education", "english-learners"],
            "groups.lgbtqia.benefits": "Students can talk to someone outside their school first, in confidence.",
            "data_considered": "The 2023 school climate survey (bullying reported by student group) and incident reports "
                               "by school.",
        }),
        ("ombuds", {
            "groups.special-education.benefits": "A parent or an aide can raise a concern on the student's behalf.",
        }),
    ),
}


def _demo_assessment(session: Session, review_id: int, code: str, when: datetime, *, complete: bool = True) -> None:
    """Answers from two contributors an hour apart, then (optionally) marked complete by the reviewer."""
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    revision = 0
    for index, (username, answers) in enumerate(DEMO_ASSESSMENTS[code]):
        revision = equity.save_answers(session, users[username], review_id, answers, revision,
                                       now=when + timedelta(hours=index)).revision
    if complete:
        equity.complete(session, users["reviewer"], review_id, now=when + timedelta(hours=len(DEMO_ASSESSMENTS[code])))
