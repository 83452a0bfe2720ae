"""Messaging channels (WhatsApp first): a provider interface per channel, with AWS, dry-run and sandbox
implementations chosen by `factory` from `settings.send_mode`."""
