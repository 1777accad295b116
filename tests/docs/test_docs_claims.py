"""What the README and docs/ claim about the code, checked against the code, so that a claim
cannot drift: numbers, options, messages, install lines, links, placeholder keys, the
site's build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from markdown.extensions.toc import slugify

from reconciler.cli.main import cli
from reconciler.core.secrets import FRAGMENT_LENGTH, MIN_API_KEY_LENGTH, MIN_APP_KEY_LENGTH
from reconciler.emulator.seedfile import demo_items
from reconciler.plan.planfile import FORMAT_VERSION, READ_VERSIONS
from support.docs_support import SHELL_LANGUAGES, blocks, options_of

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
#: The README is the front page: what it is, install, two commands, the quick start, links.
README_MAX_LINES = 200


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def flat(path: Path) -> str:
    """A page's text with its line breaks and runs of spaces as one space."""
    return " ".join(text_of(path).split())


def test_the_readme_is_a_front_page_of_at_most_200_lines() -> None:
    assert len(text_of(README).splitlines()) <= README_MAX_LINES


def test_the_saved_plan_format_the_docs_state_is_the_code_s() -> None:
    match = re.search(
        r"format (\d+); files of format (\d+) are still read", flat(DOCS / "safety.md")
    )
    assert match, "docs/safety.md no longer states the saved plan's format"
    assert int(match.group(1)) == FORMAT_VERSION
    assert (int(match.group(2)), FORMAT_VERSION) == READ_VERSIONS
    stated = re.findall(r'"format_version": (\d+)', flat(DOCS / "environments.md"))
    assert stated
    assert {int(number) for number in stated} == {FORMAT_VERSION}


def test_every_command_takes_verbose_as_the_docs_say() -> None:
    assert "Every command takes `--help` (or `-h`) and `-v` / `--verbose`" in flat(
        DOCS / "commands.md"
    )
    for name, command in cli.commands.items():
        assert {"--verbose", "-v"} <= set(options_of(command)), name


@pytest.mark.slow
def test_every_command_takes_help_and_h() -> None:
    """In a process of its own: click remembers a command's help option once made, and
    other tests make them without the group's `-h`."""
    code = (
        "import sys\n"
        "from reconciler.cli.main import cli, main\n"
        "for name in sorted(cli.commands):\n"
        "    for spelling in ('--help', '-h'):\n"
        "        print(name, spelling, main([name, spelling]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    results = [line for line in done.stdout.splitlines() if line.endswith((" 0", " 1"))]
    expected = [f"{n} {s} 0" for n in sorted(cli.commands) for s in ("--help", "-h")]
    assert [line for line in results if line.split()[0] in cli.commands] == expected


def settings_rows() -> list[tuple[str, set[str]]]:
    """(option, commands the table says have it) of each row of the settings table."""
    text = text_of(DOCS / "configuration.md")
    table = text.split("<!-- settings-table -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        option = re.match(r"`(--[\w-]+)", cells[1])
        if option:
            rows.append((option.group(1), {c.strip() for c in cells[2].split(",")}))
    return rows


def test_the_settings_table_names_the_commands_that_take_each_option() -> None:
    rows = settings_rows()
    assert len(rows) >= 6
    for option, stated in rows:
        having = {name for name, command in cli.commands.items() if option in options_of(command)}
        assert having == stated, option
    # What the issue found false: validate has no --snapshots (it takes paths).
    assert "--snapshots" not in options_of(cli.commands["validate"])


def test_install_lines_name_the_package_only_with_a_pinned_git_url() -> None:
    """The name is not published: `pip install 'heatmap-reconciler[...]'` alone would
    install whatever someone publishes under it."""
    for page in PAGES:
        text = flat(page)
        for match in re.finditer(r"pip install [\"']?heatmap-reconciler(\[\w+\])?[\"']?", text):
            after = text[match.end() : match.end() + 60]
            explained = "fails" in after[:30]
            assert after.startswith(" @ git+https://") or explained, (page.name, match.group(0))


def test_the_demo_org_is_as_the_emulator_page_describes() -> None:
    items = demo_items()
    applications = {attributes["application_id"] for attributes, _, _ in items}
    stated = re.search(r"\((\d+) snapshots of (\w+) applications,", flat(DOCS / "emulator.md"))
    assert stated
    assert int(stated.group(1)) == len(items)
    assert stated.group(2) == {1: "one", 2: "two", 3: "three"}[len(applications)]
    for application in applications:
        assert application in flat(DOCS / "emulator.md")


def test_the_seed_file_problems_shown_are_what_the_emulator_prints(
    tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = blocks(text_of(DOCS / "emulator.md"), "docs/emulator.md")
    (bad,) = [b for b in page if b.marker == "<!-- seed-file-bad -->"]
    (problems,) = [b for b in page if b.marker == "<!-- seed-file-bad-problems -->"]
    (tmp_path / "bad.jsonl").write_text(bad.text + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("emulator", "--seed", "bad.jsonl", "--port", "0")
    assert (code, out) == (1, "")
    assert err == problems.text + "\n"


def test_each_message_troubleshooting_quotes_is_one_reconciler_prints() -> None:
    source = "\n".join(
        " ".join(text_of(path).split()) for path in sorted((ROOT / "reconciler").rglob("*.py"))
    )
    quoted = re.findall(r"^## `([^`]+)`$", text_of(DOCS / "troubleshooting.md"), re.MULTILINE)
    assert len(quoted) >= 10
    for message in quoted:
        assert message in source, message


KEY_ASSIGNMENT = re.compile(r"\b(DD_(API|APP)_KEY\w*)=(\S+)")


def placeholder_keys() -> list[tuple[str, str, str]]:
    """(page, variable, value) of every key the docs' shell blocks set."""
    found = []
    for page in PAGES:
        for block in blocks(text_of(page), page.name):
            if block.language in SHELL_LANGUAGES:
                for match in KEY_ASSIGNMENT.finditer(block.text):
                    found.append((page.name, match.group(1), match.group(3)))
    return found


def test_placeholder_keys_are_key_shaped_and_mask_no_word_of_the_docs() -> None:
    """Hexadecimal keys of Datadog's lengths: accepted, and no piece of one that the
    redactor would mask (FRAGMENT_LENGTH characters) is an ordinary word, or anything else
    the docs write, but the key itself."""
    keys = placeholder_keys()
    assert len(keys) >= 6
    every_page = "\n".join(text_of(page) for page in PAGES)
    for page, variable, value in keys:
        kind = variable.split("_")[1]
        length = {"API": MIN_API_KEY_LENGTH, "APP": MIN_APP_KEY_LENGTH}[kind]
        assert re.fullmatch(f"[0-9a-f]{{{length}}}", value), (page, variable)
        elsewhere = every_page.replace(value, " ")
        for start in range(len(value) - FRAGMENT_LENGTH + 1):
            assert value[start : start + FRAGMENT_LENGTH] not in elsewhere, (page, variable)


def headings(path: Path) -> set[str]:
    """The anchors MkDocs makes for a page's headings (code spans lose their backticks)."""
    found = re.findall(r"^#{1,6} (.+)$", text_of(path), re.MULTILINE)
    return {slugify(heading.replace("`", ""), "-") for heading in found}


def test_every_link_of_the_readme_leads_to_a_file_and_an_anchor() -> None:
    """The README is not part of the site (MkDocs checks the pages' own links)."""
    links = re.findall(r"\]\(([^)\s]+)\)", text_of(README))
    local = [link for link in links if "://" not in link]
    assert len(local) >= 15
    for link in local:
        target, _, anchor = link.partition("#")
        path = ROOT / target
        assert path.exists(), link
        if anchor:
            assert anchor in headings(path), link


def _docs_recipe() -> list[str]:
    """`make docs`' command line, as the Makefile has it."""
    makefile = text_of(ROOT / "Makefile")
    recipe = makefile.split("\ndocs: ", 1)[1].split("\n\n", 1)[0].splitlines()[1]
    return recipe.strip().replace("$(BIN)", str(Path(sys.executable).parent)).split()


def _build_copy(tmp_path: Path, broken: str = "") -> subprocess.CompletedProcess[str]:
    """`make docs`' command in a copy of mkdocs.yml and docs/, with `broken` added to a page."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs")
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + broken, encoding="utf-8")
    return subprocess.run(
        _docs_recipe(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.slow
def test_the_docs_target_builds_the_site(tmp_path: Path) -> None:
    done = _build_copy(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "emulator" / "index.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    "broken",
    [
        "\n[gone](no-such-page.md)\n",
        "\n[anchor](emulator.md#no-such-heading)\n",
    ],
)
def test_the_docs_target_fails_on_a_broken_link(tmp_path: Path, broken: str) -> None:
    """Strict, as `make docs` runs it (MkDocs' --quiet would hide warnings from --strict)."""
    done = _build_copy(tmp_path, broken)
    assert done.returncode != 0, done.stderr


def test_the_site_s_navigation_holds_every_page() -> None:
    """Every page of docs/ is in mkdocs.yml's nav (strict mode fails on one left out; this
    says which, without a build)."""
    config = text_of(ROOT / "mkdocs.yml")
    listed = set(re.findall(r":\s+([\w/.-]+\.md)\s*$", config, re.MULTILINE))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages == listed
