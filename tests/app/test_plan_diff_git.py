"""`plan --diff REF` against real git repositories: every row, reason, old/new value and total, and the markdown
against golden files. The spec lives in a subfolder and one input outside it, so paths resolve like a user's."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run

pytestmark = pytest.mark.slow  # runs the git command

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "plan_diff"
OPENING = (
    "A busy hawker centre at dusk, steam rising from a row of stalls, warm tungsten light, "
    "slow dolly-in past the noodle stall"
)
SPEC = f"""version: 1
name: film
defaults:
  model: gen4.5
  ratio: "1280:720"
  duration: 5
  voice: Maya
scenes:
  - id: opening
    prompt: "{OPENING}"
    narration: "Since 1968, one stall has fed this city."
  - id: bowl
    prompt: "The bowl steams as chopsticks lift the noodles, slow push-in"
    image: assets/bowl.png
  - id: jar
    model: gen4_turbo
    image:
      prompt: "Studio photo of a jar of sambal on dark slate, @brand label on the jar"
      model: gen4_image
      ratio: "1280:720"
      references: [{{path: ../shared/logo.png, tag: brand}}]
    prompt: "Slow push toward the jar, the sauce glistening"
  - id: closing
    prompt: "The stall owner hands a bowl across the counter, handheld close-up"
    narration:
      text: "Come hungry. Leave happy."
      voice: Arjun
"""
# Fixed identity and dates: the same commits (and hashes) on every run, for the golden markdown.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


def png(color: tuple[int, int, int]) -> bytes:
    """A 64x36 PNG with stored (level 0) deflate: the same bytes with any zlib or Pillow, so commits and
    digests in the golden files never move."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    width, height = 64, 36
    raw = b"".join(b"\0" + bytes(color) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


def sha12(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with films/film.yaml, films/assets/bowl.png and shared/logo.png committed; the working
    directory is films/ (a subfolder of the repository)."""
    root = tmp_path / "repo"
    (root / "films" / "assets").mkdir(parents=True)
    (root / "shared").mkdir()
    (root / "films" / "film.yaml").write_text(SPEC, "utf-8")
    (root / "films" / "assets" / "bowl.png").write_bytes(png((200, 120, 40)))
    (root / "shared" / "logo.png").write_bytes(png((10, 10, 200)))
    (root / ".gitignore").write_text(".vidspec/\n", "utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the film")
    monkeypatch.chdir(root / "films")
    monkeypatch.setenv("COLUMNS", "200")
    return root


def edit(repo: Path, old: str, new: str) -> None:
    spec = repo / "films" / "film.yaml"
    text = spec.read_text("utf-8")
    assert old in text
    spec.write_text(text.replace(old, new), "utf-8")


def diff(capsys: pytest.CaptureFixture[str], ref: str = "HEAD", spec: str = "film.yaml") -> dict[str, Any]:
    code, out, err = run(["plan", spec, "--diff", ref, "--json"], capsys)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data["diff"]


def rows(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for s in d["scenes"] for a in s["assets"]}


def statuses(d: dict[str, Any]) -> dict[str, str]:
    return {name: a["status"] for name, a in rows(d).items()}


ALL = [
    "opening.video", "opening.narration", "bowl.video", "jar.image", "jar.video", "closing.video",
    "closing.narration",
]  # fmt: skip
TOTAL = 60 + 1 + 60 + 5 + 25 + 60 + 1


def test_nothing_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = diff(capsys)
    assert d["base_found"] is True and d["ref"] == "HEAD" and d["path"] == "films/film.yaml"
    assert d["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert statuses(d) == dict.fromkeys(ALL, "unchanged")
    assert (d["total_before"], d["total_after"], d["delta_credits"], d["to_spend_credits"]) == (
        TOTAL,
        TOTAL,
        0,
        0,
    )
    assert (
        d["summary"]
        == "Plan: 0 to create, 0 to regenerate, 7 unchanged, 0 removed; to spend 0 credits ($0.00)"
    )
    assert all(a["changes"] == [] and a["key_before"] == a["key_after"] for a in rows(d).values())


def test_a_changed_prompt_shows_old_and_new_shortened_around_the_change(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(repo, "warm tungsten light", "cold neon light")
    d = diff(capsys)
    assert statuses(d) == {**dict.fromkeys(ALL, "unchanged"), "opening.video": "regenerated"}
    row = rows(d)["opening.video"]
    assert row["reason"] == "prompt changed"
    assert (row["credits_before"], row["credits_after"], row["spend_credits"]) == (60, 60, 60)
    assert row["key_before"] != row["key_after"]
    [change] = row["changes"]
    new_prompt = OPENING.replace("warm tungsten", "cold neon")
    assert change == {
        "field": "prompt", "label": "prompt", "change": "changed", "old": OPENING, "new": new_prompt,
        "old_excerpt": "…rising from a row of stalls, warm tungsten light, slow dolly-in past…",
        "new_excerpt": "…rising from a row of stalls, cold neon light, slow dolly-in past…",
    }  # fmt: skip
    assert (d["total_before"], d["total_after"], d["delta_credits"], d["to_spend_credits"]) == (
        TOTAL,
        TOTAL,
        0,
        60,
    )
    assert d["to_spend_usd"] == 0.6
    assert (
        d["summary"]
        == "Plan: 0 to create, 1 to regenerate, 6 unchanged, 0 removed; to spend 60 credits ($0.60)"
    )
    scene = d["scenes"][0]
    assert (scene["id"], scene["status"], scene["moved"], scene["spend_credits"]) == (
        "opening",
        "changed",
        False,
        60,
    )


def test_bytes_of_a_reference_image_regenerate_it_and_what_depends_on_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = png((10, 10, 200)), png((200, 10, 10))
    (repo / "shared" / "logo.png").write_bytes(new)  # same name, other bytes
    d = diff(capsys)
    assert statuses(d) == {
        **dict.fromkeys(ALL, "unchanged"),
        "jar.image": "regenerated",
        "jar.video": "regenerated",
    }
    image, video = rows(d)["jar.image"], rows(d)["jar.video"]
    assert image["reason"] == "reference images bytes changed"
    assert image["changes"] == [{
        "field": "references", "label": "reference images", "change": "bytes_changed",
        "old": [f"../shared/logo.png (sha256:{sha12(old)}) @brand"],
        "new": [f"../shared/logo.png (sha256:{sha12(new)}) @brand"],
        "old_excerpt": f"../shared/logo.png (sha256:{sha12(old)}) @brand",
        "new_excerpt": f"../shared/logo.png (sha256:{sha12(new)}) @brand",
    }]  # fmt: skip
    assert video["reason"] == "depends on regenerated reference image 'jar'"
    assert [(c["field"], c["change"], c["new"]) for c in video["changes"]] == [
        ("image", "regenerated", "jar.image (generated)")
    ]
    assert (image["spend_credits"], video["spend_credits"], d["to_spend_credits"], d["delta_credits"]) == (
        5,
        25,
        30,
        0,
    )


def test_a_changed_voice(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(repo, "voice: Arjun", "voice: Maya")
    d = diff(capsys)
    assert statuses(d) == {**dict.fromkeys(ALL, "unchanged"), "closing.narration": "regenerated"}
    row = rows(d)["closing.narration"]
    assert row["reason"] == "voice changed"
    assert [(c["field"], c["change"], c["old"], c["new"]) for c in row["changes"]] == [
        ("voice", "changed", "Arjun", "Maya")
    ]
    assert d["to_spend_credits"] == 1
    assert d["summary"].endswith("to spend 1 credit ($0.01)")


def test_a_new_scene_order_costs_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = repo / "films" / "film.yaml"
    head, rest = spec.read_text("utf-8").split("  - id: bowl\n")
    bowl, after = rest.split("  - id: jar\n")
    jar, closing = after.split("  - id: closing\n")
    spec.write_text(
        head + "  - id: jar\n" + jar + "  - id: bowl\n" + bowl + "  - id: closing\n" + closing, "utf-8"
    )
    d = diff(capsys)
    assert statuses(d) == dict.fromkeys(ALL, "unchanged")
    assert [(s["id"], s["position_before"], s["position_after"], s["moved"]) for s in d["scenes"]] == [
        ("opening", 0, 0, False), ("jar", 2, 1, True), ("bowl", 1, 2, True), ("closing", 3, 3, False),
    ]  # fmt: skip
    assert (d["to_spend_credits"], d["delta_credits"]) == (0, 0)


def test_added_and_removed_scenes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(repo, '  - id: bowl\n    prompt: "The bowl steams as chopsticks lift the noodles, slow push-in"\n'
         "    image: assets/bowl.png\n", "")  # fmt: skip
    spec = repo / "films" / "film.yaml"
    spec.write_text(
        spec.read_text("utf-8") + '  - id: street\n    prompt: "Rain on the street outside, neon signs"\n'
        "    model: gen4_turbo\n    image: assets/bowl.png\n",
        "utf-8",
    )
    d = diff(capsys)
    assert statuses(d) == {
        **dict.fromkeys(ALL, "unchanged"), "bowl.video": "removed", "street.video": "added",
    }  # fmt: skip
    assert [(s["id"], s["status"]) for s in d["scenes"]] == [
        ("opening", "unchanged"), ("jar", "unchanged"), ("closing", "unchanged"), ("street", "added"),
        ("bowl", "removed"),
    ]  # fmt: skip
    street, bowl = rows(d)["street.video"], rows(d)["bowl.video"]
    assert (street["reason"], street["credits_before"], street["credits_after"], street["spend_credits"]) == (
        "new asset", 0, 25, 25
    )  # fmt: skip
    assert street["key_before"] is None and street["model_after"] == "gen4_turbo"
    assert [(r["field"], r["value"]) for r in street["request"]] == [
        ("model", "gen4_turbo"), ("prompt", "Rain on the street outside, neon signs"), ("ratio", "1280:720"),
        ("duration", 5), ("image", f"assets/bowl.png (sha256:{sha12(png((200, 120, 40)))})"),
    ]  # fmt: skip
    assert bowl["request"] == [] and rows(d)["opening.video"]["request"] == []
    assert (bowl["reason"], bowl["credits_before"], bowl["credits_after"], bowl["spend_credits"]) == (
        "no longer in the spec", 60, 0, 0
    )  # fmt: skip
    assert bowl["key_after"] is None and bowl["model_before"] == "gen4.5"
    assert (d["total_before"], d["total_after"], d["delta_credits"]) == (TOTAL, TOTAL - 35, -35)
    assert d["delta_usd"] == -0.35
    assert (
        d["summary"]
        == "Plan: 1 to create, 0 to regenerate, 6 unchanged, 1 removed; to spend 25 credits ($0.25)"
    )


def test_a_renamed_scene_is_free(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(repo, "id: closing", "id: finale")
    d = diff(capsys)
    finale = rows(d)["finale.video"]
    assert (
        finale["status"] == "added" and finale["spend_credits"] == 0 and finale["same_as"] == "closing.video"
    )
    assert rows(d)["closing.video"]["status"] == "removed"
    assert d["to_spend_credits"] == 0


def test_a_spec_absent_at_the_ref_is_all_added(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "films" / "new.yaml").write_text(SPEC, "utf-8")  # not committed
    d = diff(capsys, spec="new.yaml")
    assert d["base_found"] is False
    assert statuses(d) == dict.fromkeys(ALL, "added")
    assert (d["total_before"], d["total_after"], d["delta_credits"], d["to_spend_credits"]) == (
        0,
        TOTAL,
        TOTAL,
        TOTAL,
    )


def test_refs_git_understands(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "tag", "v1")
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo, "voice: Arjun", "voice: Maya")
    git(repo, "commit", "-q", "-am", "voice")
    assert diff(capsys, "HEAD")["to_spend_credits"] == 0
    for ref in ("HEAD~1", "main", "v1", git(repo, "rev-parse", "main").strip()[:10]):
        assert diff(capsys, ref)["to_spend_credits"] == 1, ref


def test_the_markdown_matches_the_golden_file_and_is_stable(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(repo, "warm tungsten light", "cold neon light")
    (repo / "shared" / "logo.png").write_bytes(png((200, 10, 10)))
    edit(repo, "voice: Arjun", "voice: Maya")
    code, out, _ = run(["plan", "film.yaml", "--diff", "HEAD", "--format", "markdown"], capsys)
    assert code == 0
    _, again, _ = run(["plan", "film.yaml", "--diff", "HEAD", "--format", "markdown"], capsys)
    assert again == out
    assert str(repo) not in out and "vidspec-ref-" not in out  # no temporary path
    golden = GOLDEN / "changes.md"
    if os.environ.get("VIDSPEC_UPDATE_GOLDEN"):
        golden.write_text(out, "utf-8")
    assert out == golden.read_text("utf-8")


def test_the_markdown_of_added_removed_and_moved_scenes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = repo / "films" / "film.yaml"
    head, rest = spec.read_text("utf-8").split("  - id: bowl\n")
    _, after = rest.split("  - id: jar\n")
    jar, closing = after.split("  - id: closing\n")
    # bowl removed, closing before jar, a new scene with a prompt that needs escaping
    street = '  - id: street\n    prompt: "Rain | neon *signs* <b>outside</b>, `wet` asphalt"\n    model: gen4_turbo\n    image: assets/bowl.png\n'
    spec.write_text(head + "  - id: closing\n" + closing + "  - id: jar\n" + jar + street, "utf-8")
    code, out, _ = run(["plan", "film.yaml", "--diff", "HEAD", "--format", "markdown"], capsys)
    assert code == 0
    golden = GOLDEN / "scenes.md"
    if os.environ.get("VIDSPEC_UPDATE_GOLDEN"):
        golden.write_text(out, "utf-8")
    assert out == golden.read_text("utf-8")


def test_the_markdown_of_a_new_spec(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "films" / "new.yaml").write_text(SPEC, "utf-8")
    code, out, _ = run(["plan", "new.yaml", "--diff", "HEAD", "--format", "markdown"], capsys)
    assert code == 0
    golden = GOLDEN / "new-spec.md"
    if os.environ.get("VIDSPEC_UPDATE_GOLDEN"):
        golden.write_text(out, "utf-8")
    assert out == golden.read_text("utf-8")


def test_the_markdown_of_an_unchanged_spec(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["plan", "film.yaml", "--diff", "HEAD", "--format", "markdown"], capsys)
    assert code == 0
    golden = GOLDEN / "unchanged.md"
    if os.environ.get("VIDSPEC_UPDATE_GOLDEN"):
        golden.write_text(out, "utf-8")
    assert out == golden.read_text("utf-8")


def test_the_text_diff(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(repo, "warm tungsten light", "cold neon light")
    code, out, _ = run(["plan", "film.yaml", "--diff", "HEAD"], capsys)
    assert code == 0
    assert "against HEAD (" in out
    assert "opening.video: prompt changed" in out
    assert "  - …rising from a row of stalls, warm tungsten light, slow dolly-in past…" in out
    assert "  + …rising from a row of stalls, cold neon light, slow dolly-in past…" in out
    assert "Plan: 0 to create, 1 to regenerate, 6 unchanged, 0 removed; to spend 60 credits ($0.60)" in out
    assert (
        f"Total for a build from nothing: {TOTAL} → {TOTAL} credits ($2.12 → $2.12), 0 credits ($0.00)" in out
    )


def test_detailed_exitcode_is_about_the_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(["plan", "film.yaml", "--diff", "HEAD", "--detailed-exitcode"], capsys)
    assert code == 0  # nothing cached, but the change itself spends nothing
    edit(repo, "voice: Arjun", "voice: Maya")
    code, _, _ = run(["plan", "film.yaml", "--diff", "HEAD", "--detailed-exitcode"], capsys)
    assert code == 2


def test_outside_a_repository_and_with_an_unknown_ref(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["plan", "film.yaml", "--diff", "no-such-branch"], capsys)
    assert code == 1 and "vidspec: --diff: unknown git ref 'no-such-branch'" in err and out == ""
    code, _, err = run(["plan", "film.yaml", "--diff", "--upload-pack=touch /tmp/x"], capsys)
    assert code == 1 and "unknown git ref" in err
    alone = tmp_path / "alone"
    (alone / "assets").mkdir(parents=True)
    spec = alone / "film.yaml"
    spec.write_text(SPEC.replace("../shared/logo.png", "logo.png"), "utf-8")
    (alone / "logo.png").write_bytes(png((1, 2, 3)))
    (alone / "assets" / "bowl.png").write_bytes(png((3, 2, 1)))
    code, out, err = run(["plan", str(spec), "--diff", "HEAD"], capsys)
    assert code == 1 and "is not inside a git repository" in err, err


def test_a_spec_with_errors_at_the_ref_is_named_as_git_does(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(repo, "duration: 5", "duration: 99")
    git(repo, "commit", "-q", "-am", "broken")
    edit(repo, "duration: 99", "duration: 5")
    code, _, err = run(["plan", "film.yaml", "--diff", "HEAD"], capsys)
    assert code == 1
    assert "HEAD:films/film.yaml:" in err and "the spec at HEAD has errors" in err
    assert "vidspec-ref-" not in err


def test_the_snapshot_holds_the_spec_its_lockfile_and_the_files_it_names(repo: Path) -> None:
    from vidspec.app.gitref import spec_at_ref

    (repo / "films" / "film.lock.json").write_text('{"version": 1, "assets": {}}\n', "utf-8")
    (repo / "films" / "assets" / "unused.png").write_bytes(png((0, 0, 0)))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "lock")
    with spec_at_ref(Path("film.yaml"), "HEAD") as snap:
        files = sorted(p.relative_to(snap.root).as_posix() for p in snap.root.rglob("*") if p.is_file())
        assert files == [
            "films/assets/bowl.png",
            "films/film.lock.json",
            "films/film.yaml",
            "shared/logo.png",
        ]
        assert snap.spec == snap.root / "films" / "film.yaml" and snap.path == "films/film.yaml"
        root = snap.root
    assert not root.exists()  # removed afterwards


def test_a_take_in_the_lockfile_is_part_of_each_side(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vidspec.core.lock import Lock, LockEntry

    entry = LockEntry("sha256:" + "0" * 64, "video", "gen4.5", "t1", "0" * 64, 5.0, 777, 60, 60)
    lock = Lock({"opening.video": replace(entry, reroll={"spec_seed": None})})
    (repo / "films" / "film.lock.json").write_text(lock.dumps(), "utf-8")
    d = diff(capsys)  # a re-roll since the ref: a new seed, paid
    row = rows(d)["opening.video"]
    assert row["status"] == "regenerated" and row["spend_credits"] == 60
    assert [(c["field"], c["change"], c["old"], c["new"]) for c in row["changes"]] == [
        ("seed", "added", None, 777)
    ]
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a new take of the opening")
    d = diff(capsys)  # the same take on both sides: the lockfile at the ref is read too
    assert statuses(d) == dict.fromkeys(ALL, "unchanged") and d["to_spend_credits"] == 0


def test_a_file_outside_the_repository_is_read_as_it_is_now_on_both_sides(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"  # beside the repository: allowed, not versioned
    outside.mkdir()
    (outside / "pal.png").write_bytes(png((9, 9, 9)))
    edit(repo, "../shared/logo.png", "../../outside/pal.png")
    git(repo, "commit", "-q", "-am", "a shared palette from outside")
    (outside / "pal.png").write_bytes(
        png((8, 8, 8))
    )  # changed, but git does not know it: the same both sides
    code, out, err = run(
        ["plan", "film.yaml", "--diff", "HEAD", "--json", "--allow-path", str(outside)], capsys
    )
    assert code == 0, err
    d = json.loads(out)["diff"]
    assert statuses(d) == dict.fromkeys(ALL, "unchanged")
    code, _, err = run(["plan", "film.yaml", "--diff", "HEAD"], capsys)
    assert code == 1 and "outside the project" in err  # without --allow-path, as without --diff
