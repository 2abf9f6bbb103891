"""Reading strict YAML config: duplicate keys refused, every key's line remembered.

Shared by threshold documents, their test cases and the service directory, so that
every problem can be reported as FILE:LINE: key: message, all at once.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..hygiene import bad_character, describe, escape

Path_ = tuple  # a location inside the document: ("indicators", 3, "level")


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ConfigError(Exception):
    """Raised with every problem found in one or more files."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def key_name(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclasses.dataclass
class Source:
    """A parsed YAML file with the line of every key and list item."""

    file: str
    text: str
    data: Any
    lines: dict[tuple, int]
    problems: list[Problem]

    def line_of(self, path: tuple) -> int:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def problem(self, path: tuple, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), key_name(path), message)


def read(path: Path | str, display_name: str | None = None) -> Source:
    path = Path(path)
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Source(name, "", None, {}, [Problem(name, 1, "", f"cannot be read: {exc}")])
    return parse(text, name)


MAX_DEPTH = 30  # levels of nesting; the shipped documents use 6


class Refused(yaml.YAMLError):
    """Valid YAML that these files never need, refused before it can cost the server dear."""

    def __init__(self, mark, message: str):
        super().__init__(message)
        self.mark, self.message = mark, message


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing anchors and nesting deeper than MAX_DEPTH as it is read.

    PyYAML composes nested lists and mappings by recursion: a kilobyte of "[[[[..." would
    exhaust Python's stack (a RecursionError, a 500), so the depth is counted on the way in.
    An alias (*name) repeats what its anchor (&name) holds: a few hundred bytes of aliases of
    aliases ("billion laughs") make minutes of work. No threshold, case or directory file needs
    them, so they are refused before anything is repeated.
    """

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise Refused(event.start_mark, "uses a YAML anchor or alias (& or *): these files do not need "
                                            "them, so write each value out in full")
        if self.depth >= MAX_DEPTH:
            raise Refused(event.start_mark,
                          f"is nested more than {MAX_DEPTH} levels deep: these files never need more "
                          "than a few levels")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _hidden(char: str) -> str:
    return f"contains a hidden or control character ({describe(char)}) that is not allowed: remove it"


# What YAML's commonest complaints usually mean, in the words of someone editing the file.
_YAML_HINTS = {
    "mapping values are not allowed here": " (usually a line indented differently from the lines around it, "
                                            "or a colon inside text: put such text in quotes)",
    "could not find expected ':'": " (usually a line that is not 'key: value', or a quote left open "
                                   "on the line before)",
    "found character '\\t' that cannot start any token": " (a tab: indent with spaces)",
    "expected <block end>, but found '-'": " (usually a list item indented differently from the others)",
    "expected <block end>, but found '<block mapping start>'": " (usually a line indented more than the lines "
                                                                 "around it)",
}


def parse(text: str, name: str) -> Source:
    lines: dict[tuple, int] = {}
    problems: list[Problem] = []
    try:
        # The reader checks the whole text for control characters as it is created, so
        # creating it belongs inside the try: its ReaderError is a problem, not a crash.
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)[:1]
        problems.append(Problem(name, line, "", _hidden(char)))
        return Source(name, text, None, lines, problems)
    try:
        node = loader.get_single_node()
        data = _to_python(loader, node, (), lines, problems, name) if node is not None else None
    except Refused as exc:
        problems.append(Problem(name, exc.mark.line + 1, "", exc.message))
        data = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        said = str(exc.problem or exc)
        problems.append(Problem(name, line, "", f"is not valid YAML: {said}{_YAML_HINTS.get(said, '')}"))
        data = None
    except yaml.YAMLError as exc:
        problems.append(Problem(name, 1, "", f"is not valid YAML: {exc}"))
        data = None
    finally:
        loader.dispose()
    return Source(name, text, data, lines, problems)


_PLAIN_TAGS = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}


def _to_python(loader, node, path, lines, problems, name):
    plain = _PLAIN_TAGS.get(type(node))
    if plain is not None and node.tag != plain:
        # Walking the node ourselves would silently drop a tag such as !!python/object:
        # refuse it, as the safe loader does for scalars.
        problems.append(Problem(name, node.start_mark.line + 1, key_name(path),
                                f"YAML tag {node.tag} is not allowed"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        first_line: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(name, key_node.start_mark.line + 1, key_name(path),
                                        "YAML merge keys (<<) are not allowed; write each key out"))
                continue
            key = _construct(loader, key_node)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int)):
                problems.append(Problem(name, line, key_name(path), f"key {key!r} must be a word"))
                continue
            char = bad_character(key, allow_newlines=False) if isinstance(key, str) else None
            if char:
                problems.append(Problem(name, line, key_name(path + (escape(key),)), _hidden(char)))
                continue
            here = path + (key,)
            if key in result:
                problems.append(Problem(name, line, key_name(here),
                                        f"duplicate key (already given on line {first_line[key]})"))
                continue
            first_line[key] = line
            lines[here] = line
            result[key] = _to_python(loader, value_node, here, lines, problems, name)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            here = path + (index,)
            lines[here] = item.start_mark.line + 1
            items.append(_to_python(loader, item, here, lines, problems, name))
        return items
    value = _construct(loader, node)
    # The rule the service applies to every form at its edge (signpost.hygiene), applied to
    # every string of the file: YAML escapes ("\\0", "\\u202e") get past the reader's check,
    # and a NUL published into PostgreSQL is a DataError. Tabs and newlines are typed text.
    char = bad_character(value) if isinstance(value, str) else None
    if char:
        problems.append(Problem(name, node.start_mark.line + 1, key_name(path), _hidden(char)))
    return value


def _construct(loader, node):
    """A key's or a scalar's value, never an exception other than a YAML one.

    PyYAML raises a bare ValueError for impossible dates (2024-13-01) and integers too long
    to convert, as keys as well as values: keep the text, so the schema refuses it with its
    line instead of crashing the load.
    """
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        return node.value if isinstance(node, yaml.ScalarNode) else None


_FRIENDLY = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a recognised key (check the spelling)",
    "string_pattern_mismatch": "must be a lower-case id using letters, numbers and underscores",
    "date_from_datetime_parsing": "must be a date written as YYYY-MM-DD",
    "date_parsing": "must be a date written as YYYY-MM-DD",
    "date_type": "must be a date written as YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date written as YYYY-MM-DD",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a set of keys and values",
    "model_type": "must be a set of keys and values",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}


def validate(source: Source, model: type[BaseModel]) -> tuple[BaseModel | None, list[Problem]]:
    """Validate parsed data against a pydantic model, reporting every problem with its line."""
    if source.data is None and source.problems:
        return None, list(source.problems)
    # Duplicate or merge keys still leave usable data: check it too, so every problem
    # in the file is reported in one pass.
    problems = list(source.problems)
    try:
        model_instance = model.model_validate(source.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
            message = _FRIENDLY.get(err["type"], err["msg"][0].lower() + err["msg"][1:])
            if err["type"] == "literal_error":
                message = f"must be one of {err['ctx']['expected']}"
            elif err["type"] in ("greater_than_equal", "less_than_equal"):
                message = err["msg"].lower()
            elif err["type"] == "union_tag_invalid":
                message = f"type must be one of {err['ctx']['expected_tags']}"
            elif err["type"] == "value_error":  # a check of our own: its words as written, without pydantic's prefix
                message = str((err.get("ctx") or {}).get("error") or err["msg"].removeprefix("Value error, "))
            elif err["type"] == "date_from_datetime_parsing" and (err.get("ctx") or {}).get("error"):
                message = f"must be a real date written as YYYY-MM-DD ({err['ctx']['error']})"
            problems.append(source.problem(loc, message))
        return None, problems
    if problems:
        return None, problems
    return model_instance, []


# Pydantic puts the discriminator value into error locations; they are not keys in the file.
_UNION_TAGS = {"cumulative", "age", "consent"}
