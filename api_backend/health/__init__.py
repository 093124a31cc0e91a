"""Layered health checks: live (process up), ready (can serve), detailed (every dependency)."""
