"""What every benchmark needs: Django set up, a throwaway PostgreSQL database, raw psycopg."""

import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_sms.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
# The test client speaks plain HTTP to the views.
os.environ.setdefault("HTTPS", "0")
# Each task run logs a line at INFO: thousands would bury the figures.
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings  # noqa: E402

# As in production with Redis: one process here, so its own cache is the shared one.
settings.CONFIG_CACHE_IN_MEMORY = True

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402


@contextlib.contextmanager
def throwaway_database():
    """Create a database of its own with the migrations applied, and drop it afterwards.

    Named after the process, so two benchmarks (or a test run) never share or clobber one.
    """
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL: set DATABASE_URL=postgres://...")
    real_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{real_name}_bench_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(real_name, verbosity=0)


def raw_connection() -> psycopg.Connection:
    """A plain psycopg connection to the database Django is using."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
    )


class QueryCounter:
    """Counts the SQL statements Django runs, without keeping them."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def print_page_timings(client, pages, renders: int = 5, width: int = 24) -> None:
    """GET each (label, url) `renders` times; print the median, worst and statement count."""
    for label, url in pages:
        timings, statements = [], 0
        for _ in range(renders):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                began = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
            statements = counter.count
        print(
            f"  {label:<{width}} median {statistics.median(timings) * 1000:6.0f} ms,"
            f" worst {max(timings) * 1000:6.0f} ms, {statements} statements"
        )
