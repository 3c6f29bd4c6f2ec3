"""Per-node secrets and the HMAC-signed, expiring tokens a node presents to the relay."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path


class TokenError(Exception):
    """A token is missing, malformed, forged or expired; str(err) is one line."""


class SecretsError(Exception):
    """Secrets could not be loaded safely; str(err) is one line."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def make_token(node_id: str, secret: str, now: float, ttl_s: float = 300.0) -> str:
    """A token naming `node_id`, valid until now + ttl_s (epoch seconds)."""
    body = _b64(json.dumps({"n": node_id, "exp": int(now + ttl_s)}, separators=(",", ":")).encode())
    return f"{body}.{_sign(secret, body)}"


MAX_TOKEN_TTL_S = 3600.0  # the node mints 300 s tokens; the slack covers clock skew


def verify_token(token: str, secrets: Mapping[str, str], now: float,
                 max_ttl_s: float = MAX_TOKEN_TTL_S) -> str:
    """The node id the token was issued for, or TokenError.

    A token that expires more than `max_ttl_s` from now is refused like an expired one:
    a leaked long-lived token would otherwise outlive the secret's rotation.
    """
    body, dot, sig = token.partition(".")
    if not dot or not body or not sig:
        raise TokenError("malformed token")
    try:
        claims = json.loads(_unb64(body))
        node_id, exp = claims["n"], claims["exp"]
    except (ValueError, KeyError, TypeError) as err:
        raise TokenError("malformed token") from err
    if not isinstance(node_id, str) or not isinstance(exp, int):
        raise TokenError("malformed token")
    secret = secrets.get(node_id)
    # compare even for an unknown node so timing does not reveal which nodes exist
    expected = _sign(secret or "unknown-node", body)
    if not hmac.compare_digest(expected, sig) or secret is None:
        raise TokenError("bad signature")
    if exp < now:
        raise TokenError("token expired")
    if exp > now + max_ttl_s:
        raise TokenError(f"token lives longer than {int(max_ttl_s)} s")
    return node_id


def parse_secrets(text: str) -> dict[str, str]:
    """`node=secret` pairs separated by commas, spaces or newlines; '#' starts a comment."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for item in line.replace(",", " ").split():
            node, eq, secret = item.partition("=")
            if not eq or not node or len(secret) < 16:
                raise SecretsError(f"bad secret entry for {node or '?'!r}: need node=secret (16+ chars)")
            out[node] = secret
    return out


def read_secret_file(path: Path) -> str:
    """The file's text, refusing files that group or others can read."""
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(f"{path} must be mode 0600 (it is {stat.S_IMODE(mode):04o})")
    return path.read_text()


def load_relay_secrets(path: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Relay side: DUNGEON_RELAY_SECRETS from the environment, then the 0600 file if given."""
    env = os.environ if env is None else env
    secrets = parse_secrets(env.get("DUNGEON_RELAY_SECRETS", ""))
    if path is not None:
        secrets.update(parse_secrets(read_secret_file(path)))
    return secrets
