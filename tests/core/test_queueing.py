"""Finding a task by name is safe from gunicorn's threads."""

import threading
import time

from core import queueing


def a_task() -> None:
    """Registered by the test, as a tasks module would be."""


def test_threads_asking_for_a_task_while_the_modules_load_all_find_it(monkeypatch):
    """Celery's loader returns at once, importing nothing, to a thread that asks while another
    imports (its _RACE_PROTECTION); each thread must still get the task."""
    app = queueing.current_app
    name = "tests.core.a_task_imported_late"
    importing = threading.Event()
    calls = []

    def import_default_modules():
        calls.append(1)
        if importing.is_set():
            return []  # what Celery's loader does to a second caller mid-import
        importing.set()
        time.sleep(0.2)
        app.task(name=name)(a_task)
        return []

    monkeypatch.setattr(app.loader, "import_default_modules", import_default_modules)
    found, errors = [], []

    def ask():
        try:
            found.append(queueing.registered_task(name).name)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert found == [name] * 4
        assert len(calls) == 1
    finally:
        app.tasks.pop(name, None)
