"""Validating loaded YAML against our JSON Schemas: fast when valid, complete when not.

`compile_schema` turns the subset of JSON Schema 2020-12 our schemas use into nested
closures that only answer "valid?" (a few microseconds per snapshot). Only documents that
fail are then run through jsonschema (70+ us per snapshot, 150 ms to import), whose errors
`explain` turns into messages positioned with the loader's PosDict / PosList positions.
Unknown keywords make `compile_schema` raise, so the fast path cannot silently drift from
the schema files.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from reconciler.core.yamlload import INVALID, PosDict, PosList

Check = Callable[[Any], bool]
#: Path of a value inside a document, as jsonschema gives it.
JsonPath = tuple[str | int, ...]
#: (line, col, message), 1-based.
Located = tuple[int, int, str]

#: Keywords that only annotate: they never change validity.
_ANNOTATIONS: Final = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "format"}
)
_TYPE_CHECKS: Final[dict[str, Check]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: (type(v) is int) or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}
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


def compile_schema(schema: dict[str, Any], part: dict[str, Any] | None = None) -> Check:
    """A validity predicate equivalent to the schema (or to `part` of it, resolving its
    references against `schema`) for the keywords we use."""
    return _compile(schema if part is None else part, schema)


def _compile(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    leaf = _leaf(schema)
    if leaf is not None:
        return leaf
    checks: list[Check] = []
    for keyword, arg in schema.items():
        if keyword in _ANNOTATIONS or keyword == "$defs":
            continue
        if keyword == "type" and any(name in schema for name in _TYPED.get(arg, ())):
            continue  # that keyword's check (built typed, below) refuses the other types
        builder = _BUILDERS.get(keyword)
        if builder is None:
            if keyword in ("properties", "additionalProperties", "required"):
                continue  # handled together below
            raise ValueError(f"schema keyword {keyword!r} is not supported by the fast path")
        checks.append(builder(arg, schema, root))
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        checks.append(_object_check(schema, root))
    return _every(checks)


#: Keywords whose checks, next to this "type", also refuse every other type.
_TYPED: Final = {"object": ("properties", "additionalProperties", "required"), "array": ("items",)}


def _leaf(schema: dict[str, Any]) -> Check | None:
    """The common scalar shapes (a string with a least length and a pattern, an integer in
    bounds) as one closure, not one call per keyword; None for any other schema."""
    kind, others = schema.get("type"), schema.keys() - _ANNOTATIONS - {"type"}
    if kind == "string" and others <= {"minLength", "pattern"}:
        least = schema.get("minLength", 0)
        search = re.compile(schema["pattern"]).search if "pattern" in others else None
        return lambda v: type(v) is str and len(v) >= least and (not search or bool(search(v)))
    if kind == "integer" and others <= {"minimum", "maximum"}:
        low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
        integer = _TYPE_CHECKS["integer"]
        return lambda v: integer(v) and not v < low and not v > high
    return None


def _every(checks: list[Check]) -> Check:
    """The conjunction of `checks`, first to last (plain calls: no generator per value)."""
    first = checks[0]
    if len(checks) == 1:
        return first
    rest = _every(checks[1:])
    return lambda value: first(value) and rest(value)


def _ref(arg: str, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    if not arg.startswith("#/$defs/"):
        raise ValueError(f"only local $defs references are supported, not {arg!r}")
    return _compile(root["$defs"][arg[len("#/$defs/") :]], root)


def _type(arg: str, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    return _TYPE_CHECKS[arg]


def _enum(arg: list[Any], schema: dict[str, Any], root: dict[str, Any]) -> Check:
    if not all(type(item) is str for item in arg):
        raise ValueError("only string enums are supported by the fast path")
    allowed = frozenset(arg)
    return lambda value: type(value) is str and value in allowed


def _min_length(arg: int, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    return lambda value: type(value) is not str or len(value) >= arg


def _pattern(arg: str, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    search = re.compile(arg).search
    return lambda value: type(value) is not str or search(value) is not None


# Written as jsonschema compares (`not value < minimum`), so NaN is judged the same way.
def _minimum(arg: float, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    return lambda value: type(value) not in (int, float) or not value < arg


def _maximum(arg: float, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    return lambda value: type(value) not in (int, float) or not value > arg


def _items(arg: dict[str, Any], schema: dict[str, Any], root: dict[str, Any]) -> Check:
    item_check = _compile(arg, root)
    if schema.get("type") == "array":  # typed: its "type" check is left out
        return lambda value: isinstance(value, list) and all(map(item_check, value))
    return lambda value: not isinstance(value, list) or all(map(item_check, value))


def _property_names(arg: dict[str, Any], schema: dict[str, Any], root: dict[str, Any]) -> Check:
    name_check = _compile(arg, root)
    return lambda value: not isinstance(value, dict) or all(map(name_check, value))


def _object_check(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    properties = {name: _compile(sub, root) for name, sub in schema.get("properties", {}).items()}
    required = frozenset(schema.get("required", ()))
    additional = schema.get("additionalProperties", True)
    extra: Check | None
    if additional is True:
        extra = None
    elif additional is False:
        extra = _never
    else:
        extra = _compile(additional, root)
    typed = schema.get("type") == "object"  # its "type" check is left out
    check_of = properties.get

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return not typed
        if not value.keys() >= required:  # no temporary set, unlike required.issubset
            return False
        for name, item in value.items():
            sub = check_of(name, extra)
            if sub is not None and not sub(item):
                return False
        return True

    return check


def _never(value: Any) -> bool:
    return False


_BUILDERS: Final[dict[str, Callable[[Any, dict[str, Any], dict[str, Any]], Check]]] = {
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


# --- complete messages, through jsonschema --------------------------------------------------

Namer = Callable[[JsonPath], str]
#: Phrase for what a value at a path must be ("a list of snapshots"), or None for the default.
Expected = Callable[[JsonPath, str], str | None]
UnknownKeyMessage = Callable[[str, Sequence[str]], str | None]


@functools.cache
def _validator(schema_name: str) -> Any:
    import jsonschema  # lazy: 150 ms of imports, needed only for invalid files

    from reconciler.core import schemas

    return jsonschema.Draft202012Validator(schemas.load_schema(schema_name))


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

    validator = _validator(schema_name)
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
