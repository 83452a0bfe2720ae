"""/media: the media library. Operators and Admins drop a file to upload it (a progress bar while it travels,
then the service reads its type from its bytes and checks WhatsApp's types and sizes, stated on the page);
everyone sees the files as a grid of cards (a thumbnail for images, the kind's badge, size and name, whether
it is used), filtered by kind and searched by name, newest first."""
from __future__ import annotations

from typing import ClassVar

import reflex as rx
from reflex.config import get_config

from backend.services.media import library
from backend.services.media.rules import MAX_UPLOAD_BYTES
from wecare_app.components.controls import results, search_input, segment_value, token_pager
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.pages.media.display import KIND_FILTERS, file_view
from wecare_app.state.paging import TokenPaging
from wecare_app.state.session_state import SessionState
from wecare_app.state.uploads import FileDrop, drop_zone

MAX_FILE_BYTES = MAX_UPLOAD_BYTES  # the upload guard's cap for receive_file (wecare_app.py)
PAGE_SIZE = 24


class MediaLibraryState(TokenPaging, FileDrop, SessionState):
    upload_id: ClassVar[str] = "media-upload"
    upload_limit: ClassVar[int] = MAX_FILE_BYTES
    upload_wrong_type: ClassVar[str] = "not a type WhatsApp takes"
    rows: list[dict] = []
    kind_filter: str = "all"
    query: str = ""
    search_note: str = ""  # a search that stopped at its read limit says so

    @rx.var
    def filtered(self) -> bool:
        return self.kind_filter != "all" or self.query.strip() != ""

    def _page_query(self):
        return {"kind": None if self.kind_filter == "all" else self.kind_filter, "q": self.query}

    async def _load_page(self, query, token):
        return await self.run(library.list_files, kind=query["kind"], q=query["q"], limit=PAGE_SIZE, next_token=token or None)

    def _show_page(self, page) -> None:
        api_url = get_config().api_url
        self.rows = [file_view(item, api_url) for item in page.items]
        self.search_note = (f"Looked through the newest {page.examined:,} files; Next looks further back."
                            if page.truncated else "")

    @rx.event(background=True)
    async def open_list(self):
        async with self:
            self.upload_error, self.upload_stage, self.uploading = "", "", False
        return await self._refresh(restart=True)

    @rx.event(background=True)
    async def set_kind_filter(self, value: str | list[str]):
        return await self._filter_by(kind_filter=segment_value(value))

    @rx.event(background=True)
    async def search(self, value: str):
        return await self._filter_by(query=value)

    @rx.event(background=True)
    async def clear_filters(self):
        return await self._filter_by(kind_filter="all", query="")

    # ------------------------------------------------------------ upload (FileDrop's hooks)

    def _upload_refusal(self) -> str:
        return "" if self.can_write else "Uploading needs the Operator or Admin role."

    async def _store(self, upload: tuple[str, bytes, str]) -> None:
        await self.run(library.upload_file, *upload)  # the media service reads the type from the bytes

    async def _uploaded(self, name: str):
        async with self:
            self.kind_filter, self.query = "all", ""  # show it where it lands: first, in the unfiltered list
        await self._refresh(restart=True)
        return rx.toast.success(f"{name} uploaded")


# ---------------------------------------------------------------- components


def _rules() -> rx.Component:
    """What WhatsApp takes, kind by kind (the rules the upload checks, in words from the service)."""
    return rx.grid(
        *[rx.vstack(rx.text(kind["kind"].capitalize(), " ", kind["limit"], weight="medium", size="1"),
                    rx.text(kind["formats"], size="1", color=rx.color("gray", 10), text_align="center"),
                    spacing="0", align="center")
          for kind in library.UPLOAD_KINDS],
        columns=rx.breakpoints(initial="2", md="4"),
        spacing="4",
        width="100%",
        max_width="860px",
        id="media-upload-rules",
    )


def _drop_zone() -> rx.Component:
    checked = rx.text("The file's type is read from its contents, so it must really be what its name says.", size="1",
                      color=rx.color("gray", 10))
    return drop_zone(MediaLibraryState, "cloud-upload", "Drop a file here, or click to choose one", checked, _rules(),
                     accept=library.UPLOAD_ACCEPT, zone_id="media-drop-zone", padding="24px")


def _thumbnail(row: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(
            row["thumbnail"] != "",
            rx.image(src=row["thumbnail"].to(str), alt=row["name"].to(str), width="100%", height="100%", object_fit="cover",
                     loading="lazy", class_name="media-thumbnail"),
            rx.center(rx.icon(row["kind_icon"].to(str), size=40, color=rx.color(row["kind_color"].to(str), 9)), width="100%", height="100%"),
        ),
        rx.badge(row["kind_label"], color_scheme=row["kind_color"].to(str), variant="solid", size="1", position="absolute",
                 top="8px", left="8px", class_name="media-kind"),
        position="relative",
        height="140px",
        width="100%",
        background=rx.color("gray", 3),
        overflow="hidden",
        border_radius="8px 8px 0 0",
    )


def _card(row: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                _thumbnail(row),
                rx.vstack(
                    rx.text(row["name"], weight="medium", size="2", title=row["name"].to(str), white_space="nowrap", overflow="hidden",
                            text_overflow="ellipsis", width="100%", class_name="media-name"),
                    rx.text(row["size"], " · ", row["created"], size="1", color=rx.color("gray", 10), white_space="nowrap",
                            class_name="media-size"),
                    rx.hstack(
                        rx.badge(row["source_label"], size="1", variant="outline", color_scheme="gray"),
                        rx.badge(row["uses"], size="1", variant="soft", color_scheme=rx.cond(row["in_use"].to(bool), "amber", "gray"),
                                 class_name="media-uses"),
                        spacing="1",
                        wrap="wrap",
                    ),
                    spacing="1",
                    padding="10px 12px 12px 12px",
                    width="100%",
                    align="start",
                ),
                spacing="0",
            ),
            padding="0",
            width="100%",
            _hover={"box_shadow": f"0 0 0 2px {rx.color('accent', 7)}"},
        ),
        href=row["href"].to(str),
        underline="none",
        color="inherit",
        class_name="media-card",
        id="media-card-" + row["file_id"].to(str),
    )


def _grid() -> rx.Component:
    return rx.grid(
        rx.foreach(MediaLibraryState.rows, _card),
        columns=rx.breakpoints(initial="2", sm="3", md="4", lg="5"),
        spacing="4",
        width="100%",
        id="media-grid",
    )


def _nothing() -> rx.Component:
    return rx.cond(
        MediaLibraryState.filtered,
        empty_state("search-x", "No files match", "Try another name or kind.",
                    rx.button("Clear filters", variant="soft", on_click=MediaLibraryState.clear_filters)),
        empty_state("images", "No media yet",
                    rx.cond(SessionState.can_write,
                            "Files you upload here can be sent on WhatsApp from any conversation; what customers send you appears here too.",
                            "Files the team uploads and what customers send appear here.")),
    )


def media_library_page() -> rx.Component:
    S = MediaLibraryState
    filters = rx.hstack(
        rx.segmented_control.root(
            *[rx.segmented_control.item(label, value=value) for value, label in KIND_FILTERS],
            value=S.kind_filter, on_change=S.set_kind_filter, size="1", id="media-kind-filter",
        ),
        rx.spacer(),
        search_input(S.query, S.search, "Search by file name…", debounce_timeout=250, width="280px", id="media-search"),
        align="center",
        width="100%",
        wrap="wrap",
        spacing="3",
    )
    body = rx.vstack(
        writers_only(_drop_zone()),
        filters,
        rx.cond(S.search_note != "", rx.text(S.search_note, size="1", color=rx.color("gray", 10), id="media-search-note")),
        results(S.loading, S.rows, _grid(), _nothing()),
        token_pager(S.page_number, S.next_token, S.previous_page, S.next_page, justify="end"),
        spacing="4",
        width="100%",
    )
    return signed_in_page("Media", body, subtitle="Files to send on WhatsApp, and what customers sent")
