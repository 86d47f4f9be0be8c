"""The transport of both providers: azure-mgmt-core's ``ARMPipelineClient`` with its standard policies.

Policies, in order (azure-core runs them top to bottom for a request, bottom to top for its answer):

- ``RequestIdPolicy``: one ``x-ms-client-request-id`` per logical request, kept over its retries
  (the local service recognises a retried ``POST .../run`` by it);
- ``HeadersPolicy`` (Accept JSON), ``UserAgentPolicy`` (``aibtui/<version>``), ``ProxyPolicy``;
- ``ARMAutoResourceProviderRegistrationPolicy``: a ``MissingSubscriptionRegistration`` answer
  registers the resource provider and sends the request again;
- :class:`ArmRetryPolicy`: azure-core's ``RetryPolicy`` (429/408/5xx and connection errors,
  exponential backoff, ``Retry-After`` / ``retry-after-ms`` honoured), except that a POST is never
  resent after the service may have acted on it (see :mod:`aibtui.arm.client` for what run does);
- ``ARMChallengeAuthenticationPolicy``: the bearer token, cached and refreshed by azure-core,
  answering CAE claims challenges; it refuses to send a token to a non-``https`` URL;
- ``ARMHttpLoggingPolicy``: every request and answer, headers and query parameters outside
  azure-core's allow-list redacted, to the ``aibtui.http`` logger (``--debug`` prints it).

Nothing here is imported on the compile path; azure-* imports stay inside functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

USER_AGENT = "aibtui/0.1"
HTTP_LOGGER = "aibtui.http"


@dataclass(frozen=True)
class ClientSettings:
    """How patient a client is. ``attempts`` counts tries of one request (1 = no retry)."""

    attempts: int = 6
    backoff: float = 0.8  # azure-core's retry_backoff_factor: backoff * 2**(retry-1) seconds
    max_backoff: float = 60.0
    timeout: float = 60.0  # seconds to connect, and to wait for an answer
    poll_interval: float = 10.0  # LRO poll interval when the service gives no Retry-After


# The name the tests and callers used before the move to azure-core; one dataclass, two names.
RetryPolicy = ClientSettings


def arm_retry_policy(settings: ClientSettings) -> Any:
    """azure-core's ``RetryPolicy`` configured from ``settings``, POST-safe (see the class below)."""
    from azure.core.pipeline.policies import RetryPolicy as CoreRetry

    class ArmRetryPolicy(CoreRetry):
        """azure-core's retry, but a POST is resent only when the service cannot have acted on it.

        azure-core already never resends a POST whose connection failed; it does resend one answered
        500/503/504. For ``run`` that could start a second build, so here a POST is retried only for
        answers that carry ``Retry-After`` (429 throttling, 503 with a hint): the request was refused,
        not carried out. Every other method keeps azure-core's behaviour.
        """

        def _is_method_retryable(self, settings: dict[str, Any], request: Any, response: Any = None) -> bool:
            if request.method.upper() == "POST":
                return False
            return super()._is_method_retryable(settings, request, response=response)

    retries = max(0, settings.attempts - 1)
    return ArmRetryPolicy(retry_total=retries, retry_connect=retries, retry_read=retries, retry_status=retries,
                          retry_backoff_factor=settings.backoff, retry_backoff_max=settings.max_backoff)


class _DebugHandler(logging.Handler):
    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        from .redact import redact_text

        try:
            for line in record.getMessage().splitlines():
                self.sink(redact_text(line))
        except Exception:  # noqa: BLE001 - --debug output must never break a request (e.g. a closed pipe)
            pass


def http_logger(debug: Callable[[str], None] | None) -> logging.Logger:
    """The logger the HTTP logging policy writes to; with ``debug`` its lines go there."""
    name = HTTP_LOGGER if debug is None else f"{HTTP_LOGGER}.{id(debug):x}"
    log = logging.getLogger(name)
    if debug is not None and not any(isinstance(h, _DebugHandler) for h in log.handlers):
        log.addHandler(_DebugHandler(debug))
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def make_pipeline_client(endpoint: str, credential: Any, scopes: tuple[str, ...], settings: ClientSettings, *,
                         ca_file: str | None = None, debug: Callable[[str], None] | None = None,
                         http_transport: Any = None) -> Any:
    """An ``ARMPipelineClient`` for ``endpoint`` with the policies listed in the module doc."""
    from azure.core.pipeline.policies import (
        ContentDecodePolicy,
        HeadersPolicy,
        ProxyPolicy,
        RequestIdPolicy,
        UserAgentPolicy,
    )
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import (
        ARMAutoResourceProviderRegistrationPolicy,
        ARMChallengeAuthenticationPolicy,
        ARMHttpLoggingPolicy,
    )

    if http_transport is None:
        from azure.core.pipeline.transport import RequestsTransport

        kw: dict[str, Any] = {"connection_timeout": settings.timeout, "read_timeout": settings.timeout}
        if ca_file:
            kw["connection_verify"] = ca_file
        http_transport = RequestsTransport(**kw)
    logging_policy = ARMHttpLoggingPolicy(logger=http_logger(debug))
    # ours and ARM's harmless ones; everything else (sig=, tokens) stays REDACTED
    logging_policy.allowed_query_params.update({"api-version", "$skiptoken", "$skipToken", "$filter", "after", "runId",
                                                 "wait"})
    logging_policy.allowed_header_names.update({"Azure-AsyncOperation", "Location", "Retry-After", "retry-after-ms"})
    policies = [
        RequestIdPolicy(),
        HeadersPolicy({"Accept": "application/json"}),
        UserAgentPolicy(base_user_agent=USER_AGENT),
        ProxyPolicy(),
        ContentDecodePolicy(),
        ARMAutoResourceProviderRegistrationPolicy(),
        arm_retry_policy(settings),
        ARMChallengeAuthenticationPolicy(credential, *scopes),
        logging_policy,
    ]
    return ARMPipelineClient(base_url=endpoint, policies=policies, transport=http_transport)


class StaticToken:
    """A TokenCredential for the local service's per-user token (a file; it does not expire)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, 2**31 - 1)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, 2**31 - 1)
