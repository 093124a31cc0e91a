"""Resumable (tus) uploads and the jobs made from them."""
