"""Keeping API keys out of every output.

Keys come only from the environment (DD_API_KEY, DD_APP_KEY). They are held in a
`Credentials` value whose repr hides them, and every string the tool writes passes `redact`
at its sink (`reconciler.core.output` for stdout and stderr, the log handler, the writers of
saved plans and exported files), which masks each known key whole and any run of 12 or
more consecutive characters of one.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core.errors import UsageProblem

API_KEY_VAR = "DD_API_KEY"
APP_KEY_VAR = "DD_APP_KEY"
#: An environment's default key variables are these prefixes + its name (`environments`).
API_KEY_PREFIX = API_KEY_VAR + "_"
APP_KEY_PREFIX = APP_KEY_VAR + "_"

#: Every key value seen in this process, so that every output can mask it.
_KNOWN_SECRETS: set[str] = set()
#: Every run of FRAGMENT_LENGTH consecutive characters of a known key.
_FRAGMENTS: set[str] = set()

#: The shortest key of each kind Datadog issues: API keys are 32 hexadecimal characters,
#: application keys 40. A shorter value cannot be a key (a placeholder, a truncated paste),
#: and refusing it keeps placeholders made of words, whose pieces would be masked in every
#: line that holds those words, out of runs. Only a floor: a longer or differently shaped key
#: (a new format, a proxy's token) is the server's to judge.
MIN_API_KEY_LENGTH = 32
MIN_APP_KEY_LENGTH = 40

#: Shorter values are not masked: masking "k" would garble every message, and real Datadog
#: keys are 32 (API) and 40 (application) characters long.
MIN_MASKED_LENGTH = 8
#: Any run of this many consecutive characters of a key is masked, wherever it occurs: a
#: server that echoes a key split across two fields, or a prefix of it, shows no more than
#: 11 characters of it in a row.
FRAGMENT_LENGTH = 12
MASK = "***"
#: Keys are hexadecimal, which a server may echo in either case: matched with ASCII letters
#: folded to lower case (a fold that keeps every index, unlike str.lower()).
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def register_secret(value: str) -> None:
    value = value.translate(_FOLD)
    if len(value) < MIN_MASKED_LENGTH or value in _KNOWN_SECRETS:
        return
    _KNOWN_SECRETS.add(value)
    _FRAGMENTS.update(
        value[i : i + FRAGMENT_LENGTH] for i in range(len(value) - FRAGMENT_LENGTH + 1)
    )


def register_environment(
    environ: Mapping[str, str] | None = None, variables: Sequence[str] = ()
) -> None:
    """Know the keys of the environment before anything is printed, whether or not the
    command uses them: `validate` never reads them, and must still mask one pasted into a
    file."""
    env = os.environ if environ is None else environ
    for name in (API_KEY_VAR, APP_KEY_VAR, *variables):
        register_secret(env.get(name, "").strip())
    # The default key variables of environments (DD_API_KEY_<NAME>), whatever is declared;
    # only values as long as a key: such a variable may hold something else (DD_APP_KEY_ID),
    # and a shorter value is refused before it is sent anywhere.
    for name, value in env.items():
        if name.startswith((API_KEY_PREFIX, APP_KEY_PREFIX)) and (
            len(value.strip()) >= MIN_API_KEY_LENGTH
        ):
            register_secret(value.strip())


def redact(text: str) -> str:
    """`text` with every known key, and every run of FRAGMENT_LENGTH or more consecutive
    characters of one, in either case, replaced by `***` (overlapping or touching pieces:
    one mask)."""
    if not _KNOWN_SECRETS or len(text) < MIN_MASKED_LENGTH:
        return text
    folded = text.translate(_FOLD)
    spans: list[tuple[int, int]] = []
    for needle in (*_KNOWN_SECRETS, *_FRAGMENTS):
        start = folded.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
    if not spans:
        return text
    spans.sort()
    pieces: list[str] = []
    done = 0
    merged_start, merged_end = spans[0]
    for start, end in spans[1:]:
        if start <= merged_end:
            merged_end = max(merged_end, end)
            continue
        pieces += [text[done:merged_start], MASK]
        done = merged_end
        merged_start, merged_end = start, end
    pieces += [text[done:merged_start], MASK, text[merged_end:]]
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class Credentials:
    """The two Datadog keys. Never printed: repr and str show `***`."""

    api_key: str = field(repr=False)
    app_key: str = field(repr=False)

    def __post_init__(self) -> None:
        register_secret(self.api_key)
        register_secret(self.app_key)

    def __repr__(self) -> str:
        return "Credentials(api_key='***', app_key='***')"

    __str__ = __repr__

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        api_key_env: str = API_KEY_VAR,
        app_key_env: str = APP_KEY_VAR,
        environment: str | None = None,
    ) -> Credentials:
        """The keys from the variables named (those of one `environment`, if given)."""
        env = os.environ if environ is None else environ
        missing = [name for name in (api_key_env, app_key_env) if not env.get(name, "").strip()]
        if missing:
            whose = "the" if environment is None else "its"
            raise UsageProblem(
                ("" if environment is None else f"environment {environment!r}: ")
                + f"missing {' and '.join(missing)}: set {whose} Datadog API key in "
                f"{api_key_env} and {whose} application key in {app_key_env} "
                "(keys are never read from files)"
            )
        for name, minimum in ((api_key_env, MIN_API_KEY_LENGTH), (app_key_env, MIN_APP_KEY_LENGTH)):
            problem = _key_problem(env[name].strip(), minimum)
            if problem:
                raise UsageProblem(
                    ("" if environment is None else f"environment {environment!r}: ")
                    + f"{name} cannot be a Datadog key: {problem} (the value is not shown:"
                    " it may be a key)"
                )
        return cls(env[api_key_env].strip(), env[app_key_env].strip())


def _key_problem(value: str, minimum: int) -> str | None:
    """Why `value` cannot be a Datadog key of that kind, or None."""
    # A key travels in an HTTP header: a character no header can carry (a byte that is not
    # UTF-8, a line break) would fail the first request as a crash.
    if any(character.isspace() for character in value):
        return "it holds whitespace"
    if value[:1] in ("'", '"') or value[-1:] in ("'", '"'):
        # An env file's quotes, kept by a tool that does not read them as quotes.
        return "it is quoted: remove the quotes around it"
    if not all("!" <= character <= "~" for character in value):
        return "it holds a character a key cannot have (keys are letters and digits)"
    if len(value) < minimum:
        return f"it is shorter than {minimum} characters, the length of Datadog's keys"
    return None
