"""Media store: safe keys, atomic local writes, and the same behaviour on S3 (moto)."""
from __future__ import annotations

import boto3
import pytest

from backend.adapters.media_store import LocalMediaStore, MediaStore, S3MediaStore

BUCKET = "wecare-media-test"


@pytest.fixture
def local(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


@pytest.fixture
def s3() -> S3MediaStore:
    client = boto3.client("s3", region_name="us-east-1")  # moto: the unit conftest mocks AWS
    client.create_bucket(Bucket=BUCKET)
    return S3MediaStore(BUCKET, client=client)


@pytest.mark.parametrize("key", ["../escape.txt", "inbound/../../escape.txt", "/etc/passwd", "C:/x.txt",
                                 "a\\b.txt", "inbound/./x.txt", "", "inbound/", "nul\x00.txt"])
def test_local_store_refuses_keys_that_could_escape_its_root(local, key, tmp_path):
    with pytest.raises(ValueError):
        local.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        local.get(key)
    assert not (tmp_path / "escape.txt").exists()


def test_local_store_refuses_a_symlink_that_leads_outside(local, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    local.root.mkdir(parents=True)
    (local.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="outside"):
        local.put("link/secret.txt", b"x", "text/plain")
    assert list(outside.iterdir()) == []


def test_local_round_trip_overwrites_atomically(local):
    assert isinstance(local, MediaStore) and local.bucket is None
    assert not local.exists("inbound/2025/photo.jpg")
    local.put("inbound/2025/photo.jpg", b"first", "image/jpeg")
    local.put("inbound/2025/photo.jpg", b"second version", "image/jpeg")

    assert local.get("inbound/2025/photo.jpg") == b"second version"
    assert local.exists("inbound/2025/photo.jpg")
    assert local.size("inbound/2025/photo.jpg") == len(b"second version")
    path = local.local_path("inbound/2025/photo.jpg")
    assert path == local.root / "inbound" / "2025" / "photo.jpg" and path.read_bytes() == b"second version"
    assert [p.name for p in path.parent.iterdir()] == ["photo.jpg"]  # no temp files left behind


def test_local_missing_key_raises_file_not_found(local):
    with pytest.raises(FileNotFoundError):
        local.get("nothing.bin")
    with pytest.raises(FileNotFoundError):
        local.size("nothing.bin")


def test_s3_round_trip_keeps_content_type(s3):
    assert isinstance(s3, MediaStore) and s3.bucket == BUCKET
    s3.put("outbound/brochure.pdf", b"%PDF-1.4 tiny", "application/pdf")

    assert s3.get("outbound/brochure.pdf") == b"%PDF-1.4 tiny"
    assert s3.exists("outbound/brochure.pdf")
    assert s3.size("outbound/brochure.pdf") == len(b"%PDF-1.4 tiny")
    assert s3.local_path("outbound/brochure.pdf") is None
    head = s3.client.head_object(Bucket=BUCKET, Key="outbound/brochure.pdf")
    assert head["ContentType"] == "application/pdf"


def test_s3_missing_key_and_unsafe_keys(s3):
    assert not s3.exists("nothing.bin")
    with pytest.raises(FileNotFoundError):
        s3.get("nothing.bin")
    with pytest.raises(FileNotFoundError):
        s3.size("nothing.bin")
    with pytest.raises(ValueError):
        s3.put("../escape.txt", b"x", "text/plain")


def test_s3_find_and_move_keep_bytes_and_type(s3):
    s3.put("whatsapp-incoming/123/123.jpeg", b"jpeg bytes", "image/jpeg")
    assert s3.find_key("whatsapp-incoming/123/") == "whatsapp-incoming/123/123.jpeg"
    assert s3.find_key("whatsapp-incoming/999/") is None

    s3.move("whatsapp-incoming/123/123.jpeg", "inbound/photo.jpeg")

    assert s3.get("inbound/photo.jpeg") == b"jpeg bytes"
    assert s3.client.head_object(Bucket=BUCKET, Key="inbound/photo.jpeg")["ContentType"] == "image/jpeg"
    assert not s3.exists("whatsapp-incoming/123/123.jpeg")
