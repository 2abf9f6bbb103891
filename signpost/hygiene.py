"""Input hygiene shared by every layer: which characters are never accepted, and safe log lines.

NUL, other control characters (Unicode Cc, except tab and newlines in typed text), format
characters (Cf: zero-width spaces, direction overrides) and lone surrogates (Cs) are refused.
"""
from __future__ import annotations

import logging
import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
TYPED_WHITESPACE = frozenset("\t\r\n")  # allowed inside a typed answer (a textarea), nowhere else


def bad_character(value: str, *, allow_newlines: bool = True) -> str | None:
    """The first refused character in a string, or None."""
    if value.isprintable():  # fast path: no Cc, Cf, Cs, Zl, Zp or unusual spaces at all
        return None
    for char in value:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            if allow_newlines and char in TYPED_WHITESPACE:
                continue
            return char
    return None


def describe(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name.lower()}" if name else code


def problem_message(char: str) -> str:
    """What a referrer reads beside the field: what is wrong and what to do."""
    return (f"Remove the hidden or control character ({describe(char)}). It may have come from "
            "copying and pasting: type the text again")


def bad_in_json(value, path: str = "") -> list[tuple[str, str]]:
    """(field path, message) for every refused character in a parsed JSON document."""
    problems: list[tuple[str, str]] = []
    if isinstance(value, str):
        char = bad_character(value)
        if char:
            problems.append((path or "(body)", problem_message(char).split(". It may")[0] + "."))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(bad_in_json(item, f"{path}[{index}]"))
    elif isinstance(value, dict):
        for key, item in value.items():
            char = bad_character(key, allow_newlines=False)
            name = escape(key)
            if char:
                problems.append((f"{path}.{name}" if path else name,
                                 f"A field name contains a hidden or control character ({describe(char)})."))
            problems.extend(bad_in_json(item, f"{path}.{name}" if path else name))
    return problems


def escape(text: str) -> str:
    """Text safe for one log line or a message: anything unprintable (newlines too) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
                   for c in text)


class EscapingFilter(logging.Filter):
    """A log handler filter: one record is one line, whatever a URL or a value held."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        safe = escape(message)
        if safe != message or record.args:
            record.msg, record.args = safe, ()
        return True


def install_log_escaping(*loggers: logging.Logger) -> None:
    """Add the escaping filter to the root handlers and to these loggers' handlers (once each)."""
    handlers = list(logging.getLogger().handlers)
    for logger in loggers:
        handlers.extend(logger.handlers)
    for handler in handlers:
        if not any(isinstance(f, EscapingFilter) for f in handler.filters):
            handler.addFilter(EscapingFilter())


def strip_text(value):
    """A WTForms filter: surrounding whitespace (spaces, no-break spaces, newlines) removed."""
    return value.strip() if isinstance(value, str) else value
