"""The ARM client for image templates, and the two providers that feed it (local, azure).

One :class:`~aibtui.arm.client.ArmClient` speaks the protocol on azure-mgmt-core's
``ARMPipelineClient`` (:mod:`aibtui.arm.pipeline`: retries with ``Retry-After``, challenge auth over
HTTPS only, resource provider registration, redacted HTTP logging) and ``ARMPolling``. A provider
supplies the endpoint and the credential: the local service (its token and CA file) or Azure
(azure-cli-core's login or azure-identity, ``--auth``). azure-* is imported inside functions only, so
the compile path never loads it.
"""
