"""Copies the repository's templates/ and workflows/ into the package when building a wheel.

They live at the repository root (design card) but must be found when installed from a wheel;
an editable install finds them in place (see ``policyflow.resources``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "policyflow" / "_shipped"
        for name in ("templates", "workflows"):
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithShippedFiles})
