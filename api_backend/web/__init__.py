"""The browser app: HTML pages, JavaScript modules and styles served by the API itself (offline, no build)."""
