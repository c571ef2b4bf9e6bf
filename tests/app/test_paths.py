"""Item 4: inputs and outputs stay inside the project root (the git top level, or the spec's folder outside git).

A spec from a pull request is untrusted: a path that resolves outside the project must be refused by validate,
plan and build before anything is read, sent or written."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import run
from vidspec.testing.fake_runway import FakeRunway

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "examples" / "assets"
KEY = "test-key-not-real-4b1e"
PROMPT = "A lighthouse at dusk, slow pan across the rocks"


@dataclass
class Repo:
    top: Path  # the git top level
    films: Path  # the spec's folder, one below the top
    outside: Path  # a folder outside the repository
    secret: Path  # an image outside the repository

    def spec(self, body: str, name: str = "film.yaml") -> Path:
        path = self.films / name
        path.write_text(body, "utf-8")
        return path


def _png(path: Path) -> Path:
    Image.new("RGB", (64, 64), (200, 40, 40)).save(path)
    return path


def _git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    top = tmp_path / "repo"
    (top / "films").mkdir(parents=True)
    (top / "assets").mkdir()
    _git_init(top)
    _png(top / "assets" / "frame.png")
    shutil.copy(ASSETS / "street.mp4", top / "assets" / "street.mp4")
    shutil.copy(ASSETS / "performance.mp4", top / "assets" / "performance.mp4")
    shutil.copy(ASSETS / "music.mp3", top / "assets" / "music.mp3")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = _png(outside / "secret.png")
    shutil.copy(ASSETS / "street.mp4", outside / "street.mp4")
    shutil.copy(ASSETS / "performance.mp4", outside / "performance.mp4")
    shutil.copy(ASSETS / "music.mp3", outside / "music.mp3")
    return Repo(top, top / "films", outside, secret)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.05) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


def _image_spec(image: str, extra: str = "") -> str:
    return (
        f'version: 1\nname: film\n{extra}scenes:\n  - id: one\n    image: "{image}"\n    prompt: "{PROMPT}"\n'
    )


def _files_outside(repo: Repo) -> set[str]:
    return {p.name for p in repo.outside.rglob("*")}


# ------------------------------------------------------------------------------------------------ inputs


def _input_specs(repo: Repo) -> dict[str, tuple[str, tuple[int, int]]]:
    """Each case: a spec whose one input resolves outside the project, and where the error must point."""
    link = repo.films / "link.png"
    link.symlink_to(repo.secret)
    linked_dir = repo.films / "shared"
    linked_dir.symlink_to(repo.outside, target_is_directory=True)
    o = repo.outside
    return {
        "absolute": (_image_spec(str(repo.secret)), (5, 12)),
        "dotdot": (_image_spec("../../outside/secret.png"), (5, 12)),
        "symlink": (_image_spec("link.png"), (5, 12)),
        "symlinked-dir": (_image_spec("shared/secret.png"), (5, 12)),
        "references": (
            "version: 1\nname: film\nscenes:\n  - id: one\n    image:\n"
            '      prompt: "A jar with the @brand label"\n      model: gen4_image\n'
            f'      references: [{{path: "{o}/secret.png", tag: brand}}]\n'
            f'    prompt: "{PROMPT}"\n',
            (8, 27),
        ),
        "video": (
            "version: 1\nname: film\nscenes:\n  - id: one\n    model: aleph2\n"
            f'    video: "{o}/street.mp4"\n    prompt: "{PROMPT}"\n',
            (6, 12),
        ),
        "character": (
            'version: 1\nname: film\nscenes:\n  - id: one\n    model: act_two\n    ratio: "960:960"\n'
            '    character: "../../outside/secret.png"\n    performance: ../assets/performance.mp4\n',
            (7, 16),
        ),
        "performance": (
            'version: 1\nname: film\nscenes:\n  - id: one\n    model: act_two\n    ratio: "960:960"\n'
            f'    character: ../assets/frame.png\n    performance: "{o}/performance.mp4"\n',
            (8, 18),
        ),
        "music": (
            f'version: 1\nname: film\nmusic: {{path: "{o}/music.mp3"}}\nscenes:\n  - id: one\n'
            f'    prompt: "{PROMPT}"\n',
            (3, 15),
        ),
        "defaults": (
            f'version: 1\nname: film\ndefaults: {{image: "{repo.secret}"}}\nscenes:\n  - id: one\n'
            f'    prompt: "{PROMPT}"\n',
            (3, 19),
        ),
    }


INPUT_CASES = [
    "absolute", "dotdot", "symlink", "symlinked-dir", "references", "video", "character", "performance",
    "music", "defaults",
]  # fmt: skip


@pytest.mark.parametrize("case", INPUT_CASES)
def test_an_input_outside_the_project_is_refused_by_validate_and_plan(
    repo: Repo, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body, (line, col) = _input_specs(repo)[case]
    spec = repo.spec(body)
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1, out
    assert f"film.yaml:{line}:{col}: error[VS308]" in out, out
    assert "outside the project" in out and str(repo.top) in out
    assert "VS306" not in out  # not even a video's header is read
    code, _, err = run(["plan", str(spec), "--cache-dir", str(repo.top / ".cache")], capsys)
    assert code == 1 and f"film.yaml:{line}:{col}: error[VS308]" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("case", INPUT_CASES)
def test_an_input_outside_the_project_is_never_sent(
    repo: Repo, case: str, fake: FakeRunway, capsys: pytest.CaptureFixture[str]
) -> None:
    body, (line, col) = _input_specs(repo)[case]
    spec = repo.spec(body)
    before = _files_outside(repo)
    code, _, err = run(["build", str(spec), "--backend", "runway", "--yes", "--json"], capsys)
    assert code == 1 and f"film.yaml:{line}:{col}: error[VS308]" in err, err
    assert fake.requests == [] and fake.create_count() == 0  # nothing read, nothing sent, nothing paid
    assert _files_outside(repo) == before
    assert not (repo.films / "build").exists()


def test_inputs_anywhere_inside_the_git_repository_are_fine(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    # The root is the git top level, not the spec's folder: ../assets is inside the project.
    spec = repo.spec(_image_spec("../assets/frame.png", 'music: {path: "../assets/music.mp3"}\n'))
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 0, out
    # An absolute path inside the repository is inside too.
    spec = repo.spec(_image_spec(str(repo.top / "assets" / "frame.png")))
    assert run(["validate", str(spec)], capsys)[0] == 0


def test_outside_git_the_root_is_the_spec_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    films = tmp_path / "plain" / "films"
    films.mkdir(parents=True)
    _png(tmp_path / "plain" / "frame.png")
    _png(films / "here.png")
    spec = films / "film.yaml"
    spec.write_text(_image_spec("here.png"), "utf-8")
    assert run(["validate", str(spec)], capsys)[0] == 0
    spec.write_text(_image_spec("../frame.png"), "utf-8")
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "film.yaml:5:12: error[VS308]" in out and str(films) in out


def test_a_git_worktree_whose_git_entry_is_a_file_is_a_root(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git = ["git", "-C", str(repo.top), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    tree = tmp_path / "tree"
    subprocess.run([*git, "worktree", "add", "-q", str(tree)], check=True)
    assert (tree / ".git").is_file()
    (tree / "films").mkdir(exist_ok=True)
    spec = tree / "films" / "film.yaml"
    spec.write_text(_image_spec("../assets/frame.png"), "utf-8")
    assert run(["validate", str(spec)], capsys)[0] == 0
    spec.write_text(_image_spec("../../repo/assets/frame.png"), "utf-8")  # the main checkout: another root
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "error[VS308]" in out


# ------------------------------------------------------------------------------------------------ opt-out


def test_allowed_paths_let_shared_inputs_in(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = repo.spec(_image_spec(str(repo.secret)))
    assert run(["validate", str(spec)], capsys)[0] == 1
    assert run(["validate", str(spec), "--allow-path", str(repo.outside)], capsys)[0] == 0
    cache = ["--cache-dir", str(repo.top / ".cache")]
    assert run(["plan", str(spec), *cache, "--allow-path", str(repo.outside)], capsys)[0] == 0
    monkeypatch.setenv("VIDSPEC_ALLOW_PATHS", os.pathsep.join(["/nonexistent/elsewhere", str(repo.outside)]))
    assert run(["validate", str(spec)], capsys)[0] == 0
    assert run(["plan", str(spec), *cache], capsys)[0] == 0
    # An allowed folder is for inputs only: the film is never written there.
    spec = repo.spec(_image_spec(str(repo.secret), f'output: {{path: "{repo.outside}/x.mp4"}}\n'))
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "error[VS309]" in out


@pytest.mark.slow
def test_allowed_paths_work_for_build(
    repo: Repo, fake: FakeRunway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = repo.spec(_image_spec(str(repo.secret)))
    args = [
        "build",
        str(spec),
        "--backend",
        "runway",
        "--yes",
        "--json",
        "--no-stitch",
        "--poll-scale",
        "0.02",
    ]
    code, _, err = run([*args, "--allow-path", str(repo.outside)], capsys)
    assert code == 0, err
    assert fake.create_count() == 1
    monkeypatch.setenv("VIDSPEC_ALLOW_PATHS", str(repo.outside))
    spec.write_text(_image_spec(str(repo.secret)).replace("one", "two"), "utf-8")
    code, _, err = run(args, capsys)
    assert code == 0, err


# ------------------------------------------------------------------------------------------------ outputs


def _output_specs(repo: Repo) -> dict[str, tuple[str, tuple[int, int], str]]:
    """Each case: a spec, where the error must point, and its code."""
    (repo.films / "build").symlink_to(repo.outside, target_is_directory=True)  # only the "symlinked" case
    o = repo.outside
    out = (
        'version: 1\nname: film\noutput: {{path: "{}"}}\nscenes:\n  - id: one\n    prompt: "' + PROMPT + '"\n'
    )
    return {
        "dotdot": (out.format("../../outside/x.mp4"), (3, 16), "VS309"),
        "tmp": (out.format("../../../../../../../../../../../tmp/vidspec-x.mp4"), (3, 16), "VS309"),
        "absolute": (out.format(f"{o}/x.mp4"), (3, 16), "VS309"),
        "build-dotdot": (out.format("build/../../../outside/x.mp4"), (3, 16), "VS309"),
        "symlinked-dir": (out.format("build/x.mp4"), (3, 16), "VS309"),
        "default-in-symlinked-dir": (
            f'version: 1\nname: film\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n',
            (1, 1),
            "VS309",
        ),
        "cache": (out.format(".vidspec/x.mp4"), (3, 16), "VS310"),
        "cache-subdir": (out.format(".vidspec/preview/objects/x.mp4"), (3, 16), "VS310"),
    }


OUTPUT_CASES = [
    "dotdot", "tmp", "absolute", "build-dotdot", "symlinked-dir", "default-in-symlinked-dir", "cache",
    "cache-subdir",
]  # fmt: skip


def _fresh_output_spec(repo: Repo, case: str) -> tuple[Path, tuple[int, int], str]:
    specs = _output_specs(repo)
    if case not in ("symlinked-dir", "default-in-symlinked-dir"):
        (repo.films / "build").unlink()
    body, pos, code = specs[case]
    return repo.spec(body), pos, code


@pytest.mark.parametrize("case", OUTPUT_CASES)
def test_an_output_outside_the_project_or_in_the_cache_is_refused_by_validate_and_plan(
    repo: Repo, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, (line, col), want = _fresh_output_spec(repo, case)
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and f"film.yaml:{line}:{col}: error[{want}]" in out, out
    for backend in ("runway", "preview"):
        code, _, err = run(["plan", str(spec), "--backend", backend], capsys)
        assert code == 1 and f"film.yaml:{line}:{col}: error[{want}]" in err, err


def test_etc_is_refused_by_validate_and_plan(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    spec = repo.spec(
        f'version: 1\nname: film\noutput: {{path: /etc/x.mp4}}\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n'
    )
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "film.yaml:3:16: error[VS309]" in out and "/etc/x.mp4" in out, out
    code, _, err = run(["plan", str(spec)], capsys)
    assert code == 1 and "film.yaml:3:16: error[VS309]" in err


@pytest.mark.slow
@pytest.mark.parametrize("case", OUTPUT_CASES)
def test_an_output_outside_the_project_is_never_written_by_build(
    repo: Repo, case: str, fake: FakeRunway, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, (line, col), want = _fresh_output_spec(repo, case)
    before = _files_outside(repo)
    for backend in ("preview", "runway"):
        code, _, err = run(["build", str(spec), "--backend", backend, "--yes", "--json"], capsys)
        assert code == 1 and f"film.yaml:{line}:{col}: error[{want}]" in err, err
    assert fake.requests == []
    assert _files_outside(repo) == before
    assert not Path("/tmp/vidspec-x.mp4").exists()
    assert not (repo.films / ".vidspec" / "x.mp4").exists()
    assert not list((repo.films / ".vidspec").rglob("x.*")) if (repo.films / ".vidspec").exists() else True


@pytest.mark.slow
def test_build_refuses_etc(repo: Repo, fake: FakeRunway, capsys: pytest.CaptureFixture[str]) -> None:
    spec = repo.spec(
        f'version: 1\nname: film\noutput: {{path: /etc/x.mp4}}\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n'
    )
    for backend in ("preview", "runway"):
        code, _, err = run(["build", str(spec), "--backend", backend, "--yes", "--json"], capsys)
        assert code == 1 and "film.yaml:3:16: error[VS309]" in err, err
    assert (
        fake.requests == [] and not Path("/etc/x.mp4").exists() and not Path("/etc/film.ledger.json").exists()
    )


def test_the_cache_dir_option_and_env_are_the_cache(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = repo.spec(
        f'version: 1\nname: film\noutput: {{path: out/x.mp4}}\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n'
    )
    (repo.films / "build").unlink(missing_ok=True)
    assert run(["validate", str(spec)], capsys)[0] == 0
    code, _, err = run(["plan", str(spec), "--cache-dir", str(repo.films / "out")], capsys)
    assert code == 1 and "film.yaml:3:16: error[VS310]" in err, err
    code, _, err = run(["storyboard", str(spec), "--cache-dir", str(repo.films)], capsys)
    assert code == 1 and "error[VS310]" in err, err
    monkeypatch.setenv("VIDSPEC_CACHE_DIR", str(repo.films / "out"))
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "film.yaml:3:16: error[VS310]" in out, out
    code, _, err = run(["build", str(spec), "--backend", "preview", "--json"], capsys)
    assert code == 1 and "film.yaml:3:16: error[VS310]" in err, err
    assert not (repo.films / "out" / "x.mp4").exists()


def test_a_sidecar_that_is_a_symlink_out_of_the_project_is_refused(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.films / "build").unlink(missing_ok=True)
    (repo.films / "build").mkdir()
    (repo.films / "build" / "film.srt").symlink_to(repo.outside / "captions.srt")
    spec = repo.spec(f'version: 1\nname: film\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n')
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "error[VS309]" in out and "film.srt" in out, out


def test_storyboard_refuses_an_output_outside(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    spec = repo.spec(
        'version: 1\nname: film\noutput: {path: "../../outside/x.mp4"}\nscenes:\n  - id: one\n'
        f'    prompt: "{PROMPT}"\n'
    )
    code, _, err = run(["storyboard", str(spec)], capsys)
    assert code == 1 and "film.yaml:3:16: error[VS309]" in err, err
    assert _files_outside(repo) == {"secret.png", "street.mp4", "performance.mp4", "music.mp3"}


def test_the_files_checked_are_the_files_written() -> None:
    from vidspec.core.project_root import output_files
    from vidspec.media.stitch.manifest import sidecar_paths

    out = Path("/p/films/build/film.preview.mp4")
    assert set(sidecar_paths(out)) <= set(output_files(out, "film"))


def test_empty_allow_path_entries_allow_nothing(tmp_path: Path) -> None:
    from vidspec.core.project_root import ProjectPaths, split_allowed

    assert split_allowed(os.pathsep.join(["", " ", str(tmp_path)])) == (tmp_path,)
    paths = ProjectPaths.for_spec(tmp_path / "films" / "film.yaml", allowed=split_allowed(os.pathsep))
    assert paths.allowed == () and paths.input_problem("../x.png") is not None


def test_a_symlink_loop_is_a_diagnostic_not_a_crash(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (repo.films / "loop.png").symlink_to("loop.png")
    spec = repo.spec(_image_spec("loop.png", 'output: {path: "build/loop.mp4/x.mp4"}\n'))
    (repo.films / "build").mkdir()
    (repo.films / "build" / "loop.mp4").symlink_to("loop.mp4")
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "film.yaml:6:12: error[VS308]" in out and "symlink loop" in out, out
    assert "film.yaml:3:16: error[VS309]" in out, out
