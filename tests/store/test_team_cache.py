"""The team cache's parts against a real S3 API (moto's server on loopback) and a shared directory: the blob
protocol with its conditional writes, leases (claim, renew, takeover after expiry, release), the sha256 check
before a team object enters the local cache, one warning when the store is down, 403 as an error."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import S3Server, free_port
from vidspec.errors import ConfigError, TeamCacheDenied
from vidspec.store.cache import LocalStore, Record
from vidspec.store.lease import Leases
from vidspec.store.remote import Blobs, FileBlobs, S3Blobs, parse_cache_url
from vidspec.store.tiered import TeamTier

KEY = "sha256:" + "ab" * 32


@pytest.fixture(params=["s3", "file"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Blobs:
    if request.param == "s3":
        url = request.getfixturevalue("team_bucket")
        return parse_cache_url(url)
    (tmp_path / "shared").mkdir()
    return parse_cache_url((tmp_path / "shared").as_uri())


def test_urls_are_parsed_and_credentials_in_them_refused(tmp_path: Path) -> None:
    s3 = parse_cache_url("s3://bucket/some/prefix/")
    assert isinstance(s3, S3Blobs) and s3.bucket == "bucket" and s3.prefix == "some/prefix/"
    assert isinstance(parse_cache_url(tmp_path.as_uri()), FileBlobs)
    with pytest.raises(ConfigError) as exc:
        parse_cache_url("s3://AKIAXX:topsecret@bucket/p")
    assert "topsecret" not in str(exc.value)
    for bad in ("http://example.com/x", "s3:///nobucket", "file://host/share"):
        with pytest.raises(ConfigError):
            parse_cache_url(bad)


def test_blobs_conditional_writes(blobs: Blobs, tmp_path: Path) -> None:
    blobs.check()
    assert blobs.read("ns/a.json") is None
    tag = blobs.create("ns/a.json", b"one")
    assert tag is not None
    assert blobs.create("ns/a.json", b"two") is None  # If-None-Match: * / O_EXCL: the first one wins
    data, current = blobs.read("ns/a.json") or (b"", "")
    assert data == b"one" and current == tag
    new = blobs.replace("ns/a.json", b"three", tag)
    assert new is not None and new != tag
    assert blobs.replace("ns/a.json", b"four", tag) is None  # If-Match on a stale version loses
    assert (blobs.read("ns/a.json") or (b"",))[0] == b"three"
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 100_000)
    blobs.upload("ns/objects/ab/obj.mp4", src)
    assert blobs.download("ns/objects/ab/obj.mp4", tmp_path / "back.bin") == 100_000
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
    assert blobs.download("ns/objects/ab/obj.mp4", tmp_path / "big.bin", limit=99_999) == 100_000
    assert not (tmp_path / "big.bin").exists()  # larger than its record says: not even downloaded
    assert blobs.download("ns/objects/ab/none.mp4", tmp_path / "none.bin") is None
    assert sorted(b.name for b in blobs.list("ns/")) == ["ns/a.json", "ns/objects/ab/obj.mp4"]
    blobs.delete("ns/a.json")
    assert blobs.read("ns/a.json") is None


class Clock:
    """The leases' clock, moved by hand: expiry is tested without sleeping (and without flaking on a busy
    machine)."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_a_lease_is_claimed_once_renewed_taken_over_after_expiry_and_released_by_its_owner(
    blobs: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr("vidspec.store.lease.time", clock)
    a = Leases(blobs, "runway", ttl=60, owner="builder-a")
    b = Leases(blobs, "runway", ttl=60, owner="builder-b")
    assert a.claim(KEY, "opening.video") is None
    held = b.claim(KEY, "opening.video")
    assert held is not None and held.owner == "builder-a" and not held.expired
    assert b.holder(KEY) is not None and a.holder(KEY) is None  # one's own lease is not "elsewhere"
    clock.now += 40
    assert a.renew(KEY)  # pushed on: still held past the first expiry
    clock.now += 40
    assert b.claim(KEY) is not None
    clock.now += 61  # builder a died: its lease expires
    assert b.claim(KEY) is None  # taken over
    assert not a.renew(KEY)  # a's version is gone
    a.release(KEY)  # not a's any more: must not delete b's
    holder = a.holder(KEY)
    assert holder is not None and holder.owner == "builder-b"
    b.release(KEY)
    assert a.holder(KEY) is None and a.claim(KEY) is None


def test_two_takeovers_at_once_leave_one_owner(blobs: Blobs, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("vidspec.store.lease.time", clock)
    Leases(blobs, "runway", ttl=5, owner="dead").claim(KEY)
    clock.now += 6
    from concurrent.futures import ThreadPoolExecutor

    takers = [Leases(blobs, "runway", ttl=30, owner=f"t{i}") for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda t: t.claim(KEY), takers))
    assert sum(r is None for r in results) == 1


def _record(path: Path, key: str = KEY) -> Record:
    from vidspec.core.hashing import file_sha256

    return Record(
        key=key, name="opening.video", kind="video", model="gen4.5", endpoint="image_to_video",
        file=key.split(":")[1] + ".mp4", output_sha256=file_sha256(path), size=path.stat().st_size,
        duration=2.0, task_id="task-1", credits_estimated=60, credits_charged=60, created_at=time.time(),
    )  # fmt: skip


def test_read_through_checks_the_sha256_and_ignores_a_damaged_object(blobs: Blobs, tmp_path: Path) -> None:
    writer = LocalStore(tmp_path / "one" / "runway")
    src = tmp_path / "out.mp4"
    src.write_bytes(b"\x00\x01video bytes" * 1000)
    rec = _record(src)
    writer.put(KEY, src, rec)
    TeamTier(blobs, "runway", writer).publish(KEY)

    reader = TeamTier(blobs, "runway", LocalStore(tmp_path / "two" / "runway"))
    assert reader.fetch(KEY) == "ok"
    hit = reader.local.get(KEY)
    assert hit is not None and hit[1].read_bytes() == (b"\x00\x01video bytes" * 1000)

    # Same size, other bytes: only the sha256 tells.
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01VIDEO BYTES" * 1000)
    blobs.upload(reader.store.object_name(KEY, rec.file), bad)
    third = TeamTier(blobs, "runway", LocalStore(tmp_path / "three" / "runway"))
    assert third.fetch(KEY) == "damaged"
    assert third.fetch(KEY) == "damaged"
    assert third.local.check(KEY).state == "absent"  # never entered the local cache
    assert len(third.warnings) == 1 and "sha256" in third.warnings[0]
    assert not list((tmp_path / "three" / "runway" / "tmp").glob("*"))  # no temp copy left

    bad.write_bytes(b"\x00" * (rec.size * 10))  # larger than its record: never downloaded
    blobs.upload(reader.store.object_name(KEY, rec.file), bad)
    assert third.fetch(KEY) == "damaged"
    assert not list((tmp_path / "three" / "runway" / "tmp").glob("*"))


def test_a_store_that_is_down_gives_one_warning_and_nothing_else(
    s3_env: Callable[[S3Server], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    tier = TeamTier(parse_cache_url("s3://nobody-home/x"), "runway", LocalStore(tmp_path / "runway"))
    started = time.monotonic()
    assert tier.fetch(KEY) == "down"
    assert tier.claim(KEY, "a") is None  # down: this build makes it
    assert not tier.publish(KEY) and tier.holder(KEY) is None
    assert len(tier.warnings) == 1 and "unreachable" in tier.warnings[0]
    assert time.monotonic() - started < 10


def test_403_is_an_error_that_names_no_secret(
    s3_server: S3Server, s3_env: Callable[[S3Server], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_env(s3_server)
    s3_server.client().create_bucket(Bucket="locked-bucket")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUNKNOWN00")
    httpx.post(f"{s3_server.url}/moto-api/reset-auth", content=b"0")  # moto checks credentials from now on
    try:
        tier = TeamTier(parse_cache_url("s3://locked-bucket/x"), "runway", LocalStore(tmp_path / "runway"))
        with pytest.raises(TeamCacheDenied) as exc:
            tier.fetch(KEY)
    finally:
        httpx.post(f"{s3_server.url}/moto-api/reset-auth", content=b"inf")
    assert "403" in str(exc.value) and "aws-secret" not in str(exc.value)


def test_file_tier_is_denied_when_the_directory_is_missing(tmp_path: Path) -> None:
    tier = TeamTier(
        parse_cache_url((tmp_path / "not-mounted").as_uri()), "runway", LocalStore(tmp_path / "l")
    )
    with pytest.raises(TeamCacheDenied):
        tier.fetch(KEY)


def test_lease_objects_are_small_json_with_owner_and_expiry(blobs: Blobs) -> None:
    leases = Leases(blobs, "preview", ttl=30, owner="ci-runner:42:abcd")
    leases.claim(KEY, "jar.image")
    data, _ = blobs.read(leases.name(KEY)) or (b"{}", "")
    body = json.loads(data)
    assert body["owner"] == "ci-runner:42:abcd" and body["asset"] == "jar.image"
    assert body["expires_at"] - body["taken_at"] == pytest.approx(30, abs=0.01)
    assert 0 < body["expires_at"] - time.time() <= 30
