"""Test-only: which YAML parser reconciler.core.yamlload really runs on."""

from __future__ import annotations

import _ruamel_yaml  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs


def c_parser_in_use() -> bool:
    """True when the parser is libyaml's compiled one (ruamel.yaml.clib), not pure Python."""
    compiled = str(getattr(_ruamel_yaml, "__file__", "")).endswith((".so", ".pyd"))
    return compiled and type(_ruamel_yaml.CParser.get_single_node).__name__ != "function"
