"""Where media bytes live: files under `<data_dir>/media` locally, an S3 bucket on AWS.

Keys are relative, slash-separated paths. Both stores accept the same keys, so a key that works locally
works on S3; keys that could escape the local root (`..`, absolute paths) are refused everywhere.
Missing keys raise FileNotFoundError in both stores.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, runtime_checkable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


@runtime_checkable
class MediaStore(Protocol):
    bucket: str | None  # the S3 bucket; None for stores that are not S3

    def put(self, key: str, data: bytes, mime_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def local_path(self, key: str) -> Path | None: ...

    def delete(self, key: str) -> None: ...  # gone afterwards (a missing key is no error)

    def presigned_url(self, key: str, seconds: int, *, mime_type: str, disposition: str) -> str | None: ...


def validate_key(key: str) -> str:
    """The key itself when it is a safe relative path; ValueError otherwise."""
    if not isinstance(key, str) or not key or len(key) > 1024:
        raise ValueError("Media key must be a non-empty string of at most 1024 characters")
    if "\x00" in key or "\\" in key:
        raise ValueError("Media key must not contain NUL or backslash characters")
    path = PurePosixPath(key)
    if path.is_absolute() or key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        raise ValueError("Media key must be a relative path")
    if any(part in ("..", ".") for part in key.split("/")) or key.endswith("/"):
        raise ValueError("Media key must not contain '.' or '..' segments or end with '/'")
    return key


class LocalMediaStore:
    """Files under `root`. The local store keeps no content type: the MediaFile row records it."""

    bucket: str | None = None

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink inside the root pointing out of it
            raise ValueError("Media key resolves outside the media root")
        return path

    def put(self, key: str, data: bytes, mime_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)  # readers see the old file or the whole new one, never half
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path.stat().st_size

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presigned_url(self, key: str, seconds: int, *, mime_type: str, disposition: str) -> str | None:
        return None  # no store URL: the app serves the file through its own signed link


class S3MediaStore:
    def __init__(self, bucket: str, client: Any = None, *, region: str | None = None):
        self.bucket = bucket
        # SigV4: the presigned links (the default signer of this client is older).
        self.client = client or boto3.client("s3", region_name=region, config=Config(signature_version="s3v4"))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def presigned_url(self, key: str, seconds: int, *, mime_type: str, disposition: str) -> str | None:
        """A GET of the object signed for `seconds`, answered with this type and disposition."""
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": validate_key(key), "ResponseContentType": mime_type,
                    "ResponseContentDisposition": disposition},
            ExpiresIn=seconds,
        )

    def put(self, key: str, data: bytes, mime_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=validate_key(key), Body=data, ContentType=mime_type)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=validate_key(key))["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from error
            raise

    def _head(self, key: str) -> dict:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from error
            raise

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def local_path(self, key: str) -> Path | None:
        return None

    # S3-only helpers: the WhatsApp adapter uses them to move media AWS wrote under a prefix.
    def find_key(self, prefix: str) -> str | None:
        """The first key starting with `prefix`, or None."""
        response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        contents = response.get("Contents") or []
        return contents[0]["Key"] if contents else None

    def move(self, source_key: str, target_key: str) -> None:
        """Copy then delete (S3 has no rename); the copy keeps the object's content type."""
        self.client.copy_object(Bucket=self.bucket, Key=validate_key(target_key),
                                CopySource={"Bucket": self.bucket, "Key": source_key})
        self.client.delete_object(Bucket=self.bucket, Key=source_key)


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404", "NotFound")
