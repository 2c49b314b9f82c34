"""API keys: made, shown once, recognised by their hash."""

import hashlib
import secrets

KEY_PREFIX = "csk_"


def new_key() -> str:
    """A key with 256 bits of randomness, prefixed so that secret scanners can spot it."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def visible_prefix(key: str) -> str:
    """The part of a key shown in lists, enough to tell keys apart and nothing to guess with."""
    return key[: len(KEY_PREFIX) + 6]
