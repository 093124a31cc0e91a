"""Logs, metrics and request/job context for the API and the workers."""
