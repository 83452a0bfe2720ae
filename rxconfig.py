import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="wecare_app",
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="teal", radius="medium"))],
    disable_plugins=[SitemapPlugin],
    telemetry_enabled=False,
)
