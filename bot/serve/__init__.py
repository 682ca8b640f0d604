"""Serving: the web process, the inbox, the worker, processes and status."""
