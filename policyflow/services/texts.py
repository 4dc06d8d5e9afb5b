"""Checks every policy text passes before it is stored."""

from __future__ import annotations

from policyflow.core.errors import InvalidInput, InvalidValue, TooLarge

MAX_SUMMARY_LENGTH = 500


def check_text(text: str, max_bytes: int) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise TooLarge(f"The text is {size:,} bytes; the limit is {max_bytes:,} bytes.")
    if "\x00" in text:
        raise InvalidInput("The text contains a NUL character, which a policy text cannot hold.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("The text is not valid UTF-8 (it contains unpaired surrogates).") from None
    if not text.strip():
        raise InvalidValue("The policy text is empty.")


def check_summary(summary: str) -> str:
    summary = " ".join(summary.split())
    if not summary:
        raise InvalidValue("A change summary is required: say in a sentence what this version changes.")
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise InvalidValue(f"The change summary is limited to {MAX_SUMMARY_LENGTH} characters.")
    if "\x00" in summary:
        raise InvalidInput("The change summary contains a NUL character.")
    return summary
