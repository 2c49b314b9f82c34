"""The production server as deployed: gunicorn with this repository's gunicorn.conf.py, DEBUG
off, after `collectstatic`. Static files come from WhiteNoise with hashed names, compressed and
cached for a year; the health check answers."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.sweep  # starts processes: CI runs it, an everyday run may not


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def production_server(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="capacity_sms.settings",
        SECRET_KEY="deploy-test-not-secret",
        ALLOWED_HOSTS="127.0.0.1",
        HTTPS="0",
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
    )
    manage = [str(BIN / "python"), str(ROOT / "manage.py")]
    subprocess.run(  # noqa: S603 (the venv's own manage.py and gunicorn)
        [*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True
    )
    server = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "capacity_sms.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_with_debug_off_gunicorn_serves_hashed_compressed_static_files(production_server):
    status, headers, body = get(f"{production_server}/login/")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    page = body.decode()
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    script = re.search(r'src="(/static/vendor/htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js)"', page)
    assert stylesheet, page[:600]
    assert script, page[:600]
    for path in (stylesheet.group(1), script.group(1)):
        status, headers, body = get(f"{production_server}{path}", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "max-age=315360000" in headers["Cache-Control"]
        assert "immutable" in headers["Cache-Control"]
    assert get(f"{production_server}/static/css/app.css")[0] == 200  # the plain name too


def test_the_health_check_answers_on_the_production_server(production_server):
    status, _headers, body = get(f"{production_server}/healthz")
    assert status == 200
    assert b'"database": "ok"' in body
