"""Object storage for uploads and job outputs: a local folder or S3, behind one interface."""

from api_backend.storage.base import ObjectNotFound, Storage, StorageError
from api_backend.storage.factory import get_storage

__all__ = ["ObjectNotFound", "Storage", "StorageError", "get_storage"]
