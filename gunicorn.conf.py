"""Gunicorn's settings, read from the environment (gunicorn loads this file from the working
directory): `gunicorn capacity_sms.wsgi`.

- GUNICORN_BIND (default 0.0.0.0:8000): where to listen, behind the reverse proxy.
- WEB_CONCURRENCY (default 2 * cores + 1): worker processes. Each request holds a worker for
  its whole time, so count on slow clients being absorbed by the proxy, not by workers.
- GUNICORN_THREADS (default 1): threads per worker.
- GUNICORN_TIMEOUT (default 30 s): a worker silent this long is killed and replaced. Webhooks
  answer in milliseconds and downloads stream, so only a hung request reaches it.
- GUNICORN_GRACEFUL_TIMEOUT (default 30 s): how long a restart lets requests finish.
- GUNICORN_MAX_REQUESTS (default 2000, with 10 % jitter): a worker is recycled after this many
  requests, so a slow leak never grows for good.
"""

import multiprocessing
import os


def _number(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _number("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _number("GUNICORN_THREADS", 1)
timeout = _number("GUNICORN_TIMEOUT", 30)
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _number("GUNICORN_KEEPALIVE", 5)
max_requests = _number("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Request lines and headers beyond these are refused with 400 before Django sees them.
limit_request_line = 8190
limit_request_fields = 100
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Behind a proxy on the same host or network; it sets X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
