"""Taking an uploaded file.

`read_upload` reads an uploaded file into memory without trusting it: the size it declares is checked first, then
it is read in chunks and refused as soon as it passes the limit, so a file that lies about its size costs at most
the limit plus one chunk. (The upload guard, backend/api/upload_guard.py, has already capped the request.)

`FileDrop` is a state mixin (`mixin=True`, like `TokenPaging`; the state must also be a SessionState) for a page
that takes one file from a drop zone (/media, /ai/knowledge-base): the zone's progress and refusals, `receive_file`
(a foreground handler: it owns the request's files) and `store_upload` (a background event). A state sets the
ClassVars (annotated again: an unannotated class attribute of a state is a var) and the three hooks; `drop_zone`
draws the zone."""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from backend.errors import DomainError, ValidationError
from wecare_app.state.feedback import error_toast

CHUNK_BYTES = 1024 * 1024


def _too_large(limit: int) -> ValidationError:
    return ValidationError(f"file: larger than {limit / (1024 * 1024):g} MB", field="file")


async def read_upload(upload: rx.UploadFile, limit: int) -> bytes:
    """The file's bytes, or a ValidationError once it is known to be larger than `limit`."""
    if upload.size is not None and upload.size > limit:
        raise _too_large(limit)
    data = bytearray()
    while chunk := await upload.read(min(CHUNK_BYTES, limit + 1 - len(data))):
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
    return bytes(data)


class FileDrop(rx.State, mixin=True):
    upload_id: ClassVar[str]
    upload_limit: ClassVar[int]
    upload_noun: ClassVar[str] = "file"
    upload_wrong_type: ClassVar[str]  # what a refused type is "not", e.g. "not a type WhatsApp takes"
    uploading: bool = False
    upload_percent: int = 0
    upload_stage: str = ""  # "Uploading", then "Checking and storing menu.png"
    upload_error: str = ""  # the last refusal, under the drop zone
    _upload: tuple[str, bytes, str] | None = None  # (name, data, content type) from receive_file to store_upload

    def _upload_refusal(self) -> str:
        """Why this session may not upload (as it last read its role); "" when it may."""

    async def _store(self, upload: tuple[str, bytes, str]) -> None:
        """Off the lock: the service call that checks and stores (name, data, content type) through `self.run`."""

    async def _uploaded(self, name: str) -> Any:
        """Off the lock, once `name` is stored: what follows (a reload), and the events to send."""

    def _refused(self, name: str, error: DomainError) -> None:
        self.uploading, self.upload_stage, self.upload_error = False, "", f"{name}: {error.message.removeprefix('file: ')}"

    @rx.event
    def upload_progress(self, progress: dict):
        """The browser's progress while the file travels (0-100). A 100% report that comes when no upload is under
        way (late, after the file was taken, or after a drop the zone refused, which still sends an empty upload)
        is dropped, so the zone is not left saying "Uploading"."""
        percent = min(100, int(float(progress.get("progress", 0)) * 100))
        if percent == 100 and not self.uploading:
            return
        self.uploading, self.upload_percent, self.upload_error = True, percent, ""
        if not self.upload_stage:
            self.upload_stage = "Uploading"

    @rx.event
    def refuse_dropped(self, rejected: list[dict]):
        """What the drop zone refused before sending anything (too large, a type the page does not take), each as
        {"file": {"name"}, "errors": [{"code"}]} (`_by_name`)."""
        reasons = []
        for item in rejected or []:
            name = (item.get("file") or {}).get("name") or "The file"
            codes = {error.get("code") for error in item.get("errors") or []}
            if "file-too-large" in codes:
                reasons.append(f"{name}: larger than {self.upload_limit // (1024 * 1024)} MB")
            elif "file-invalid-type" in codes:
                reasons.append(f"{name}: {self.upload_wrong_type}")
            elif "too-many-files" in codes:
                reasons.append(f"One {self.upload_noun} at a time, please")
            else:
                reasons.append(f"{name}: cannot be uploaded")
        self.upload_error = "; ".join(dict.fromkeys(reasons))
        return rx.toast.error(self.upload_error or "That file cannot be uploaded.", close_button=True)

    @rx.event
    async def receive_file(self, files: list[rx.UploadFile]):
        """The upload arrives here (a foreground handler: it owns the request's files); storing it happens off the
        loop in `store_upload`. The role (as this session last read it) and the declared size are checked before
        a byte is read; the service checks the role again, and the type against the bytes."""
        if refusal := self._upload_refusal():
            self.uploading = False
            return [rx.clear_selected_files(self.upload_id), rx.toast.error(refusal)]
        if not files:  # the empty upload of a drop the zone refused: refuse_dropped says why
            self.uploading = False
            return None
        upload = files[0]
        name = upload.name or self.upload_noun
        self.upload_error = ""
        try:
            data = await read_upload(upload, self.upload_limit)
        except DomainError as error:
            self._refused(name, error)
            return [rx.clear_selected_files(self.upload_id), error_toast(error)]
        self._upload = (name, data, upload.content_type or "")
        self.uploading, self.upload_percent, self.upload_stage = True, 100, f"Checking and storing {name}"
        return [rx.clear_selected_files(self.upload_id), type(self).store_upload]

    @rx.event(background=True)
    async def store_upload(self):
        async with self:
            upload, self._upload = self._upload, None
        if upload is None:
            return None
        name = upload[0]
        try:
            await self._store(upload)  # the S3 (or local store) write
        except DomainError as error:
            async with self:
                self._refused(name, error)
            return error_toast(error)
        finally:
            del upload  # stored or refused, the bytes are not held any longer
        async with self:
            self.uploading, self.upload_stage, self.upload_percent, self.upload_error = False, "", 0, ""
        return await self._uploaded(name)


def _by_name(rejection: rx.Var) -> dict:
    """In the browser: a refused file as its name and why (the File itself would travel to the server as its bytes)."""
    return {"file": {"name": rejection["file"].to(dict)["name"]}, "errors": rejection["errors"]}


def drop_zone(state: type[FileDrop], icon: str, headline: str, *details: rx.Component, accept: dict, zone_id: str,
              padding: str) -> rx.Component:
    """The drop zone of `state`: the icon, headline and details until a file travels, then its progress bar; the
    last refusal under it. Ids: `<upload_id>-progress`, `<upload_id>-error`, and `zone_id` for the whole."""
    S = state
    idle = rx.vstack(rx.icon(icon, size=30, color=rx.color("accent", 10)), rx.text(headline, weight="medium"), *details,
                     align="center", spacing="2")
    busy = rx.vstack(
        rx.hstack(rx.spinner(size="2"), rx.text(S.upload_stage, " ", S.upload_percent, "%", size="2", weight="medium"),
                  align="center", spacing="2"),
        rx.progress(value=S.upload_percent, max=100, width="100%", max_width="420px", id=f"{S.upload_id}-progress"),
        align="center",
        spacing="2",
        width="100%",
    )
    zone = rx.upload.root(
        rx.cond(S.uploading, busy, idle),
        id=S.upload_id,
        accept=accept,
        max_files=1,
        multiple=False,
        max_size=S.upload_limit,
        disabled=S.uploading,
        on_drop=S.receive_file(rx.upload_files(upload_id=S.upload_id, on_upload_progress=S.upload_progress)),
        on_drop_rejected=lambda rejected: S.refuse_dropped(rejected.map(_by_name)),
        border=f"2px dashed {rx.color('gray', 7)}",
        border_radius="12px",
        padding=padding,
        width="100%",
        cursor="pointer",
        background=rx.color("gray", 2),
        drag_active_style={"border_color": rx.color("accent", 9), "background": rx.color("accent", 2)},
    )
    return rx.vstack(
        zone,
        rx.cond(S.upload_error != "", rx.callout(S.upload_error, icon="triangle-alert", color_scheme="red", size="1", width="100%",
                                                  id=f"{S.upload_id}-error")),
        spacing="2",
        width="100%",
        id=zone_id,
    )
