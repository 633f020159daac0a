"""Checking what is read from disk: a document against the field types of the record it holds,
YAML that is small enough and does not expand without end (aliases), every error naming the
file and the field. The store (index.yaml, run.yaml) and the trace loader use it.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from harness.common.errors import HarnessError

MAX_VALUES = 20_000_000  # values a YAML document may hold once its aliases are expanded


class ValidationError(HarnessError):
    """A file that does not hold what it should: names the file and the field."""


def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in get_args(hint) if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in get_args(hint) else "")
    if origin in (list, tuple):
        items = get_args(hint)
        if origin is tuple and items and items[-1] is not Ellipsis:
            return f"a list of {len(items)} values"
        item = items[0] if items else Any
        plural = {str: "texts", int: "integers", float: "numbers", bool: "booleans"}
        if get_origin(item) in (typing.Union, types.UnionType):
            return f"a list of values each {_type_name(item)}"
        return "a list of " + plural.get(item, "mappings of fields" if _is_record(item)
                                         else _type_name(item))
    if origin is dict:
        return "a mapping"
    if _is_record(hint):
        return "a mapping of fields"
    return {str: "text", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, getattr(hint, "__name__", str(hint)))


def _is_record(hint: Any) -> bool:
    return isinstance(hint, type) and hasattr(hint, "__dataclass_fields__")


def _shape(hint: Any) -> type | None:
    """The container a value of hint is: dict for records and mappings, list for lists."""
    if _is_record(hint) or get_origin(hint) is dict:
        return dict
    if get_origin(hint) in (list, tuple):
        return list
    return None


def at(file: str, path: str) -> str:
    return f"{file}: field '{path}'" if path else file


def check_value(value: Any, hint: Any, file: str, path: str = "") -> None:
    """Raise ValidationError unless value fits the type hint (str, int, float, bool, None, list,
    dict of those, a union of them, or a record class); the error names file and field
    (`runs[2]`, `implements.server.c`, `skipped[0].reason`)."""
    origin = get_origin(hint)
    where = at(file, path)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in get_args(hint):
            try:
                check_value(value, option, file, path)
                return
            except ValidationError as e:
                shape = _shape(option)
                if shape is not None and isinstance(value, shape):
                    errors.append(e)
        if len(errors) == 1:  # a mapping where a record or null goes: what is wrong inside
            raise errors[0]
        raise ValidationError(f"{where} must be {_type_name(hint)}, got {value!r:.60}")
    if hint is type(None):
        if value is not None:
            raise ValidationError(f"{where} must be null, got {value!r:.60}")
        return
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            raise ValidationError(f"{where} must be {_type_name(hint)}, got {value!r:.60}")
        items = get_args(hint) or (Any, ...)
        if origin is tuple and items[-1] is not Ellipsis:  # tuple[int, int]: a fixed length
            if len(value) != len(items):
                raise ValidationError(f"{where} must be a list of {len(items)} values, got "
                                      f"{value!r:.60}")
            for i, (x, item) in enumerate(zip(value, items)):
                check_value(x, item, file, f"{path}[{i}]")
            return
        for i, x in enumerate(value):
            check_value(x, items[0], file, f"{path}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise ValidationError(f"{where} must be a mapping, got {value!r:.60}")
        key_type, value_type = get_args(hint) or (Any, Any)
        for k, v in value.items():
            if not isinstance(k, key_type if key_type is not Any else object):
                raise ValidationError(f"{where}: key {k!r} must be {_type_name(key_type)}")
            check_value(v, value_type, file, f"{path}.{k}" if path else str(k))
        return
    if hint is Any:
        return
    if _is_record(hint):
        check_record(value, hint, file, path, strict=getattr(hint, "STRICT", False))
        return
    ok = (isinstance(value, hint) and not (isinstance(value, bool) and hint is not bool)) or \
        (hint is float and isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise ValidationError(f"{where} must be {_type_name(hint)}, got {value!r:.60}")


def unknown_field(where: str, key: Any, known: Sequence[str], prefix: str = "") -> str:
    """`FILE: unknown field 'scenario' (fields: a, b, scenarios); did you mean 'scenarios'?`:
    every file people write says a misspelt field the same way."""
    import difflib

    close = difflib.get_close_matches(str(key), known, n=1)
    return (f"{where}: unknown field '{prefix}{key}' (fields: {', '.join(known)})"
            + (f"; did you mean '{close[0]}'?" if close else ""))


def check_record(doc: Any, cls: type, file: str, path: str = "", strict: bool = False) -> None:
    """doc must be a mapping holding every field of cls that has no default, each of its
    type; fields cls does not have are left alone (written by a newer harness), or, strict,
    refused (a file people write, where a misspelt field must not pass unseen)."""
    if not isinstance(doc, dict):
        what = f"{at(file, path)} must be" if path else f"{file}: the top level must be"
        raise ValidationError(f"{what} a mapping of fields, got {doc!r:.60}")
    hints = _hints(cls)
    if strict:
        known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        for key in doc:
            if key not in known:
                raise ValidationError(unknown_field(file, key, known,
                                                    f"{path}." if path else ""))
    for f in fields(cls):  # type: ignore[arg-type]
        name = f"{path}.{f.name}" if path else f.name
        if f.name not in doc:
            if f.default is MISSING and f.default_factory is MISSING:  # type: ignore[misc]
                raise ValidationError(f"{file}: missing field '{name}'")
            continue
        check_value(doc[f.name], hints[f.name], file, name)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def expanded_size(doc: Any, limit: int = MAX_VALUES) -> int:
    """How many values doc holds counting a part shared through YAML aliases each time it is
    reached (what a walk over it visits): a few hundred bytes of aliases can stand for
    billions of values. Counted once per distinct part, so it takes the time of the file,
    not of its expansion; past limit (or for a part that contains itself) it returns
    limit + 1."""
    sizes: dict[int, int] = {}
    open_parts: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        value, children_done = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        key = id(value)
        children = list(value.values() if isinstance(value, dict) else value)
        if children_done:
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            sizes[key] = total
            open_parts.discard(key)
            if total > limit:
                return limit + 1
            continue
        if key in sizes:
            continue
        if key in open_parts:  # a part inside itself (`&a [*a]`): endless
            return limit + 1
        open_parts.add(key)
        stack.append((value, True))
        stack.extend((c, False) for c in children if isinstance(c, (dict, list)))
    return sizes.get(id(doc), 1)


def load_yaml_text(path: Path, max_bytes: int) -> Any:
    """A YAML file, refused when larger than max_bytes (no more than that is ever read), not
    a regular file (a link, a FIFO, a device: harness.common.safefile), not UTF-8, not YAML, or
    expanding past MAX_VALUES values."""
    import yaml

    from harness.common.safefile import read_bytes

    path = Path(path)
    data = read_bytes(path, max_bytes, ValidationError, "such a file may be")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValidationError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise ValidationError(f"{path}: not valid YAML: {yaml_error_line(e)}") from None
    except RecursionError:
        raise ValidationError(f"{path}: nested too deep to read") from None
    if expanded_size(doc) > MAX_VALUES:
        raise ValidationError(f"{path}: its aliases expand to more than {MAX_VALUES:,} values")
    return doc


def read_yaml(path: Path | str, error: type[HarnessError], max_bytes: int = 4 << 20) -> Any:
    """A data file of the harness (rules, syscall table, scenarios, a manifest) read as
    load_yaml_text reads it, its problems raised as error (each stage's own error class)."""
    try:
        return load_yaml_text(Path(path), max_bytes)
    except ValidationError as e:
        raise error(str(e)) from None


def yaml_error_line(e: Exception) -> str:
    """A YAML parser's error on one line: `line 3, column 7: mapping values are not allowed
    here` (its own text spans several, with context and marks)."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or getattr(e, "context", None)
    if problem is None:
        return " ".join(str(e).split())
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + " ".join(str(problem).split())


class _NoAliasDumper(getattr(__import__("yaml"), "CSafeDumper", None) or  # type: ignore[misc]
                     __import__("yaml").SafeDumper):
    """Writes every value where it is, never `&anchor` and `*alias` (a shared dict twice)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(doc: Any) -> str:
    import yaml

    return yaml.dump(doc, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=False,
                     width=100)
