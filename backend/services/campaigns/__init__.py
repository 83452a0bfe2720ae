"""Bulk campaigns: jobs (create, read, change) and the runner that expands and sends them."""
