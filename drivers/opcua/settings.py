"""Settings of an ``opcua`` connection in ``project.yaml``, checked before anything connects.

Secure by default: without a ``security`` key the connection signs and encrypts with
Basic256Sha256, and needs ``pki_dir``. ``security: none`` must be written out. The deprecated
policies Basic128Rsa15 and Basic256 are refused unless ``allow_insecure_policies: true``.
Passwords are never stored here: ``password_env`` names an environment variable and
``password_keyring`` a keyring entry ``service/user`` (see ``hmi_app.core.secrets``).
"""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hmi_app.core.secrets import check_env_name, split_keyring_ref


class Security(enum.StrEnum):
    """Message security mode of the secure channel."""

    NONE = "none"
    SIGN = "sign"
    SIGN_AND_ENCRYPT = "sign_and_encrypt"


class Policy(enum.StrEnum):
    """Security policies; the last two are deprecated by the OPC Foundation."""

    BASIC256SHA256 = "Basic256Sha256"
    AES128_SHA256_RSAOAEP = "Aes128_Sha256_RsaOaep"
    AES256_SHA256_RSAPSS = "Aes256_Sha256_RsaPss"
    BASIC128RSA15 = "Basic128Rsa15"
    BASIC256 = "Basic256"


INSECURE_POLICIES = frozenset({Policy.BASIC128RSA15, Policy.BASIC256})
MIB = 1024 * 1024


class OpcUaSettings(BaseModel):
    """Connection settings of an ``opcua`` connection (see the README table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="endpoint, e.g. opc.tcp://192.168.0.20:4840")
    security: Security = Security.SIGN_AND_ENCRYPT
    policy: Policy | None = Field(default=None, description="default Basic256Sha256 when secure")
    allow_insecure_policies: bool = False
    pki_dir: str | None = Field(
        default=None, description="PKI folder (own/, trusted/, rejected/); required when secure"
    )
    user: str | None = None
    password_env: str | None = None
    password_keyring: str | None = None
    user_certificate: str | None = Field(default=None, description="certificate login (DER/PEM)")
    user_private_key: str | None = None
    mode: Literal["subscribe", "poll"] = "subscribe"
    deadband_type: Literal["none", "absolute", "percent"] = "none"
    deadband_value: float = Field(default=0.0, ge=0.0)
    timeout_ms: int = Field(default=5000, ge=100, le=120_000, description="per request")
    connect_timeout_ms: int = Field(default=10_000, ge=100, le=300_000)
    session_timeout_ms: int = Field(default=60_000, ge=1000, le=3_600_000)
    watchdog_ms: int = Field(
        default=1000, ge=100, le=60_000, description="how often a quiet link is probed"
    )
    keepalive_ms: int = Field(
        default=5000,
        ge=100,
        le=600_000,
        description="a quiet subscription still answers this often",
    )
    max_message_size: int = Field(default=64 * MIB, ge=8192, le=2**31 - 1)
    max_chunk_count: int = Field(default=4096, ge=1, le=1_000_000)
    max_nodes_per_request: int = Field(default=1000, ge=1, le=100_000)
    queue_size: int = Field(default=1, ge=1, le=10_000, description="per monitored item")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        if not url.startswith("opc.tcp://") or len(url) <= len("opc.tcp://"):
            raise ValueError("the endpoint must look like opc.tcp://host:4840[/path]")
        return url

    @field_validator("password_env")
    @classmethod
    def _env(cls, name: str | None) -> str | None:
        return None if name is None else check_env_name(name)

    @field_validator("password_keyring")
    @classmethod
    def _keyring(cls, ref: str | None) -> str | None:
        if ref is not None:
            split_keyring_ref(ref)
        return ref

    @model_validator(mode="after")
    def _combinations(self) -> OpcUaSettings:
        if self.security is Security.NONE:
            if self.policy is not None:
                raise ValueError(
                    f"policy {self.policy.value} needs security: sign or sign_and_encrypt"
                    " (security: none sends everything in clear)"
                )
        else:
            if self.pki_dir is None:
                raise ValueError(
                    f"security: {self.security.value} needs pki_dir (the folder for this"
                    " application's certificate and the trusted server certificates)"
                )
            if self.policy in INSECURE_POLICIES and not self.allow_insecure_policies:
                raise ValueError(
                    f"policy {self.policy.value} is deprecated and insecure: use Basic256Sha256"
                    " or an Aes policy, or set allow_insecure_policies: true"
                )
        has_password = self.password_env is not None or self.password_keyring is not None
        if self.password_env is not None and self.password_keyring is not None:
            raise ValueError("give the password either by password_env or by password_keyring")
        if has_password and self.user is None:
            raise ValueError("a password needs a user")
        if self.user is not None and not has_password:
            raise ValueError(
                "user needs password_env (an environment variable) or password_keyring"
                " (service/user in the OS keyring); passwords are not stored in the project"
            )
        if (self.user_certificate is None) != (self.user_private_key is None):
            raise ValueError("certificate login needs both user_certificate and user_private_key")
        if self.user_certificate is not None and self.user is not None:
            raise ValueError("log in either with user and password or with a user certificate")
        if self.deadband_type != "none" and self.deadband_value <= 0:
            raise ValueError("deadband_value must be more than 0 when deadband_type is set")
        return self

    @property
    def effective_policy(self) -> Policy | None:
        """The policy used (None for security: none)."""
        if self.security is Security.NONE:
            return None
        return self.policy or Policy.BASIC256SHA256
