"""Untrusted text made inert for a terminal or a log: what a file or a server wrote can
print, but cannot move the cursor, clear the screen or fake a line."""

from __future__ import annotations

import json


def printable(text: str) -> str:
    """`text` with each character that does not print (escape sequences, line breaks)
    written as an escape: a message quoting a server stays one inert line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else json.dumps(char)[1:-1] for char in text)


def plain(text: str) -> str:
    """`text` as is when every character prints, else JSON-quoted: a name from a server
    cannot move the cursor, clear the terminal or fake a line."""
    if text.isprintable():
        return text
    return json.dumps(text, ensure_ascii=False)
