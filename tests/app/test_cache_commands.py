"""`vidspec cache ls|verify|gc` on the local cache and on a team cache (a real S3 API on loopback)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers import run
from vidspec.core.hashing import file_sha256
from vidspec.core.lock import Lock, LockEntry
from vidspec.store.cache import Cache, LocalStore, Record
from vidspec.store.lease import Leases
from vidspec.store.remote import parse_cache_url
from vidspec.store.tiered import TeamTier

DAY = 86400.0


def _put(store: LocalStore, tmp: Path, n: int, age_days: float) -> str:
    key = f"sha256:{n:064x}"
    src = tmp / f"src{n}.mp4"
    src.write_bytes(f"object {n} ".encode() * 500)
    rec = Record(
        key=key, name=f"s{n}.video", kind="video", model="gen4.5", endpoint="image_to_video",
        file=f"{n:064x}.mp4", output_sha256=file_sha256(src), size=src.stat().st_size, duration=2.0,
        task_id=f"task-{n}", credits_estimated=60, credits_charged=60, created_at=time.time() - age_days * DAY,
    )  # fmt: skip
    store.put(key, src, rec)
    return key


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, list[str]]:
    """A local cache with four entries: 40, 40, 40 and 1 days old."""
    root = tmp_path / "cache"
    store = LocalStore(root / "runway")
    keys = [_put(store, tmp_path, n, age) for n, age in enumerate((40, 40, 40, 1))]
    return root, keys


def _lockfile(repo: Path, key: str) -> None:
    entry = LockEntry(key, "video", "gen4.5", "task", "0" * 64, 2.0, None, 60, 60)
    (repo / "film.lock.json").write_text(Lock({"s0.video": entry}).dumps(), "utf-8")


def test_ls_verify_and_gc_on_the_local_cache(
    filled: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, keys = filled
    code, out, _ = run(["cache", "ls", "--cache-dir", str(root), "--json"], capsys)
    assert code == 0 and sorted(e["key"] for e in json.loads(out)["entries"]) == sorted(keys)
    code, out, _ = run(["cache", "ls", "--cache-dir", str(root)], capsys)
    assert "4 entries" in out

    obj = root / "runway" / "objects" / "00" / f"{2:064x}.mp4"
    data = bytearray(obj.read_bytes())
    data[10] ^= 1
    obj.write_bytes(bytes(data))
    code, out, _ = run(["cache", "verify", "--cache-dir", str(root), "--json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["checked"] == 4 and [b["key"] for b in report["bad"]] == [keys[2]]
    assert not obj.exists() and list((root / "runway" / "quarantine").iterdir())
    code, out, _ = run(["cache", "verify", "--cache-dir", str(root)], capsys)
    assert code == 1 and "object missing" in out  # the record stays (for its task), the file is gone

    repo = tmp_path / "repo"
    repo.mkdir()
    _lockfile(repo, keys[0])
    args = ["cache", "gc", "--older-than", "30d", "--cache-dir", str(root), "--repo", str(repo), "--json"]
    code, out, _ = run([*args, "--dry-run"], capsys)
    assert code == 0 and len(json.loads(out)["removed"]) == 2
    assert len(list((root / "runway" / "records").rglob("*.json"))) == 4
    code, out, _ = run(args, capsys)
    result = json.loads(out)
    assert sorted(e["key"] for e in result["removed"]) == [keys[1], keys[2]]
    assert result["kept_locked"] == 1 and result["kept_young"] == 1
    store = LocalStore(root / "runway")
    assert store.has(keys[0]) and store.has(keys[3]) and store.record(keys[1]) is None


def test_gc_leaves_a_local_cache_alone_while_a_build_holds_it(
    filled: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = filled
    with Cache(root).exclusive():
        code, _, err = run(["cache", "gc", "--older-than", "1d", "--cache-dir", str(root)], capsys)
    assert code == 1 and "another vidspec build" in err
    assert len(list((root / "runway" / "records").rglob("*.json"))) == 4


def test_verify_and_gc_on_the_team_cache(
    filled: tuple[Path, list[str]], team_bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, keys = filled
    blobs = parse_cache_url(team_bucket)
    team = TeamTier(blobs, "runway", LocalStore(root / "runway"))
    assert all(team.publish(k) for k in keys)
    code, out, _ = run(["cache", "ls", "--cache-url", team_bucket, "--json"], capsys)
    listed = json.loads(out)
    assert listed["cache"] == team_bucket and {e["tier"] for e in listed["entries"]} == {"team"}
    assert len(listed["entries"]) == 4

    rec = team.store.record(keys[1])
    assert rec is not None
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"x" * rec.size)
    blobs.upload(team.store.object_name(keys[1], rec.file), bad)
    code, out, _ = run(["cache", "verify", "--cache-url", team_bucket], capsys)
    assert code == 1 and "damaged (sha256 mismatch)" in out and "3 ok, 1 bad" in out
    code, out, _ = run(["cache", "verify", "--cache-url", team_bucket], capsys)
    assert code == 0 and "3 ok, 0 bad" in out

    Leases(blobs, "runway", ttl=600, owner="ci-runner").claim(keys[2])  # a build is making it right now
    repo = tmp_path / "repo"
    repo.mkdir()
    _lockfile(repo, keys[0])
    code, out, _ = run(
        ["cache", "gc", "--older-than", "30d", "--cache-url", team_bucket, "--repo", str(repo), "--json"],
        capsys,
    )
    result = json.loads(out)
    assert code == 0 and result["removed"] == []  # keys[1] was dropped by verify
    assert (result["kept_locked"], result["kept_leased"], result["kept_young"]) == (1, 1, 1)
    Leases(blobs, "runway", owner="ci-runner").release(keys[2])  # not ours: stays
    code, out, _ = run(
        ["cache", "gc", "--older-than", "30d", "--cache-url", team_bucket, "--repo", str(repo)], capsys
    )
    assert "removed 0 entries" in out


def test_age_must_have_a_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(["cache", "gc", "--older-than", "30", "--cache-dir", str(tmp_path)], capsys)
    assert code == 1 and "30d" in err
