"""Who the call acts for: the user id the gateway put in the `x-user-id` header, and nothing else.

The gateway (envoy/gateway.yaml) deletes any `x-user-id` a client sent, verifies the bearer token, and sets the
header to the token's subject. Callers inside the cluster reach the service's own gRPC port, which only the cluster
network can reach, and pass the user the same way (docs/adr/0008-identity-from-the-gateway.md). Every service that
acts for a user (UGC, the sink's history) reads it here.
"""

from __future__ import annotations

from typing import TypeAlias

import grpc

from meshkit.errors import Unauthenticated

USER_ID_HEADER = "x-user-id"
MAX_USER_ID_CHARS = 128

Context: TypeAlias = "grpc.aio.ServicerContext[object, object]"


def caller_user_id(context: Context) -> str:
    """The calling user's id; Unauthenticated when the call names none (or a malformed one)."""
    values = [
        value for key, value in context.invocation_metadata() or () if key == USER_ID_HEADER and isinstance(value, str)
    ]
    # More than one value is never what the gateway sends: refuse rather than pick one.
    if len(values) != 1:
        raise Unauthenticated("this call needs a signed-in user: send a valid bearer token")
    user_id = values[0]
    if not user_id.strip() or len(user_id) > MAX_USER_ID_CHARS:
        raise Unauthenticated("the user id the call carries is malformed")
    return user_id
