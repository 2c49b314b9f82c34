"""Real concurrency for PostgreSQL tests: calls released together, each on its own connection."""

import threading

from django.db import connection


def run_at_once(*calls) -> list[Exception]:
    """Run each call in its own thread and connection, released together by a barrier; the
    errors they raised."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def worker(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors
