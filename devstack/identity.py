"""The development identity provider: an RSA key pair made on first use, its JWKS for the gateway, RS256 tokens.

The key lives under build/ (outside git, per clone) and never leaves this machine; a deployment gives the gateway
its identity provider's JWKS instead (GATEWAY_JWKS_PATH) and this module signs nothing there.
`python -m devstack token USER` (`make token USER=<id>`) prints a token the gateway accepts for that user.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

REPO = Path(__file__).resolve().parent.parent
DEV_KEY = REPO / "build" / "dev-identity" / "signing-key.pem"
DEFAULT_TTL_SECONDS = 3600


def dev_signing_key(path: Path = DEV_KEY) -> rsa.RSAPrivateKey:
    """The development key at `path`, made (2048-bit RSA, readable by its owner only) when missing.

    Several processes may ask at once (a developer's mesh and a test run): each writes a whole file and renames it
    into place, so every reader sees one complete key, the first one written."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            os.write(fd, pem)
        finally:
            os.close(fd)
        try:
            # A link fails when another process got there first: its key stays.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{path} holds no RSA private key")
    return loaded


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    members = {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}
    # RFC 7638 thumbprint: the key's id changes with the key, so a token of an old key names a key nobody has.
    kid = _b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**members, "alg": "RS256", "use": "sig", "kid": kid}


def jwks(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The JSON Web Key Set that verifies tokens of `key`."""
    return {"keys": [public_jwk(key)]}


def sign(claims: Mapping[str, Any], key: rsa.RSAPrivateKey, *, kid: str | None = None) -> str:
    """A compact RS256 JWS of `claims`; `kid` defaults to `key`'s own id."""
    header = {"alg": "RS256", "typ": "JWT", "kid": kid if kid is not None else public_jwk(key)["kid"]}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, dict(claims))
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def token(
    user_id: str,
    *,
    key: rsa.RSAPrivateKey,
    issuer: str,
    audience: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """A token for `user_id` (its subject), valid for `ttl_seconds` from `now`."""
    issued = int(time.time() if now is None else now)
    claims = {"iss": issuer, "aud": audience, "sub": user_id, "iat": issued, "exp": issued + ttl_seconds}
    return sign(claims, key)
