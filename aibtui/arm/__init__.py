"""The ARM client for image templates, and the two providers that feed it (local, azure).

One :class:`~aibtui.arm.client.ArmClient` speaks the protocol (URLs, api-version, retries with
backoff and ``Retry-After``, long-running operations, both error envelopes). A provider supplies its
base URL, a transport and the auth header: the local service (token file) or Azure (azure-cli-core
credentials over an azure-core pipeline). Nothing here imports azure-* unless the azure provider is
opened.
"""
