"""Periodic maintenance run by Celery beat: file retention, stuck-job recovery, upload clean-up."""
