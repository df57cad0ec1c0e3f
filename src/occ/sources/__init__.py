"""Adapters that read upstream data: live APIs, the recorded-responses folder, the demo store."""
