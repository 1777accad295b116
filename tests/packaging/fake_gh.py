"""A stand-in for the `gh api` calls of action.yml's comment step, keeping the comments of
one repository in a JSON file (FAKE_GH_STATE) and using the real `jq` for `--jq`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(state_path.read_text()) if state_path.exists() else {"comments": []}
    state.setdefault("calls", []).append(argv)
    if not os.environ.get("GH_TOKEN"):
        print("gh: no GH_TOKEN", file=sys.stderr)
        return 4
    args = list(argv)
    assert args.pop(0) == "api", argv
    method, jq, fields, paginate = "GET", None, {}, False
    path = ""
    while args:
        word = args.pop(0)
        if word == "--method":
            method = args.pop(0)
        elif word == "--jq":
            jq = args.pop(0)
        elif word == "--paginate":
            paginate = True
        elif word == "-F":
            name, _, value = args.pop(0).partition("=")
            fields[name] = Path(value[1:]).read_text() if value.startswith("@") else value
        else:
            path = word
    parts = path.split("/")
    output: object = None
    if method == "GET" and parts[3:] == ["issues", parts[4], "comments"]:
        assert paginate, "listing comments must paginate"
        number = int(parts[4])
        output = [c for c in state["comments"] if c["issue"] == number]
    elif method == "POST" and parts[3] == "issues" and parts[5:] == ["comments"]:
        comment = {
            "id": 1000 + len(state["comments"]),
            "issue": int(parts[4]),
            "user": {"login": "github-actions[bot]", "type": "Bot"},
            "body": fields["body"],
        }
        state["comments"].append(comment)
        output = comment
    elif method == "PATCH" and parts[3:5] == ["issues", "comments"]:
        (comment,) = [c for c in state["comments"] if c["id"] == int(parts[5])]
        comment["body"] = fields["body"]
        output = comment
    else:
        print(f"gh: unexpected call {argv}", file=sys.stderr)
        return 1
    state_path.write_text(json.dumps(state))
    text = json.dumps(output)
    if jq is not None:
        text = subprocess.run(
            ["jq", "-r", jq], input=text, capture_output=True, text=True, check=True
        ).stdout
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
