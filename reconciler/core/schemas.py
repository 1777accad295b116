"""Our file formats' JSON Schemas (top-level `schemas/`), and checking loaded YAML against them.

jsonschema (Draft 2020-12; `format` only annotates, as jsonschema has it by default) is the
authority on validity and lists every error, which `explain` phrases for people at the
positions the loader kept. In front of it stands one shortcut, for the common case of a valid
file: the schema compiled into closures (`shortcut`) that answer "valid" only where jsonschema
would, and "not sure" for anything else, a keyword they do not know included; jsonschema then
decides. The shortcut keeps jsonschema (its import, and about 40 us per snapshot) out of
validating valid files: `bench/validate.py --shortcut` measures what it saves.

Installed from a wheel the schemas live at `reconciler/schemas/` (hatch force-include); in a
source checkout or editable install they are read from the repository's `schemas/` folder.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from reconciler.core.yamlload import PosDict, PosList
from reconciler.core.yamlscalar import INVALID

SNAPSHOTS: Final = "snapshots.schema.json"
CONFIG: Final = "config.schema.json"

#: The `reconciler` package folder, where a wheel ships the schemas (pyproject's force-include).
_PACKAGE_DIR: Final = Path(__file__).resolve().parent.parent
_SOURCE_DIR: Final = _PACKAGE_DIR.parent / "schemas"

Check = Callable[[Any], bool]
#: Path of a value inside a document, as jsonschema gives it.
JsonPath = tuple[str | int, ...]
#: (line, col, message), 1-based.
Located = tuple[int, int, str]


def schema_text(name: str) -> str:
    """The schema file's text, from the installed package if it ships one."""
    packaged = _PACKAGE_DIR / "schemas" / name
    if packaged.is_file():  # an installed wheel: the package is a folder on disk
        return packaged.read_text(encoding="utf-8")
    if not (_SOURCE_DIR / name).is_file():
        # Neither on disk (a package imported from an archive): ask the import system.
        from importlib import resources

        resource = resources.files("reconciler").joinpath("schemas", name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    return (_SOURCE_DIR / name).read_text(encoding="utf-8")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema; cached, so callers must not mutate it."""
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


def is_valid(name: str, value: Any, *part: str) -> bool:
    """Is `value` valid against the schema `name`, or against its subschema at the keys
    `part` (such as "$defs", "snapshot")? jsonschema decides what the shortcut cannot."""
    return shortcut(name, part)(value) or _validator(name, part).is_valid(value)


@functools.cache
def _validator(name: str, part: tuple[str, ...]) -> Any:
    import jsonschema  # lazy: 60 ms of imports, which valid files do without

    validator = jsonschema.Draft202012Validator(load_schema(name))
    return validator.evolve(schema=_subschema(name, part)) if part else validator


def _subschema(name: str, part: tuple[str, ...]) -> dict[str, Any]:
    schema = load_schema(name)
    for key in part:
        schema = schema[key]
    return schema


# --- the shortcut: "valid" only where jsonschema says so, else "not sure" -----------------


@functools.cache
def shortcut(name: str, part: tuple[str, ...] = ()) -> Check:
    """A predicate that is True only for values jsonschema finds valid against the schema
    `name` (or its subschema at `part`), and True for the files people write."""
    return _compile(_subschema(name, part), load_schema(name))


#: Keywords that never change the validity of the value: annotations, definitions (checked
#: where a "$ref" leads), and "format" (which jsonschema does not check unless asked to).
_INERT: Final = frozenset(
    ("$schema", "$id", "$comment", "$defs", "title", "description", "default", "format")
)
#: Keywords checked together, by one closure.
_OBJECT: Final = ("properties", "additionalProperties", "required")
# Exact types (jsonschema also takes subclasses of str and of the others: it decides those).
_TYPES: Final[dict[str, Check]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _unsure(value: Any) -> bool:
    return False


def _compile(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    checks: list[Check] = []
    for keyword, arg in schema.items():
        if keyword in _INERT or keyword in _OBJECT:
            continue
        compile_keyword = _KEYWORDS.get(keyword)
        if compile_keyword is None:
            return _unsure  # a keyword this does not know: jsonschema decides
        checks.append(compile_keyword(arg, root))
    if any(keyword in schema for keyword in _OBJECT):
        checks.append(_object(schema, root))
    return _every(checks)


def _every(checks: list[Check]) -> Check:
    """The conjunction of `checks`, first to last (plain calls: no generator per value)."""
    if not checks:
        return lambda value: True
    first = checks[0]
    if len(checks) == 1:
        return first
    rest = _every(checks[1:])
    return lambda value: first(value) and rest(value)


def _ref(arg: str, root: dict[str, Any]) -> Check:
    defs = "#/$defs/"
    return _compile(root["$defs"][arg[len(defs) :]], root) if arg.startswith(defs) else _unsure


def _type(arg: Any, root: dict[str, Any]) -> Check:
    return _TYPES.get(arg, _unsure) if isinstance(arg, str) else _unsure


def _enum(arg: list[Any], root: dict[str, Any]) -> Check:
    if not all(type(item) is str for item in arg):
        return _unsure
    allowed = frozenset(arg)
    return lambda value: type(value) is str and value in allowed


def _min_length(arg: int, root: dict[str, Any]) -> Check:
    return lambda value: type(value) is not str or len(value) >= arg


def _pattern(arg: str, root: dict[str, Any]) -> Check:
    search = re.compile(arg).search
    return lambda value: type(value) is not str or search(value) is not None


def _minimum(arg: float, root: dict[str, Any]) -> Check:
    return lambda value: (type(value) is not int and type(value) is not float) or value >= arg


def _maximum(arg: float, root: dict[str, Any]) -> Check:
    return lambda value: (type(value) is not int and type(value) is not float) or value <= arg


def _items(arg: dict[str, Any], root: dict[str, Any]) -> Check:
    item_check = _compile(arg, root)
    return lambda value: not isinstance(value, list) or all(map(item_check, value))


def _property_names(arg: dict[str, Any], root: dict[str, Any]) -> Check:
    name_check = _compile(arg, root)
    return lambda value: not isinstance(value, dict) or all(map(name_check, value))


def _object(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    properties = {name: _compile(sub, root) for name, sub in schema.get("properties", {}).items()}
    required = frozenset(schema.get("required", ()))
    additional = schema.get("additionalProperties", True)
    extra: Check | None = None
    if additional is not True:
        extra = _compile(additional, root) if isinstance(additional, dict) else _unsure
    check_of = properties.get

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True  # "type" says whether it must be one
        if not value.keys() >= required:  # no temporary set, unlike required.issubset
            return False
        for name, item in value.items():
            sub = check_of(name, extra)
            if sub is not None and not sub(item):
                return False
        return True

    return check


_KEYWORDS: Final[dict[str, Callable[[Any, dict[str, Any]], Check]]] = {
    "$ref": _ref,
    "type": _type,
    "enum": _enum,
    "minLength": _min_length,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "items": _items,
    "propertyNames": _property_names,
}


# --- every error, phrased for people, through jsonschema ----------------------------------

_EXPECTED: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
_FORMATS: Final = {
    "uuid": "a UUID (like 6b3e3c1e-2f0b-4a55-9c1d-0d3f5e7a9b21)",
    "uri": "an http:// or https:// URL",
}
Namer = Callable[[JsonPath], str]
#: Phrase for what a value at a path must be ("a list of snapshots"), or None for the default.
Expected = Callable[[JsonPath, str], str | None]
UnknownKeyMessage = Callable[[str, Sequence[str]], str | None]


def explain(
    schema_name: str,
    document: Any,
    *,
    namer: Namer,
    expected: Expected | None = None,
    unknown_key: UnknownKeyMessage | None = None,
) -> list[Located]:
    """Every schema violation of `document`, positioned and phrased for people.

    A misspelled key (`view:` for a missing `views:`) is reported, and its value is also
    checked as what it was meant to be, so the problems under it show in the same run."""
    import difflib  # lazy, like jsonschema: only invalid documents need suggestions

    validator = _validator(schema_name, ())
    found: list[Located] = []
    #: (path, field) pairs a "did you mean" already points at: "missing" would repeat it.
    suggested: set[tuple[JsonPath, str]] = set()
    missing: list[tuple[JsonPath, str, Located]] = []
    done_required: set[JsonPath] = set()
    done_extra: set[JsonPath] = set()
    # (errors, shadow prefix, real prefix, strip): an error at relative path `rel` is about
    # the value at `real prefix + rel[strip:]`, named as if at `shadow prefix + rel` (where
    # a misspelled key stands for the key it was meant to be).
    queue: list[tuple[Any, JsonPath, JsonPath, int]] = [
        (validator.iter_errors(document), (), (), 0)
    ]
    while queue:
        errors, shadow_base, real_base, strip = queue.pop(0)
        for error in errors:
            relative: JsonPath = tuple(error.absolute_path)
            shadow = (*shadow_base, *relative)
            path = (*real_base, *relative[strip:])
            kind = error.validator
            instance = error.instance
            if instance is INVALID:
                continue  # the loader already reported why this value is unusable
            if "propertyNames" in error.relative_schema_path:
                line, col = _key_pos(document, path, str(instance))
                name = namer((*shadow, str(instance)))  # a key: the name is the value checked
                found.append((line, col, _message(kind, error, name, instance, None)))
            elif kind == "required":
                if path in done_required:
                    continue
                done_required.add(path)
                line, col = _container_pos(document, path)
                for name in error.validator_value:
                    if name not in instance:
                        where = (line, col, f"missing required field '{name}'")
                        missing.append((path, name, where))
            elif kind == "additionalProperties":
                if path in done_extra:
                    continue
                done_extra.add(path)
                properties = error.schema.get("properties", {})
                allowed = list(properties)
                for key in instance:
                    if key in allowed:
                        continue
                    line, col = _key_pos(document, path, key)
                    message = unknown_key(key, allowed) if unknown_key else None
                    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                    if close and message is None:
                        suggested.add((path, close[0]))
                        if close[0] not in instance:
                            meant = validator.descend(
                                instance[key], properties[close[0]], path=close[0]
                            )
                            queue.append((meant, shadow, (*path, key), 1))
                    found.append((line, col, message or _unknown(key, allowed)))
            else:
                line, col = _value_pos(document, path)
                arg = error.validator_value
                phrase = expected(shadow, arg) if expected and kind == "type" else None
                found.append((line, col, _message(kind, error, namer(shadow), instance, phrase)))
    found.extend(where for path, name, where in missing if (path, name) not in suggested)
    return found


def _message(kind: str, error: Any, name: str, instance: Any, phrase: str | None) -> str:
    schema: dict[str, Any] = error.schema
    arg = error.validator_value
    if kind == "type":
        message = f"{name} must be {phrase or _EXPECTED.get(arg, arg)}, got {describe(instance)}"
        if instance is None and arg == "array":
            message += " (write [] for none)"
        elif arg == "string" and type(instance) in (int, float, bool):
            message += " (quote it to make it a string)"
        return message
    if kind == "enum":
        message = f"{name} must be one of {', '.join(arg)}, got {describe(instance)}"
        if type(instance) is str:
            import difflib

            lowered = {item.lower(): item for item in arg}
            close = difflib.get_close_matches(instance.lower(), list(lowered), n=1, cutoff=0.6)
            if close:
                message += f" (did you mean '{lowered[close[0]]}'?)"
        return message
    if kind in ("pattern", "format"):
        wanted = _FORMATS.get(schema.get("format", ""), f"matching {arg}")
        return f"{name} must be {wanted}, got {describe(instance)}"
    if kind == "minLength":
        return f"{name} must not be empty"
    if kind == "minimum":
        return f"{name} must be at least {arg}, got {describe(instance)}"
    if kind == "maximum":
        return f"{name} must be at most {arg}, got {describe(instance)}"
    return f"{name}: {error.message}"


def _unknown(key: str, allowed: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field {quote(key)} (did you mean '{close[0]}'?)"
    return f"unknown field {quote(key)} (expected one of: {', '.join(allowed)})"


def describe(value: Any) -> str:
    """A short rendering of a YAML value for messages."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return quote(value)
    return str(value)


def quote(text: str) -> str:
    """'text', shortened, with control characters escaped."""
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'" if text.isprintable() else repr(text)


def _walk(document: Any, path: JsonPath) -> Any:
    node = document
    for part in path:
        node = node[part]
    return node


def _container_pos(document: Any, path: JsonPath) -> tuple[int, int]:
    node = _walk(document, path)
    if isinstance(node, PosDict | PosList):
        return node.pos
    return _value_pos(document, path)


def _key_pos(document: Any, path: JsonPath, key: str) -> tuple[int, int]:
    node = _walk(document, path)
    if isinstance(node, PosDict) and key in node.key_pos:
        return node.key_pos[key]
    return _container_pos(document, path)


def _value_pos(document: Any, path: JsonPath) -> tuple[int, int]:
    if not path:
        return document.pos if isinstance(document, PosDict | PosList) else (1, 1)
    parent = _walk(document, path[:-1])
    last = path[-1]
    if isinstance(parent, PosDict) and isinstance(last, str) and last in parent.value_pos:
        return parent.value_pos[last]
    if isinstance(parent, PosList) and isinstance(last, int) and last < len(parent.item_pos):
        return parent.item_pos[last]
    return _value_pos(document, path[:-1])
