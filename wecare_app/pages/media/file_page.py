"""/media/[file_id]: one file: its preview (an image, a video or audio player, a PDF in the browser's viewer),
its details, where it is used (links to the conversations and campaigns), a Download through a link made at
the click (five minutes), and Delete with a confirmation, disabled with the reason while the file is in use.
Viewers see no Delete."""
from __future__ import annotations

import json

import reflex as rx
from reflex.config import get_config

from backend.errors import DomainError
from backend.services.media import library
from wecare_app.components.controls import confirm_dialog
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.pages.media.display import absolute, detail_view, use_view
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

PDF_FRAME_ID = "media-pdf"


def show_pdf_script(url: str) -> str:
    """Fetch a PDF the app's link serves as a download and show its bytes in the page's frame, as a PDF (the
    browser's own viewer renders it; it never runs as a page of this site)."""
    return f"""(() => {{
  const url = {json.dumps(url)};
  let tries = 0;
  const attach = () => {{
    const frame = document.getElementById({json.dumps(PDF_FRAME_ID)});
    if (!frame) {{ if (++tries < 50) setTimeout(attach, 100); return; }}
    fetch(url).then((r) => {{ if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); }})
      .then((bytes) => {{
        if (frame.dataset.blob) URL.revokeObjectURL(frame.dataset.blob);
        const shown = URL.createObjectURL(new Blob([bytes], {{ type: "application/pdf" }}));
        frame.dataset.blob = shown;
        frame.src = shown;
      }})
      .catch((e) => {{ frame.dataset.failed = String(e); console.warn("PDF preview:", e); }});
  }};
  attach();
}})()"""


class MediaFileState(SessionState):
    file: dict = {}
    uses: list[dict] = []
    missing: str = ""
    loading: bool = True
    busy: bool = False
    _load_request: int = 0

    def _file_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event(background=True)
    async def load(self):
        async with self:
            self.loading, self.missing, self.file, self.uses = True, "", {}, []
            self._load_request += 1
            ticket, file_id = self._load_request, self._file_id()
        if not await self.signed_in():
            return None
        try:
            detail = await self.run(library.get_file, file_id)
        except DomainError as error:
            async with self:
                if ticket == self._load_request:
                    self.missing, self.loading = error.message, False
            return None
        async with self:
            if ticket != self._load_request:
                return None
            self._show(detail)
            fetch_pdf = self.file["preview_fetch"] and self.file["preview"] == "pdf"
            url = self.file["preview_url"]
        return rx.call_script(show_pdf_script(url)) if fetch_pdf else None

    def _show(self, detail: library.LibraryFileDetail) -> None:
        self.file = detail_view(detail, get_config().api_url)
        self.uses = [use_view(use) for use in detail.uses]
        self.loading = False

    @rx.event(background=True)
    async def download(self):
        """A fresh link (five minutes), opened in a new tab: S3 and the app both send a download as an attachment
        where they can, and images, audio and video open to be saved."""
        async with self:
            file_id = self.file.get("file_id", "")
        try:
            link = await self.run(library.download_link, file_id)
        except DomainError as error:
            return error_toast(error)
        return rx.redirect(absolute(link.url, get_config().api_url), is_external=True)

    @rx.event(background=True)
    async def delete(self):
        async with self:
            file_id, name, self.busy = self.file.get("file_id", ""), self.file.get("name", ""), True
        try:
            await self.run(library.delete_file, file_id)
        except DomainError as error:
            try:
                detail = await self.run(library.get_file, file_id)  # what holds it now
            except DomainError:
                detail = None
            async with self:
                self.busy = False
                if detail is not None:
                    self._show(detail)
            return error_toast(error)
        async with self:
            self.busy = False
        return [rx.redirect("/media"), rx.toast.success(f"{name} deleted")]


# ---------------------------------------------------------------- components


def _preview() -> rx.Component:
    f = MediaFileState.file
    url = f["preview_url"].to(str)
    return rx.box(
        rx.match(
            f["preview"],
            ("image", rx.image(src=url, alt=f["name"].to(str), max_width="100%", max_height="520px", object_fit="contain",
                               id="media-preview-image")),
            ("sticker", rx.image(src=url, alt=f["name"].to(str), max_width="240px", id="media-preview-image")),
            ("video", rx.el.video(src=url, controls=True, preload="metadata", max_width="100%", max_height="520px",
                                  id="media-preview-video")),
            ("audio", rx.el.audio(src=url, controls=True, preload="metadata", width="100%", id="media-preview-audio")),
            ("pdf", rx.el.iframe(src=rx.cond(f["preview_fetch"].to(bool), "about:blank", url), title=f["name"].to(str),
                                 width="100%", height="560px", border="0", id=PDF_FRAME_ID)),
            rx.vstack(rx.icon(f["kind_icon"].to(str), size=56, color=rx.color(f["kind_color"].to(str), 9)),
                      rx.text("No preview for this type of file; download it to open it.", size="2", color=rx.color("gray", 10)),
                      align="center", spacing="3", padding="48px", id="media-no-preview"),
        ),
        width="100%",
        display="flex",
        justify_content="center",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="12px",
        padding="12px",
        id="media-preview",
    )


def _fact(label: str, value, **props) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color=rx.color("gray", 10), min_width="110px"),
        rx.text(value, **{"size": "2", "word_break": "break-all", **props}),
        spacing="3",
        align="start",
        width="100%",
    )


def _details() -> rx.Component:
    f = MediaFileState.file
    return rx.card(
        rx.vstack(
            rx.heading("Details", size="3"),
            _fact("Type", f["mime_type"], id="media-mime"),
            _fact("Size", f["size"], id="media-size"),
            _fact("Source", f["source_text"]),
            _fact("Stored", f["created_stamp"]),
            rx.cond(f["uploaded_by"] != "", _fact("Uploaded by", f["uploaded_by"])),
            rx.cond(f["contact_id"] != "", rx.hstack(
                rx.text("From", size="2", color=rx.color("gray", 10), min_width="110px"),
                rx.link("Open the conversation", href="/inbox/" + f["contact_id"].to(str), size="2"),
                spacing="3")),
            _fact("SHA-256", f["sha256"], font_family="monospace", size="1"),
            _fact("File id", f["file_id"], font_family="monospace", size="1"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _use_row(use: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon(use["icon"].to(str), size=16, color=rx.color("gray", 10)),
        rx.vstack(
            rx.text(use["label"], size="2", weight="medium"),
            rx.cond(use["when"] != "", rx.text(use["when"], size="1", color=rx.color("gray", 10))),
            spacing="0",
            flex="1",
        ),
        rx.cond(use["href"] != "", rx.link(use["link_text"], href=use["href"].to(str), size="2", class_name="media-use-link")),
        align="center",
        spacing="3",
        width="100%",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="media-use",
    )


def _uses() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading("Where it is used", size="3"), rx.spacer(),
                      rx.badge(MediaFileState.file["use_summary"], variant="soft",
                               color_scheme=rx.cond(MediaFileState.file["in_use"].to(bool), "amber", "gray"), id="media-use-summary"),
                      width="100%", align="center"),
            rx.cond(
                MediaFileState.uses.length() > 0,
                rx.vstack(rx.foreach(MediaFileState.uses, _use_row), spacing="0", width="100%", id="media-uses"),
                rx.text("No message or campaign holds this file: it can be deleted.", size="2", color=rx.color("gray", 10),
                        id="media-unused"),
            ),
            rx.text("A file is held while a message that carries it is kept (30 days) or a campaign may still send it.",
                    size="1", color=rx.color("gray", 9)),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _actions() -> rx.Component:
    f = MediaFileState.file
    delete = confirm_dialog(
        "Delete this file?", ("“", f["name"], "” and its stored copy are removed for good. This cannot be undone."),
        rx.button("Delete", color_scheme="red", on_click=MediaFileState.delete, id="media-delete-confirm"),
        trigger=rx.button(rx.icon("trash-2", size=16), "Delete", variant="soft", color_scheme="red", loading=MediaFileState.busy,
                          id="media-delete"),
    )
    refused = rx.tooltip(
        rx.button(rx.icon("trash-2", size=16), "Delete", variant="soft", color_scheme="gray", disabled=True, id="media-delete-disabled"),
        content=f["delete_reason"].to(str),
    )
    return rx.hstack(
        rx.button(rx.icon("download", size=16), "Download", on_click=MediaFileState.download, id="media-download"),
        writers_only(rx.cond(f["can_delete"].to(bool), delete, refused)),
        spacing="2",
    )


def _header() -> rx.Component:
    f = MediaFileState.file
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Media"), align="center", spacing="1"), href="/media"),
        rx.hstack(
            rx.vstack(
                rx.hstack(rx.heading(f["name"], size="5", id="media-file-name", word_break="break-all"),
                          rx.badge(f["kind_label"], color_scheme=f["kind_color"].to(str), variant="soft", size="2", id="media-file-kind"),
                          align="center", spacing="3"),
                rx.text(f["size"], " · ", f["mime_type"], " · ", f["source_label"], " ", f["created"], size="2", color=rx.color("gray", 10)),
                spacing="1",
            ),
            rx.spacer(),
            _actions(),
            width="100%",
            align="center",
        ),
        writers_only(rx.cond(
            ~f["can_delete"].to(bool) & (f["delete_reason"] != ""),
            rx.callout(f["delete_reason"], icon="lock", color_scheme="amber", size="1", width="100%", id="media-delete-reason"),
        )),
        spacing="3",
        width="100%",
    )


def media_file_page() -> rx.Component:
    S = MediaFileState
    found = rx.vstack(
        _header(),
        rx.grid(
            _preview(),
            rx.vstack(_details(), _uses(), spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="5",
            width="100%",
            align="start",
        ),
        spacing="5",
        width="100%",
    )
    gone = empty_state("file-x", "File not found", S.missing,
                       rx.link(rx.button("Back to the library", variant="soft"), href="/media"))
    return signed_in_page("Media file", loading_block(S.loading, rx.cond(S.missing != "", gone, found)))
