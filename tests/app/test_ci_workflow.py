"""examples/ci/vidspec.yml: it parses, every vidspec command and flag it runs exists, and its cost-diff step,
run as written in a real git repository, writes the comment a bot posts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from tests.helpers import EXAMPLES, copy_examples
from vidspec.app.cli import cli

WORKFLOW = EXAMPLES / "ci" / "vidspec.yml"


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text("utf-8"))
    return data


def steps(job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow()["jobs"][job]["steps"]
    return found


def vidspec_calls() -> list[list[str]]:
    calls = []
    for job in workflow()["jobs"]:
        for step in steps(job):
            for line in str(step.get("run", "")).splitlines():
                if re.match(r"\s*vidspec\s", line):
                    words = shlex.split(line.split(">>")[0].split("||")[0])
                    calls.append(words[1:])
    return calls


def test_the_workflow_parses_and_triggers_on_pull_requests_and_main() -> None:
    data = workflow()
    on = data["on"]  # YAML 1.2 (ruamel): `on` stays a string key
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    assert set(data["jobs"]) == {"cost-diff", "build"}
    assert data["jobs"]["cost-diff"]["if"] == "github.event_name == 'pull_request'"
    assert "RUNWAYML_API_SECRET" not in str(data["jobs"]["cost-diff"])  # planning is free: no key for PRs
    assert "secrets.RUNWAYML_API_SECRET" in str(data["jobs"]["build"])


def test_every_vidspec_command_and_flag_it_runs_exists() -> None:
    calls = vidspec_calls()
    assert [c[0] for c in calls] == ["plan", "build"]
    for call in calls:
        command = cli.commands[call[0]]
        assert isinstance(command, click.Command)
        flags = {opt for p in command.params for opt in p.opts if opt.startswith("--")}
        used = {w.split("=")[0] for w in call if w.startswith("--")}
        assert used <= flags, (call[0], used - flags)
    plan, build = calls
    assert "--diff" in plan and plan[plan.index("--format") + 1] == "markdown"
    assert "--locked" in build and "--yes" in build


@pytest.mark.slow  # runs git and the CLI in subprocesses
def test_the_cost_diff_step_writes_one_comment_for_every_spec(tmp_path: Path) -> None:
    repo = copy_examples(tmp_path / "repo" / "examples").parent
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull,
    }  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "films"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    spec = repo / "examples" / "hawker-noodles.yaml"
    spec.write_text(spec.read_text("utf-8").replace("slow push-in", "slow pull-out"), "utf-8")
    bin_dir = tmp_path / "bin"  # `vidspec` on PATH: this checkout's, as pip would install it
    bin_dir.mkdir()
    shim = bin_dir / "vidspec"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vidspec "$@"\n', "utf-8")
    shim.chmod(0o755)
    [step] = [s for s in steps("cost-diff") if s.get("id") == "diff"]
    out, summary = tmp_path / "output", tmp_path / "summary"
    run_env = {
        **env, **workflow()["env"], "BASE": "main", "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
        "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }  # fmt: skip
    proc = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=repo, env=run_env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    comment = (repo / "comment.md").read_text("utf-8")
    assert comment.startswith("<!-- vidspec-cost-diff -->\n")
    assert comment.count("<!-- vidspec-plan: ") == 2
    assert (
        "**Plan: 0 to create, 1 to regenerate, 8 unchanged, 0 removed; to spend 60 credits ($0.60)**"
        in comment
    )
    assert "**Plan: 0 to create, 0 to regenerate" in comment  # the other spec: unchanged
    assert out.read_text("utf-8") == "status=0\n"
    assert summary.read_text("utf-8") == comment
