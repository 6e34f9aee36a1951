"""Passwords and tokens referenced by a project, never stored in it.

A connection names where its secret lives, and this module fetches it when it is needed:

* ``password_env: PLANT_OPCUA_PASSWORD`` reads an environment variable of the process;
* ``password_keyring: "hmi-app/opcua-line1"`` reads the OS keyring (Windows Credential Manager,
  macOS Keychain, Secret Service on Linux) through the ``keyring`` package: the text before the
  last ``/`` is the service, the text after it the user name.

Failures raise ``SecretError`` with a message that says which variable or keyring entry is missing
and how to provide it; the secret itself never appears in a message or a log line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SecretError(LookupError):
    """A referenced secret could not be found; the message says where it was looked for."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives: an environment variable or a keyring entry (exactly one)."""

    env: str | None = None
    keyring: str | None = None

    def __post_init__(self) -> None:
        if (self.env is None) == (self.keyring is None):
            raise ValueError(
                "a secret reference names either an environment variable or a keyring entry"
            )
        if self.env is not None:
            check_env_name(self.env)
        if self.keyring is not None:
            split_keyring_ref(self.keyring)

    def describe(self) -> str:
        """Where the secret is looked for, for messages (never the secret itself)."""
        if self.env is not None:
            return f"environment variable {self.env}"
        return f"keyring entry {self.keyring!r}"


def check_env_name(name: str) -> str:
    """``name`` if it can name an environment variable; ValueError otherwise."""
    if not name or "=" in name or "\0" in name or name.strip() != name:
        raise ValueError(f"{name!r} is not an environment variable name")
    return name


def split_keyring_ref(ref: str) -> tuple[str, str]:
    """``"service/user"`` as ``(service, user)``; ValueError if either part is missing."""
    service, sep, user = ref.rpartition("/")
    if not sep or not service or not user:
        raise ValueError(
            f"{ref!r} is not a keyring entry: write it as service/user (e.g. hmi-app/opcua-line1)"
        )
    return service, user


def resolve(ref: SecretRef, environ: Mapping[str, str] | None = None) -> str:
    """The secret ``ref`` points at; SecretError if it is not there.

    The keyring may talk to a system service (D-Bus on Linux): call this from a worker thread
    when an event loop must not wait.
    """
    if ref.env is not None:
        env = os.environ if environ is None else environ
        value = env.get(ref.env)
        if value is None:
            raise SecretError(
                f"environment variable {ref.env} is not set: set it to the password"
                " before starting hmi-app"
            )
        if value == "":
            raise SecretError(f"environment variable {ref.env} is empty")
        return value
    assert ref.keyring is not None
    return _from_keyring(ref.keyring)


def resolve_password(
    password_env: str | None = None,
    password_keyring: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Shortcut for settings that carry ``password_env`` / ``password_keyring`` keys."""
    try:
        ref = SecretRef(password_env, password_keyring)
    except ValueError as exc:
        raise SecretError(str(exc)) from None
    return resolve(ref, environ)


def _from_keyring(entry: str) -> str:
    service, user = split_keyring_ref(entry)
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise SecretError("the keyring package is not installed") from None
    try:
        value = keyring.get_password(service, user)
    except KeyringError as exc:
        raise SecretError(f"the OS keyring is not available ({exc}); use password_env") from None
    if value is None:
        raise SecretError(
            f"no password for user {user!r} of service {service!r} in the OS keyring: add it"
            f" with `keyring set {service} {user}`"
        )
    return str(value)
