"""Media module: the library (/media: upload, the grid of files by kind and name) and a file's page
(/media/[file_id]: preview, details, where it is used, download, delete when unused)."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.layout import add_signed_in_page
from wecare_app.pages.media.file_page import MediaFileState, media_file_page
from wecare_app.pages.media.library_page import MediaLibraryState, media_library_page


def register(app: rx.App) -> None:
    add_signed_in_page(app, media_library_page, route="/media", title="Media", on_load=MediaLibraryState.open_list)
    add_signed_in_page(app, media_file_page, route="/media/[file_id]", title="Media file", on_load=MediaFileState.load)
