"""`/healthz`: whether this process can reach the database and the broker, for a load balancer.

Each check runs on a small pool of threads and the answer never waits more than
HEALTH_TIMEOUT: a database that hangs (a lock, a full disk, a dropped network) makes the
answer 503 "timeout" in time, instead of making the load balancer's own check time out. The
pool is bounded, so a service that stays hung holds at most its threads, not one per request.
"""

from concurrent.futures import ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEALTH_TIMEOUT = 0.8  # seconds: the answer, with its own overhead, comes within 1 s
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def database_reachable() -> None:
    """One round trip on a connection of this thread, closed after (the pool's threads are
    not requests: nothing else would close it)."""
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def broker_reachable() -> None:
    """A PING to Redis; without REDIS_URL tasks run in-process and there is no broker."""
    if not settings.REDIS_URL:
        return
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=HEALTH_TIMEOUT, socket_connect_timeout=HEALTH_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS = {"database": database_reachable, "broker": broker_reachable}


@never_cache
@require_GET
@login_not_required
def healthz(request) -> JsonResponse:
    """200 with every check "ok", else 503 naming what failed ("timeout" or the error's kind)."""
    futures = {name: _pool.submit(check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=HEALTH_TIMEOUT)
    results = {}
    for name, future in futures.items():
        if not future.done():
            future.cancel()
            results[name] = "timeout"
        elif future.exception() is not None:
            results[name] = f"error: {type(future.exception()).__name__}"
        else:
            results[name] = "ok"
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(results, status=200 if healthy else 503)
