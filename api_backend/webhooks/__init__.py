"""Webhooks: the job's final state POSTed to its callback_url, signed, retried with backoff."""
