"""Configuration read on every message (lines, responders, languages, webhook endpoints),
kept in each process's memory and dropped everywhere as soon as any of it changes.

Each process keeps what it loaded under the current *generation*: a token in the shared cache
(Redis in production) that every change replaces, once when it is made and again when its
transaction commits. A process that loaded the old rows just before the commit stored them
under a token that the commit then retires, so nothing stale outlives a change. Reading the
token is one cache round trip, much cheaper than the queries it saves; when the cache cannot
be reached, values are loaded from the database every time. So they are without a cache that
every process shares (settings.CONFIG_CACHE_IN_MEMORY is off without Redis): a change made in
one gunicorn process could not retire what the others hold.
"""

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)

GENERATION_KEY = "config-generation"
T = TypeVar("T")

_lock = threading.Lock()
_generation: str | None = None
_values: dict[str, object] = {}
# Per watched model, the fields whose saves alone are bookkeeping (`watch_configuration`).
_ignored: dict[type[Model], frozenset[str]] = {}
# The generation read once for a whole task (`one_generation`), if any.
_pinned: ContextVar[str | None] = ContextVar("config_generation", default=None)


def cached(key: str, load: Callable[[], T]) -> T:
    """The value under `key` for the current generation, loaded with `load` when missing
    (a None loaded is not kept).

    Values are shared by the process's threads: callers must not change them."""
    global _generation
    if not settings.CONFIG_CACHE_IN_MEMORY:
        return load()
    generation = _pinned.get() or _current_generation()
    if generation is None:
        return load()
    with _lock:
        if generation != _generation:
            _values.clear()
            _generation = generation
        if key in _values:
            return _values[key]
    value = load()
    if value is None:
        return value  # misses are not kept: anyone may ask for numbers that are no line
    with _lock:
        if generation == _generation:
            _values[key] = value
    return value


@contextmanager
def one_generation() -> Iterator[None]:
    """Read the generation once for everything inside (a task): its reads are one consistent
    configuration, for one cache round trip instead of one per value."""
    token = _pinned.set(_current_generation() if settings.CONFIG_CACHE_IN_MEMORY else None)
    try:
        yield
    finally:
        _pinned.reset(token)


def config_changed() -> None:
    """Retire every process's cached configuration, now and when the transaction commits."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _current_generation() -> str | None:
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = cache.get(GENERATION_KEY)
    except Exception:
        logger.warning("Configuration cache unreachable: reading from the database")
        _forget()  # a change made meanwhile could not retire the token: start afresh after
        return None
    return generation


def _forget() -> None:
    global _generation
    with _lock:
        _values.clear()
        _generation = None


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.exception("Could not retire cached configuration in other processes")
        _forget()


def watch_configuration(*models: type[Model], ignoring: frozenset[str] = frozenset()) -> None:
    """Retire cached configuration whenever a row of these models is saved or deleted, or a
    many-to-many field of theirs changes (the admin and tests included); a save of only the
    fields in `ignoring` (bookkeeping no cached reader uses) changes nothing."""
    for model in models:
        _ignored[model] = ignoring
        post_save.connect(_changed, sender=model, dispatch_uid=f"config:save:{model._meta.label}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"config:delete:{model._meta.label}"
        )
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                _changed,
                sender=field.remote_field.through,
                dispatch_uid=f"config:m2m:{model._meta.label}.{field.name}",
            )


def _changed(sender, update_fields=None, **kwargs) -> None:
    if update_fields and set(update_fields) <= _ignored.get(sender, frozenset()):
        return
    config_changed()
