"""One server interceptor for every unary call: the contract's rules, deadline, error mapping, access log, metrics.

Streaming handlers (health Watch, reflection) pass through untouched: they are
infrastructure, long-lived, and would only blur the latency histograms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from google.protobuf.message import DecodeError, Message
from prometheus_client import Counter, Histogram

from meshkit.contract_rules import check_request
from meshkit.errors import DomainError
from meshkit.grpc_errors import STATUS_DETAILS_KEY, rich_status

log = logging.getLogger("meshkit.access")

HANDLED = Counter(
    "grpc_server_handled_total",
    "Unary calls completed, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
LATENCY = Histogram(
    "grpc_server_handling_seconds",
    "Time spent handling a unary call.",
    ["grpc_service", "grpc_method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Probed every few seconds by orchestrators: logged at DEBUG so they do not drown real traffic.
_QUIET_SERVICES = frozenset({"grpc.health.v1.Health"})

Behaviour: TypeAlias = "Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"

if TYPE_CHECKING:
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:  # grpc's runtime classes are not generic
    _Interceptor = grpc.aio.ServerInterceptor


class RpcInterceptor(_Interceptor):
    def __init__(self) -> None:
        # grpc.aio asks the interceptor for every call; a method's wrapped handler is built once and kept, beside
        # the handler it wraps (a server's handlers are fixed once it starts).
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        name = handler_call_details.method
        known = self._wrapped.get(name)
        if known is not None and known[0] is handler:
            return known[1]
        service, _, method = name.lstrip("/").rpartition("/")
        wrapped = grpc.unary_unary_rpc_method_handler(
            _observed(handler.unary_unary, service, method),  # type: ignore[arg-type]  # aio handlers are coroutines
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
        self._wrapped[name] = (handler, wrapped)
        return wrapped


class _Malformed:
    """Stands in for a request that did not decode, so the handler wrapper can answer INVALID_ARGUMENT.

    Left to grpc, a bad message (say, a string that is not UTF-8, which the gateway passes
    through from a query string) would be UNKNOWN, and a 500 to a REST client.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError as exc:
            return _Malformed(str(exc))

    return decode


def _observed(behaviour: Behaviour, service: str, method: str) -> Behaviour:
    level = logging.DEBUG if service in _QUIET_SERVICES else logging.INFO
    rpc = f"{service}/{method}"
    # The method's metric children, looked up once rather than by label values on every call.
    latency = LATENCY.labels(service, method)
    handled: dict[grpc.StatusCode, Counter] = {}

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            # The caller's deadline bounds the whole handler, so work it can no longer
            # use stops instead of piling up behind a client that has given up.
            if isinstance(request, _Malformed):
                code = grpc.StatusCode.INVALID_ARGUMENT
                await context.abort(code, f"malformed request: {request.reason}")
            async with asyncio.timeout(context.time_remaining()) as deadline:
                try:
                    # A request that breaks its contract's declared rules never reaches the handler.
                    if isinstance(request, Message):
                        check_request(request)
                    return await behaviour(request, context)
                except DomainError as exc:
                    code, message, details = rich_status(exc)
                    await context.abort(code, message, trailing_metadata=((STATUS_DETAILS_KEY, details),))
        except TimeoutError:
            if not deadline.expired():
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled timeout", extra={"rpc": rpc})
                await context.abort(code, "internal error")
            code = grpc.StatusCode.DEADLINE_EXCEEDED
            await context.abort(code, "deadline exceeded")
        except grpc.aio.AbortError:
            code = _code_of(context, code)
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception:
            code = grpc.StatusCode.INTERNAL
            log.exception("unhandled error", extra={"rpc": rpc})
            await context.abort(code, "internal error")
        finally:
            elapsed = time.perf_counter() - started
            counter = handled.get(code)
            if counter is None:  # a series appears with its first call, as before
                counter = handled[code] = HANDLED.labels(service, method, code.name)
            counter.inc()
            latency.observe(elapsed)
            # Checked first: building the record's fields (the peer comes from grpc's core) costs a call
            # something even when the level drops the record.
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "%s %s %.1fms",
                    rpc,
                    code.name,
                    elapsed * 1000,
                    extra={"rpc": rpc, "code": code.name, "ms": round(elapsed * 1000, 2), "peer": context.peer()},
                )

    return call


def _code_of(context: grpc.aio.ServicerContext[Any, Any], fallback: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    # grpc.aio keeps the raw integer on some paths.
    for candidate in grpc.StatusCode:
        if candidate.value[0] == code:
            return candidate
    return fallback if fallback != grpc.StatusCode.OK else grpc.StatusCode.UNKNOWN
