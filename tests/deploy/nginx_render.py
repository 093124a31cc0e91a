"""Render the project's nginx.conf for a local run (tests) by plain text substitution.

nginx.conf documents the five things replaced here: the `upstream shadow_api` servers, the
plain HTTP and TLS `listen` ports, the certificate folder and the temporary-files folder.
Every substitution must match at least once, so a change to nginx.conf that would silently
bypass the templating fails the tests instead.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = PROJECT_ROOT / "nginx.conf"
NGINX = "/usr/sbin/nginx"
UPSTREAM_RE = re.compile(r"^[ \t]*upstream shadow_api \{(?P<body>[^}]*)\}", re.MULTILINE)
SERVER_LINE_RE = re.compile(r"^\s*server\s+\S+(?P<params>[^;]*);", re.MULTILINE)


def _sub(pattern: str, replacement: str, text: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count >= 1, f"nginx.conf no longer contains {pattern!r}: update tests/deploy/nginx_render.py"
    return new


def render_nginx_conf(
    *, upstreams: list[str], http_port: int, https_port: int, cert_dir: Path, temp_dir: Path
) -> str:
    """nginx.conf with the API servers `upstreams` ("host:port") and everything on 127.0.0.1."""
    text = NGINX_CONF.read_text()
    match = UPSTREAM_RE.search(text)
    assert match, "nginx.conf has no `upstream shadow_api { ... }` block"
    body = match.group("body")
    server = SERVER_LINE_RE.search(body)
    assert server, "the shadow_api upstream has no server line"
    params = server.group("params")  # max_fails=... fail_timeout=..., kept for every server
    servers = "".join(f"\n        server {address}{params};" for address in upstreams)
    new_body = SERVER_LINE_RE.sub("", body, count=0).rstrip()
    text = (
        text[: match.start()]
        + "    upstream shadow_api {"
        + servers
        + new_body
        + "\n    }"
        + text[match.end() :]
    )
    text = _sub(r"^[ \t]*listen \[::\]:(80|443)\b.*$\n", "", text)  # no IPv6 needed locally
    text = _sub(r"^([ \t]*)listen 80\b", rf"\g<1>listen 127.0.0.1:{http_port}", text)
    text = _sub(r"^([ \t]*)listen 443\b", rf"\g<1>listen 127.0.0.1:{https_port}", text)
    text = _sub(r"/etc/nginx/certs/", f"{cert_dir}/", text)
    text = _sub(r"/var/cache/nginx/", f"{temp_dir}/", text)
    return text


def make_self_signed_cert(cert_dir: Path) -> Path:
    """tls.crt + tls.key for 127.0.0.1 in `cert_dir`; returns the certificate (also its own CA)."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(cert_dir / "tls.key"), "-out", str(cert_dir / "tls.crt"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert_dir / "tls.crt"


def write_rendered(workdir: Path, **kwargs: object) -> Path:
    """Render into `workdir/nginx.conf` with a temporary-files folder of its own."""
    temp_dir = workdir / "temp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(render_nginx_conf(temp_dir=temp_dir, **kwargs))  # type: ignore[arg-type]
    return conf


def nginx_args(conf: Path, workdir: Path, *extra: str) -> list[str]:
    """The nginx command line for `conf`, with prefix, pid file and startup log in `workdir`."""
    globals_ = f"pid {workdir / 'nginx.pid'};"
    if os.geteuid() == 0:
        globals_ += " user root;"  # workers must reach the pytest tmp folder (mode 0700)
    return [NGINX, "-p", f"{workdir}/", "-e", "stderr", "-c", str(conf), "-g", globals_, *extra]
