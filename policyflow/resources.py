"""Where shipped files live: beside the package when installed from a wheel, else the repo root."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    shipped = _PACKAGE / "_shipped" / name
    if shipped.is_dir():
        return shipped
    return _PACKAGE.parent / name


def templates_dir() -> Path:
    return _find("templates")


def workflows_dir() -> Path:
    return _find("workflows")


def static_dir() -> Path:
    return _PACKAGE / "static"


def demo_dir() -> Path:
    return _PACKAGE / "demo"
