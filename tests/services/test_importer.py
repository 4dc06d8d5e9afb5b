"""Importing Markdown with front matter: all or nothing, re-import creates versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.errors import ImportProblem
from policyflow.models import Policy
from policyflow.services import importer, policies
from policyflow.services.actors import Actor
from tests.conftest import STORE


def write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(body, encoding="utf-8")


GOOD = "---\ncode: IMP1\ntitle: Imported policy\nsection: I - Instruction\nsummary: First import.\n---\n# Imported\n\nText.\n"


def run(session: Session, folder: Path) -> importer.ImportReport:
    return importer.import_files(session, Actor.system(), STORE, importer.read_directory(folder, STORE.max_text_bytes))


def test_import_then_reimport_changed_file_creates_a_version(session: Session, tmp_path: Path) -> None:
    write(tmp_path, "imp1.md", GOOD)
    report = run(session, tmp_path)
    assert report.created_policies == ["IMP1"]
    assert run(session, tmp_path).unchanged == ["imp1.md"]
    write(tmp_path, "imp1.md", GOOD.replace("Text.", "Changed text.").replace("First import.", "Edits."))
    assert run(session, tmp_path).created_versions == [("IMP1", 2)]
    policy = policies.get_policy(session, Actor.system(), "IMP1")
    assert policies.version_text(session, policy, policies.get_version(session, Actor.system(), policy, 2)).endswith(
        "Changed text.\n")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("# No front matter\n", "no YAML front matter"),
        ("---\ncode: [unclosed\n---\nText\n", "not valid YAML at line"),
        ("---\ntitle: No code\n---\nText\n", "'code' is required"),
        ("---\ncode: X1\ntitle: T\ncolour: red\n---\nText\n", "unknown field(s) colour"),
        ("---\ncode: X1\ntitle: T\ndate: yesterday\n---\nText\n", "must be a date"),
        ("---\ncode: X1\ntitle: T\n---\nNUL \x00 here\n", "NUL"),
    ],
)
def test_bad_file_is_named_with_reason_and_nothing_is_imported(session: Session, tmp_path: Path, content: str,
                                                               reason: str) -> None:
    write(tmp_path, "a-good.md", GOOD)
    write(tmp_path, "b-bad.md", content)
    before = session.scalar(select(func.count()).select_from(Policy))
    with pytest.raises(ImportProblem) as caught:
        run(session, tmp_path)
    assert caught.value.problems[0][0] == "b-bad.md"
    assert reason in caught.value.problems[0][1]
    assert session.scalar(select(func.count()).select_from(Policy)) == before


def test_invalid_utf8_file_is_reported(session: Session, tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_bytes(b"---\ncode: X\ntitle: T\n---\n\xff\xfe\n")
    with pytest.raises(ImportProblem, match=r"bad\.md: not valid UTF-8"):
        run(session, tmp_path)


def test_symlink_outside_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(GOOD)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "link.md").symlink_to(outside)
    with pytest.raises(ImportProblem, match="outside the import folder"):
        importer.read_directory(folder, STORE.max_text_bytes)


def test_demo_corpus_is_loaded_with_history(session: Session) -> None:
    codes = set(session.scalars(select(Policy.code)))
    assert {"AC", "ADF", "JICFB", "JD", "JFABD", "JFABE", "IHBEA", "KB", "GAE", "DJE"} <= codes
    for code in codes & {"AC", "ADF", "JD"}:
        policy = policies.get_policy(session, Actor.system(), code)
        assert policy.head_version_number >= 3
        assert policy.published_version_number is not None
