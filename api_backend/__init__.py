"""Shadow Trainer web service: FastAPI app, Celery tasks, job history, storage."""
