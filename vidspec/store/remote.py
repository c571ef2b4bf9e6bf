"""Object storage for the team cache: named blobs in an S3 bucket (boto3) or a shared directory (file:///).

Both speak the same small protocol (Blobs), with the one conditional write leases need: create only if
absent (S3 `If-None-Match: *`; O_EXCL on a file system), and replace only if unchanged (S3 `If-Match`; a
flock on a shared directory). Failures come out as two errors only: TeamCacheDenied (403, no such bucket, no
credentials: a misconfiguration) and TeamCacheDown (refused, timeouts, 5xx: the caller degrades).

Credentials come from the standard AWS environment and config files, read by boto3 itself; vidspec never
holds, prints or stores them. boto3 over obstore: both honour conditional puts against moto and S3, obstore
was ~1.2-1.3x faster against a local moto server, but boto3 reads AWS_PROFILE and the shared config/SSO files
that teams already use, and its errors carry the HTTP status to tell 403 from 5xx.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from vidspec.errors import ConfigError, TeamCacheDenied, TeamCacheDown

CACHE_URL_ENV = "VIDSPEC_CACHE_URL"


@dataclass(frozen=True)
class BlobInfo:
    name: str
    size: int
    modified: float  # seconds since the epoch


class Blobs(Protocol):
    url: str  # where, for messages (never a credential)

    def check(self) -> None:
        """Raise TeamCacheDenied / TeamCacheDown now, before anything is spent."""

    def read(self, name: str) -> tuple[bytes, str] | None:
        """(bytes, tag) or None when absent. The tag identifies this version (for replace)."""

    def download(self, name: str, dest: Path, limit: int | None = None) -> int | None:
        """Into ``dest`` (a new file): its size, or None when absent. An object larger than ``limit`` is not
        downloaded (its size is returned): a damaged entry never fills the disk."""

    def upload(self, name: str, src: Path) -> None: ...

    def write(self, name: str, data: bytes) -> None: ...

    def create(self, name: str, data: bytes) -> str | None:
        """Write only if ``name`` does not exist; its tag, or None when it already existed."""

    def replace(self, name: str, data: bytes, tag: str) -> str | None:
        """Write only if ``name`` is still the version ``tag``; the new tag, or None when it changed."""

    def delete(self, name: str) -> None: ...

    def list(self, prefix: str) -> Iterator[BlobInfo]: ...


def parse_cache_url(url: str) -> Blobs:
    """s3://bucket/prefix or file:///path. A URL carrying credentials is refused without echoing them."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ConfigError(
            "the team cache URL must not carry credentials; vidspec takes them from the AWS environment "
            "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE)"
        )
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ConfigError(f"--cache-url {url}: name a bucket, as in s3://bucket/prefix")
        return S3Blobs(parts.netloc, parts.path.strip("/"))
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(
                f"--cache-url {url}: a file URL names a local path, as in file:///mnt/team-cache"
            )
        return FileBlobs(Path(unquote(parts.path)))
    raise ConfigError(f"--cache-url {url}: use s3://bucket/prefix or file:///path")


# -------------------------------------------------------------------------------------------------- S3


_DENIED_CODES = {
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "AllAccessDisabled",
    "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed", "AccountProblem", "InvalidBucketName",
}  # fmt: skip


class S3Blobs:
    def __init__(self, bucket: str, prefix: str = "") -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.url = f"s3://{bucket}/{prefix}".rstrip("/")
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # The standard chain: env vars, AWS_PROFILE, ~/.aws/config and credentials, SSO, instance roles;
            # AWS_ENDPOINT_URL for S3-compatible stores. Few retries and short timeouts: a store that is
            # down costs seconds, then the build goes on without it.
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            config = Config(
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=3,
                read_timeout=10,  # waiting for an answer (not sending): a hung store costs ~30 s, once
                max_pool_connections=16,
            )
            try:
                session = boto3.session.Session(region_name=region)
                self._client = session.client("s3", config=config)
            except Exception as exc:  # a bad profile or config file
                raise TeamCacheDenied(f"the team cache {self.url}: {_safe(exc)}") from None
        return self._client

    def _key(self, name: str) -> str:
        return self.prefix + name

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        try:
            yield
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if status in (401, 403) or code in _DENIED_CODES:
                raise TeamCacheDenied(
                    f"the team cache {self.url} refused {what} ({status or code}: {code or 'denied'}); check "
                    "the AWS credentials, region and bucket"
                ) from None
            raise TeamCacheDown(f"the team cache {self.url} failed {what} ({status} {code})") from None
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise TeamCacheDenied(
                f"the team cache {self.url}: {_safe(exc)} (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or AWS_PROFILE)"
            ) from None
        except BotoCoreError as exc:  # connection refused, timeouts, a dropped connection
            raise TeamCacheDown(f"the team cache {self.url} is unreachable ({type(exc).__name__})") from None

    @staticmethod
    def _missing(exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 404 and exc.response.get("Error", {}).get("Code") != "NoSuchBucket"

    @staticmethod
    def _precondition(exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(exc, ClientError):
            return False
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # 409: a concurrent conditional write to the same key is in progress (S3 asks to retry: it lost).
        return status in (409, 412)

    def check(self) -> None:
        with self._errors("a listing"):
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)

    def read(self, name: str) -> tuple[bytes, str] | None:
        with self._errors(f"reading {name}"):
            try:
                r = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
            except Exception as exc:
                if self._missing(exc):
                    return None
                raise
            return r["Body"].read(), str(r["ETag"])

    def download(self, name: str, dest: Path, limit: int | None = None) -> int | None:
        with self._errors(f"downloading {name}"):
            try:
                r = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
            except Exception as exc:
                if self._missing(exc):
                    return None
                raise
            size = int(r.get("ContentLength") or 0)
            if limit is not None and size > limit:
                r["Body"].close()
                return size
            written = 0
            with open(dest, "wb") as f:
                for chunk in r["Body"].iter_chunks(1 << 20):
                    f.write(chunk)
                    written += len(chunk)
            return written

    def upload(self, name: str, src: Path) -> None:
        with self._errors(f"uploading {name}"), open(src, "rb") as f:
            self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=f)

    def write(self, name: str, data: bytes) -> None:
        with self._errors(f"writing {name}"):
            self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)

    def create(self, name: str, data: bytes) -> str | None:
        with self._errors(f"creating {name}"):
            try:
                r = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(name), Body=data, IfNoneMatch="*"
                )
            except Exception as exc:
                if self._precondition(exc):
                    return None
                raise
            return str(r["ETag"])

    def replace(self, name: str, data: bytes, tag: str) -> str | None:
        with self._errors(f"replacing {name}"):
            try:
                r = self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data, IfMatch=tag)
            except Exception as exc:
                if self._precondition(exc) or self._missing(exc):
                    return None
                raise
            return str(r["ETag"])

    def delete(self, name: str) -> None:
        with self._errors(f"deleting {name}"):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        with self._errors("a listing"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    name = str(obj["Key"])[len(self.prefix) :]
                    yield BlobInfo(name, int(obj["Size"]), obj["LastModified"].timestamp())


def _safe(exc: Exception) -> str:
    """botocore's own words for a configuration problem (they name no secret)."""
    return str(exc) or type(exc).__name__


# -------------------------------------------------------------------------------------- a shared directory


def _tag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileBlobs:
    """A directory every teammate mounts (NFS, SMB). Writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri() if root.is_absolute() else str(root)

    def _path(self, name: str) -> Path:
        return self.root / name

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except PermissionError:
            raise TeamCacheDenied(f"the team cache {self.url}: permission denied {what}") from None
        except OSError as exc:
            raise TeamCacheDown(f"the team cache {self.url} failed {what} ({exc.strerror or exc})") from None

    def check(self) -> None:
        if not self.root.is_dir():
            raise TeamCacheDenied(f"the team cache {self.url} is not a directory (mount it, or create it)")
        with self._errors("a write test"):
            fd, probe = tempfile.mkstemp(prefix=".vidspec-write-test.", dir=self.root)
            os.close(fd)
            os.unlink(probe)

    def read(self, name: str) -> tuple[bytes, str] | None:
        with self._errors(f"reading {name}"):
            try:
                data = self._path(name).read_bytes()
            except FileNotFoundError:
                return None
            return data, _tag(data)

    def download(self, name: str, dest: Path, limit: int | None = None) -> int | None:
        import shutil

        with self._errors(f"downloading {name}"):
            try:
                size = self._path(name).stat().st_size
                if limit is not None and size > limit:
                    return size
                shutil.copyfile(self._path(name), dest)
            except FileNotFoundError:
                return None
            return dest.stat().st_size

    def _atomic(self, path: Path, fill: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                fill(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def upload(self, name: str, src: Path) -> None:
        import shutil

        def fill(f: Any) -> None:
            with open(src, "rb") as s:
                shutil.copyfileobj(s, f, 1 << 20)

        with self._errors(f"uploading {name}"):
            self._atomic(self._path(name), fill)

    def write(self, name: str, data: bytes) -> None:
        with self._errors(f"writing {name}"):
            self._atomic(self._path(name), lambda f: f.write(data))

    def create(self, name: str, data: bytes) -> str | None:
        path = self._path(name)
        with self._errors(f"creating {name}"):
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written beside, then linked in: link(2) fails if the name exists, and readers never see a
            # half-written lease.
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return None
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return _tag(data)

    def replace(self, name: str, data: bytes, tag: str) -> str | None:
        import fcntl

        path = self._path(name)
        with self._errors(f"replacing {name}"):
            guard = path.with_name(f".{path.name}.guard")
            with open(guard, "a+b") as g:
                fcntl.flock(g, fcntl.LOCK_EX)
                try:
                    try:
                        current = path.read_bytes()
                    except FileNotFoundError:
                        return None
                    if _tag(current) != tag:
                        return None
                    self._atomic(path, lambda f: f.write(data))
                    return _tag(data)
                finally:
                    fcntl.flock(g, fcntl.LOCK_UN)

    def delete(self, name: str) -> None:
        with self._errors(f"deleting {name}"), contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        base = self._path(prefix)
        with self._errors("a listing"):
            if not base.is_dir():
                return
            for dirpath, _dirs, files in os.walk(base):
                for fname in sorted(files):
                    if fname.startswith("."):
                        continue
                    p = Path(dirpath) / fname
                    try:
                        st = p.stat()
                    except OSError as exc:
                        if exc.errno == errno.ENOENT:
                            continue
                        raise
                    yield BlobInfo(p.relative_to(self.root).as_posix(), st.st_size, st.st_mtime)
