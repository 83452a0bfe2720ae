"""The media library's services: the list is read from its index (never a Scan), filtered, searched and paged
with a read cap; a file knows where it is used (its messages, the message it came with, its campaigns) and is
deleted only when nothing holds it (409 naming the uses), audited, bytes and all; a send and a delete of one
file cannot both win; links are short-lived, signed, and only for a signed-in caller; roles hold; REST doors
answer the same."""
from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from pynamodb.connection.base import Connection

from backend.adapters.channels import providers
from backend.adapters.media_store import S3MediaStore
from backend.api import media_api
from backend.api.http import ApiRequest, invoke
from backend.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationError
from backend.models.base import utcnow
from backend.models.campaigns import BulkJobModel
from backend.models.messaging import MediaFileModel, MessageModel
from backend.services.campaigns import jobs
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.contacts.contacts import create_contact
from backend.services.media import files, library, links, uses
from backend.services.media.files import media_row, new_media_row, open_media_link
from backend.services.messaging import campaign_recipients
from backend.services.platform.access import Actor, Operation
from backend.services.platform.audit import resource_history
from tests.conftest import unique_phone
from tests.unit.people import customer_writes

REAL_SCAN = Connection.scan
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


@pytest.fixture(autouse=True)
def no_scans():
    """Every test here fails if anything Scans a table."""
    with mock.patch("pynamodb.connection.base.Connection.scan", side_effect=AssertionError("a Scan on a request path")):
        yield


@pytest.fixture
def recording_uses():
    """The send path records a file's use before its message is queued (channels/whatsapp/send.py)."""


@pytest.fixture
def talking(operator, messaging):
    """Ada, who wrote to us a minute ago (the WhatsApp window is open)."""
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Ada Lovelace", "phone": phone})
    customer_writes(phone, ts=int(time.time()) - 60)
    return contact


def send_file(actor, contact, file_id: str):
    return whatsapp_send.send_whatsapp(actor, {"contactId": contact.contact_id, "type": "media", "media": {"fileId": file_id}})


def stored_path(file_id: str):
    return providers.media_store().local_path(MediaFileModel.get(file_id).storageKey)


def received_sticker(contact_id: str, message_id: str) -> MediaFileModel:
    row = new_media_row(file_id=message_id, mime_type="image/webp", data=WEBP, storage_key=f"inbound/{message_id}/m1",
                        filename=None, contactId=contact_id, messageId=message_id)
    providers.media_store().put(row.storageKey, WEBP, "image/webp")
    row.save()
    return row


# ---------------------------------------------------------------- the list


def test_the_library_lists_newest_first_filters_by_kind_and_source_and_searches_names(operator, viewer):
    chart = library.upload_file(operator, "Sales Chart.png", PNG, "image/png")
    brochure = library.upload_file(operator, "Spring brochure.pdf", PDF, "application/pdf")
    clip = library.upload_file(operator, "welcome.mp4", MP4, "video/mp4")
    sticker = received_sticker("c" * 32, "d" * 32)

    page = library.list_files(viewer)
    assert [f.file_id for f in page.items] == [sticker.fileId, clip.file_id, brochure.file_id, chart.file_id]
    assert [f.kind for f in page.items] == ["sticker", "video", "document", "image"]
    assert [f.source for f in page.items] == ["inbound", "upload", "upload", "upload"]
    assert page.items[-1].name == "Sales Chart.png" and page.items[-1].size_bytes == len(PNG)
    assert page.items[0].name == f"Sticker {sticker.fileId[:8]}"  # no file name: its kind and id
    assert [f.file_id for f in library.list_files(viewer, kind="document").items] == [brochure.file_id]
    assert [f.file_id for f in library.list_files(viewer, source="inbound").items] == [sticker.fileId]
    assert [f.file_id for f in library.list_files(viewer, q="CHART").items] == [chart.file_id]  # any case, part of the name
    assert library.list_files(viewer, q="nothing like it").items == []


def test_images_carry_a_signed_thumbnail_and_other_kinds_none(operator, viewer):
    library.upload_file(operator, "chart.png", PNG, "image/png")
    library.upload_file(operator, "brochure.pdf", PDF, "application/pdf")
    brochure, chart = library.list_files(viewer).items
    assert brochure.preview_url is None
    assert chart.preview_url.startswith(f"/api/media/{chart.file_id}?expires=")
    query = parse_qs(urlparse(chart.preview_url).query)
    media, data = open_media_link(chart.file_id, query["expires"][0], query["signature"][0])
    assert data == PNG and media.mime_type == "image/png"


def test_pages_follow_each_other_with_a_token_bound_to_the_filters(operator, viewer):
    stored = [library.upload_file(operator, f"photo-{n}.png", PNG, "image/png").file_id for n in range(5)]
    first = library.list_files(viewer, limit=2)
    second = library.list_files(viewer, limit=2, next_token=first.next_token)
    third = library.list_files(viewer, limit=2, next_token=second.next_token)
    assert [f.file_id for page in (first, second, third) for f in page.items] == stored[::-1]
    assert third.next_token is None
    with pytest.raises(ValidationError) as error:
        library.list_files(viewer, kind="image", limit=2, next_token=first.next_token)
    assert error.value.field == "nextToken"


def test_a_search_reads_at_most_its_cap_and_says_where_it_stopped(operator, viewer, monkeypatch):
    monkeypatch.setattr(library, "EXAMINE_MAX", 3)
    target = library.upload_file(operator, "the-one.png", PNG, "image/png")
    for n in range(4):
        library.upload_file(operator, f"other-{n}.png", PNG, "image/png")
    page = library.list_files(viewer, q="the-one")
    assert (page.items, page.examined, page.truncated) == ([], 3, True)
    rest = library.list_files(viewer, q="the-one", next_token=page.next_token)
    assert [f.file_id for f in rest.items] == [target.file_id] and not rest.truncated and rest.next_token is None


def test_bad_filters_name_their_field(viewer):
    for kwargs, field in (({"kind": "gif"}, "kind"), ({"source": "elsewhere"}, "source"), ({"q": "x" * 101}, "q"),
                          ({"limit": 0}, "limit"), ({"next_token": "forged"}, "nextToken")):
        with pytest.raises(ValidationError) as error:
            library.list_files(viewer, **kwargs)
        assert error.value.field == field


# ---------------------------------------------------------------- uses and delete


def test_a_queued_message_holds_its_file_and_the_refusal_names_it(operator, talking, messaging, recording_uses):
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    sent = send_file(operator, talking, stored.file_id)  # PENDING: queued, not delivered yet
    detail = library.get_file(operator, stored.file_id)
    assert detail.in_use and not detail.can_delete and detail.use_count == 1
    assert [(u.kind, u.message_id, u.contact_id, u.label) for u in detail.uses] == [
        ("message", sent.message_id, talking.contact_id, "WhatsApp to Ada Lovelace · pending")]
    assert detail.delete_reason.startswith("In use by WhatsApp to Ada Lovelace · pending.")
    assert library.list_files(operator).items[0].use_count == 1

    with pytest.raises(Conflict) as refused:
        library.delete_file(operator, stored.file_id)
    assert "WhatsApp to Ada Lovelace · pending" in refused.value.message and refused.value.field == "fileId"
    assert refused.value.details == [{"kind": "message", "reason": "WhatsApp to Ada Lovelace · pending",
                                      "messageId": sent.message_id, "contactId": talking.contact_id}]
    assert MediaFileModel.get(stored.file_id) and stored_path(stored.file_id).exists()
    assert [e.action for e in resource_history("media", stored.file_id)] == ["media.upload"]

    messaging.drain()  # it goes out: the sandbox uploads the file from the store, so it had to be there
    assert MessageModel.get(sent.message_id).status == "ACCEPTED"
    assert library.get_file(operator, stored.file_id).uses[0].label == "WhatsApp to Ada Lovelace · accepted"


def test_once_its_messages_are_gone_the_file_is_deleted_audited_and_its_bytes_removed(operator, talking, messaging, recording_uses):
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    expired = send_file(operator, talking, stored.file_id)
    deleted = send_file(operator, talking, stored.file_id)
    messaging.drain()
    link = files.media_link(operator, stored.file_id)
    path = stored_path(stored.file_id)
    row = MessageModel.get(expired.message_id)
    row.update(actions=[MessageModel.expiresAt.set(utcnow() - timedelta(minutes=1))])  # past its 30 days (TTL lags)
    MessageModel.get(deleted.message_id).delete()
    assert library.get_file(operator, stored.file_id).uses == []

    library.delete_file(operator, stored.file_id)
    with pytest.raises(MediaFileModel.DoesNotExist):
        MediaFileModel.get(stored.file_id)
    assert not path.exists()
    [entry] = [e for e in resource_history("media", stored.file_id) if e.action == "media.delete"]
    assert entry.actor_email == operator.email and entry.details["filename"] == "menu.png" and entry.details["sizeBytes"] == len(PNG)
    query = parse_qs(urlparse(link).query)
    with pytest.raises(NotFound):
        open_media_link(stored.file_id, query["expires"][0], query["signature"][0])  # an old link finds nothing
    assert library.list_files(operator).items == []


def test_a_received_file_is_held_by_the_message_it_came_with(operator, talking):
    message = MessageModel.get(next(iter(MessageModel.by_contact.query(talking.contact_id))).messageId)
    sticker = received_sticker(talking.contact_id, message.messageId)
    [use] = library.get_file(operator, sticker.fileId).uses
    assert (use.kind, use.label) == ("received", "WhatsApp from Ada Lovelace · received")
    with pytest.raises(Conflict):
        library.delete_file(operator, sticker.fileId)
    message.delete()
    library.delete_file(operator, sticker.fileId)
    assert MediaFileModel.count() == 0


def campaign(operator, status: str, file_id: str) -> BulkJobModel:
    now = utcnow()
    job = BulkJobModel(jobId=f"job-{status}", name=f"Spring {status}", channel="whatsapp", status=status, createdBy=operator.user_id,
                       createdAt=now, updatedAt=now, message={"type": "media", "media": {"fileId": file_id}})
    job.save()
    return job


def test_a_campaign_that_may_still_send_the_file_holds_it(operator):
    stored = library.upload_file(operator, "sale.png", PNG, "image/png")
    campaign(operator, "cancelled", stored.file_id)
    scheduled = campaign(operator, "scheduled", stored.file_id)
    [use] = library.get_file(operator, stored.file_id).uses
    assert (use.kind, use.job_id, use.label) == ("campaign", scheduled.jobId, "Campaign “Spring scheduled” · scheduled")
    assert library.list_files(operator).items[0].in_use
    with pytest.raises(Conflict, match="Campaign “Spring scheduled” · scheduled"):
        library.delete_file(operator, stored.file_id)
    scheduled.update(actions=[BulkJobModel.status.set("cancelled")])
    library.delete_file(operator, stored.file_id)


def test_a_campaign_records_itself_once_not_once_per_message(operator, talking):
    stored = library.upload_file(operator, "sale.png", PNG, "image/png")
    job = campaign(operator, "finished", stored.file_id)
    for n in range(3):
        message = MessageModel.get(next(iter(MessageModel.by_contact.query(talking.contact_id))).messageId)
        uses.record_use(media_row(stored.file_id), message, job_id=job.jobId)
    row = MediaFileModel.get(stored.file_id)
    assert int(row.useCount) == 1 and list(uses.recorded(row)) == [f"job:{job.jobId}"]
    [use] = library.get_file(operator, stored.file_id).uses  # finished, but its messages are still kept
    assert use.job_id == job.jobId


def test_the_campaign_statuses_that_send_are_the_runners():
    assert set(uses.CAMPAIGN_STATUSES_THAT_SEND) == (set(jobs.ACTIVE) | {jobs.PAUSED}) - {jobs.CANCELLING}


def test_the_uses_kept_on_a_row_are_bounded_and_expired_ones_pruned(operator, talking, monkeypatch):
    monkeypatch.setattr(uses, "MAX_LISTED_USES", 3)
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    template = MessageModel.get(next(iter(MessageModel.by_contact.query(talking.contact_id))).messageId)
    for n in range(5):
        template.messageId = f"{n:032x}"
        uses.record_use(media_row(stored.file_id), template)
    row = MediaFileModel.get(stored.file_id)
    assert sorted(uses.recorded(row)) == [f"{n:032x}" for n in (2, 3, 4)]
    assert int(row.moreUses) == 2 and row.moreUsesUntil > utcnow() + timedelta(days=29)
    assert library.get_file(operator, stored.file_id).uses[-1].label.startswith("2 earlier message(s), kept until")
    later = utcnow() + timedelta(days=60)  # every use has expired: the next one prunes them
    template.messageId = "f" * 32
    template.expiresAt = later + timedelta(days=30)
    uses.record_use(media_row(stored.file_id), template, now=later)
    assert list(uses.recorded(MediaFileModel.get(stored.file_id))) == ["f" * 32]


def test_a_send_and_a_delete_of_one_file_cannot_both_win(operator, talking, messaging, recording_uses, monkeypatch):
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    looked = uses.current_uses

    def a_send_records_a_use_right_after_the_delete_looked(row, now=None):
        found = looked(row, now)
        send_file(operator, talking, stored.file_id)
        return found

    monkeypatch.setattr(uses, "current_uses", a_send_records_a_use_right_after_the_delete_looked)
    with pytest.raises(Conflict, match="used or deleted while it was being deleted"):
        library.delete_file(operator, stored.file_id)
    assert stored_path(stored.file_id).exists() and MediaFileModel.get(stored.file_id)
    monkeypatch.setattr(uses, "current_uses", looked)

    other = library.upload_file(operator, "gone.png", PNG, "image/png")
    row = media_row(other.file_id)
    library.delete_file(operator, other.file_id)
    message = MessageModel.get(next(iter(MessageModel.by_contact.query(talking.contact_id))).messageId)
    with pytest.raises(NotFound) as gone:
        uses.record_use(row, message)  # the send read the row before the delete: it finds the file gone
    assert gone.value.field == "media.fileId"
    assert not MediaFileModel.count(other.file_id)  # the update did not bring the row back


def test_a_row_stored_before_uses_were_recorded_gets_its_first_one(operator, talking):
    stored = library.upload_file(operator, "old.png", PNG, "image/png")
    MediaFileModel.get(stored.file_id).update(actions=[MediaFileModel.uses.remove()])
    message = MessageModel.get(next(iter(MessageModel.by_contact.query(talking.contact_id))).messageId)
    uses.record_use(media_row(stored.file_id), message)
    assert list(uses.recorded(MediaFileModel.get(stored.file_id))) == [message.messageId]


# ---------------------------------------------------------------- roles and links


def test_roles_viewers_read_operators_write_nobody_anonymous(operator, viewer, admin):
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    seen = library.get_file(viewer, stored.file_id)
    assert (seen.can_delete, seen.delete_reason) == (False, library.CANNOT_DELETE_ROLE)
    assert library.list_files(viewer).items[0].delete_reason == library.CANNOT_DELETE_ROLE
    assert library.get_file(admin, stored.file_id).can_delete and library.list_files(operator).items[0].can_delete
    with pytest.raises(PermissionDenied):
        library.delete_file(viewer, stored.file_id)
    with pytest.raises(PermissionDenied):
        library.upload_file(viewer, "menu.png", PNG, "image/png")
    anonymous = Actor.anonymous()
    for call in (lambda: library.list_files(anonymous), lambda: library.get_file(anonymous, stored.file_id),
                 lambda: library.download_link(anonymous, stored.file_id), lambda: files.media_link(anonymous, stored.file_id),
                 lambda: library.delete_file(anonymous, stored.file_id)):
        with pytest.raises(Unauthenticated):
            call()
    assert MediaFileModel.count() == 1


def test_a_download_link_lives_five_minutes_and_an_expired_or_forged_one_opens_nothing(operator, viewer):
    stored = library.upload_file(operator, "brochure.pdf", PDF, "application/pdf")
    link = library.download_link(viewer, stored.file_id)
    query = parse_qs(urlparse(link.url).query)
    expires, signature = query["expires"][0], query["signature"][0]
    assert int(expires) - time.time() == pytest.approx(links.DOWNLOAD_SECONDS, abs=5)
    assert link.filename == "brochure.pdf"
    assert open_media_link(stored.file_id, expires, signature)[1] == PDF
    with pytest.raises(NotFound):
        open_media_link(stored.file_id, expires, signature, now=int(expires) + 1)  # expired
    with pytest.raises(NotFound):
        open_media_link(stored.file_id, str(int(expires) + 3600), signature)  # its time moved on
    with pytest.raises(NotFound):
        open_media_link(stored.file_id, expires, signature[:-2] + "xx")  # forged
    other = library.upload_file(operator, "other.pdf", PDF, "application/pdf")
    with pytest.raises(NotFound):
        open_media_link(other.file_id, expires, signature)  # another file's signature
    with pytest.raises(NotFound):
        library.get_file(viewer, "no-such-file")


def test_a_local_pdf_is_previewed_by_fetching_its_bytes(operator):
    pdf = library.get_file(operator, library.upload_file(operator, "brochure.pdf", PDF, "application/pdf").file_id)
    assert pdf.preview_url.startswith(f"/api/media/{pdf.file_id}?") and pdf.preview_fetch
    png = library.get_file(operator, library.upload_file(operator, "chart.png", PNG, "image/png").file_id)
    assert png.preview_url and not png.preview_fetch
    assert pdf.download_url.startswith(f"/api/media/{pdf.file_id}?")


def test_on_s3_links_are_presigned_and_a_delete_removes_the_object(operator, monkeypatch):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="media-library-test")
    monkeypatch.setattr(providers, "_media_store", S3MediaStore("media-library-test", client=client))
    stored = library.upload_file(operator, "Q3 report.pdf", PDF, "application/pdf")
    detail = library.get_file(operator, stored.file_id)
    download = parse_qs(urlparse(detail.download_url).query)
    assert urlparse(detail.download_url).path.endswith(f"/uploads/{stored.file_id}")
    if "X-Amz-Expires" in download:  # SigV4
        assert download["X-Amz-Expires"] == [str(links.DOWNLOAD_SECONDS)]
    else:  # the client's default query signature: an expiry time
        assert int(download["Expires"][0]) - time.time() == pytest.approx(links.DOWNLOAD_SECONDS, abs=5)
    assert download["response-content-disposition"][0].startswith('attachment; filename="Q3 report.pdf"')
    preview = parse_qs(urlparse(detail.preview_url).query)
    assert preview["response-content-disposition"] == ["inline"] and preview["response-content-type"] == ["application/pdf"]
    assert not detail.preview_fetch  # S3 serves it inline, from its own origin
    library.delete_file(operator, stored.file_id)
    assert client.list_objects_v2(Bucket="media-library-test").get("KeyCount") == 0


# ---------------------------------------------------------------- REST


def call(endpoint, actor, *, path=None, query=None, body=b"", headers=None, requires=Operation.MEDIA_READ):
    request = ApiRequest(method="GET", path_params=path or {}, query=query or {}, raw_body=body, headers=headers or {})
    return invoke(endpoint, actor, request, requires)


def test_the_rest_endpoints_list_read_upload_and_refuse_a_delete_in_use(operator, viewer, talking, messaging, recording_uses):
    created = call(media_api.upload, operator, query={"filename": "menu.png"}, body=PNG,
                   headers={"content-type": "image/png", "content-length": str(len(PNG))}, requires=Operation.MEDIA_WRITE)
    assert created.status == 201 and created.body["mimeType"] == "image/png" and created.body["canDelete"] is True
    file_id = created.body["fileId"]
    listed = call(media_api.list_files, viewer, query={"kind": "image"})
    assert listed.status == 200 and [f["fileId"] for f in listed.body["items"]] == [file_id]
    assert listed.body["truncated"] is False and "nextToken" in listed.body
    send_file(operator, talking, file_id)
    read = call(media_api.read, viewer, path={"fileId": file_id})
    assert read.status == 200 and read.body["inUse"] and read.body["uses"][0]["contactId"] == talking.contact_id
    assert read.body["downloadUrl"].startswith(f"/api/media/{file_id}?")
    refused = call(media_api.delete, operator, path={"fileId": file_id}, requires=Operation.MEDIA_WRITE)
    assert refused.status == 409 and refused.body["error"]["details"][0]["reason"] == "WhatsApp to Ada Lovelace · pending"
    assert call(media_api.read, viewer, path={"fileId": "missing"}).status == 404
    assert call(media_api.delete, viewer, path={"fileId": file_id}, requires=Operation.MEDIA_WRITE).status == 403
    assert call(media_api.list_files, Actor.anonymous()).status == 401


def test_an_api_upload_over_its_size_is_refused_before_the_body_is_used(operator, viewer):
    with mock.patch.object(library, "upload_file") as stored:
        declared = call(media_api.upload, operator, body=b"", requires=Operation.MEDIA_WRITE,
                        headers={"content-type": "image/png", "content-length": str(media_api.MAX_API_UPLOAD_BYTES + 1)})
        lying = call(media_api.upload, operator, body=PNG + b"\x00" * media_api.MAX_API_UPLOAD_BYTES, requires=Operation.MEDIA_WRITE,
                     headers={"content-type": "image/png"})
        assert (declared.status, lying.status) == (413, 413) and declared.body["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert call(media_api.upload, viewer, body=PNG, headers={"content-length": str(len(PNG))}).status == 403
        stored.assert_not_called()
    assert call(media_api.upload, operator, body=b"MZ\x90\x00", headers={"content-type": "image/png"}).status == 422
    assert MediaFileModel.count() == 0


def test_files_stored_before_the_library_are_indexed_once_at_start_up(operator, viewer):
    old = MediaFileModel(fileId="e" * 32, mimeType="application/pdf", sizeBytes=len(PDF), storageKey="uploads/old", filename="Old Terms.pdf",
                         createdAt=utcnow())
    old.save()  # as files.upload stored it before the library: in no index, no record of uses
    assert library.list_files(viewer).items == []
    with mock.patch("pynamodb.connection.base.Connection.scan", REAL_SCAN):  # an offline job: its one Scan is allowed
        assert library.index_earlier_files() == 1
        assert library.index_earlier_files() == 0  # the marker: once per installation
    [listed] = library.list_files(viewer, q="old terms").items
    assert (listed.file_id, listed.kind, listed.source) == ("e" * 32, "document", "upload")
    assert uses.recorded(MediaFileModel.get("e" * 32)) == {}
