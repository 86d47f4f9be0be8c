"""The live ``customization.log`` of an Azure build, read from the staging resource group's storage.

Azure Image Builder writes the build's log (Packer's output: every step, every line a script prints)
to the storage account of the template's staging resource group: container ``packerlogs``, blob
``<run id>/customization.log``. The staging group is ``properties.stagingResourceGroup`` when the
template names one, else the ``IT_<group>_<template>_<suffix>`` group the service created.

:class:`StagingLog` finds that account through ARM (the same client, so the same identity), then reads
the blob with azure-storage-blob by byte range: each read asks only for the bytes after the last one
it returned, and returns whole lines (a partial last line waits for the next read, or for the run's
end). The answer has the shape of the local service's log endpoint (``runId``, ``lines``, ``next``,
``complete``), so ``aibtui logs --follow``, ``aibtui build`` and the TUI monitor use either the same way.

Reading needs a data-plane role: when the storage answers 403, the error names the role
(Storage Blob Data Reader), the scope (the storage account) and the ``az role assignment create``
line that grants it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ArmError, ClientError

CONTAINER = "packerlogs"
LOG_BLOB = "customization.log"
READER_ROLE = "Storage Blob Data Reader"
STORAGE_API = "2023-05-01"
GROUPS_API = "2021-04-01"
TERMINAL = ("Succeeded", "PartiallySucceeded", "Failed", "Canceled")


@dataclass(frozen=True)
class Account:
    id: str  # ARM id of the storage account (the role's scope)
    blob_url: str  # https://<account>.blob.<suffix>/


@dataclass
class StagingLog:
    client: Any  # ArmClient (provider azure)
    account: Account | None = None  # found once through ARM; tests give it
    blob_credential: Any = None  # default: the ARM client's TokenCredential
    _line_no: dict[str, int] = field(default_factory=dict)  # blob -> lines returned so far
    _offsets: dict[str, int] = field(default_factory=dict)  # blob -> byte offset of line _line_no
    _tails: dict[str, bytes] = field(default_factory=dict)  # blob -> a partial last line, not returned yet
    bytes_read: int = 0  # bytes downloaded so far (each byte of a growing log once)

    @classmethod
    def for_client(cls, client: Any) -> StagingLog:
        log = getattr(client, "_staging_log", None)
        if log is None:
            log = cls(client)
            client._staging_log = log
        return log

    # -- where the log is --------------------------------------------------------------------
    def staging_group(self, tpl: dict[str, Any], name: str) -> str:
        props = tpl.get("properties") or {}
        staging = props.get("stagingResourceGroup")
        if isinstance(staging, str) and staging:
            return staging.rstrip("/").split("/")[-1]
        rg = self.client.resource_group or ""
        prefix = f"IT_{rg}_{name}_".lower()
        sub = self.client.subscription
        url = self.client.url(f"/subscriptions/{sub}/resourcegroups", GROUPS_API)
        for group in self.client.pages(url):
            if str(group.get("name", "")).lower().startswith(prefix):
                return str(group["name"])
        raise ClientError(f"no staging resource group for {name}: no group named IT_{rg}_{name}_* in the "
                          "subscription and the template names no stagingResourceGroup (has it run yet?)")

    def find_account(self, tpl: dict[str, Any], name: str) -> Account:
        if self.account is not None:
            return self.account
        group = self.staging_group(tpl, name)
        sub = self.client.subscription
        url = self.client.url(f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Storage/"
                              "storageAccounts", STORAGE_API)
        for acct in self.client.pages(url):
            blob = ((acct.get("properties") or {}).get("primaryEndpoints") or {}).get("blob")
            if blob:
                self.account = Account(str(acct["id"]), str(blob))
                return self.account
        raise ClientError(f"the staging resource group {group} has no storage account (yet): the service "
                          "creates it when the run starts")

    # -- reading -----------------------------------------------------------------------------
    def _container(self, account: Account) -> Any:
        from azure.storage.blob import ContainerClient

        cred = self.blob_credential if self.blob_credential is not None else self.client.credential
        return ContainerClient(account.blob_url, CONTAINER, credential=cred)

    def _denied(self, account: Account, exc: Exception) -> ClientError:
        ident = self.client.identity
        assignee = getattr(ident, "assignee", None) or "<your user, app or identity id>"
        who = ident.describe() if ident is not None else "your identity"
        return ClientError(
            f"cannot read the build log: the storage account refused {who} (403: {_code(exc)}).\n"
            f"  the log needs the role '{READER_ROLE}' on {account.id}; grant it with:\n"
            f"  az role assignment create --assignee {assignee} --role \"{READER_ROLE}\" --scope {account.id}")

    def latest_run_blob(self, container: Any) -> str | None:
        """``<run id>/customization.log`` of the newest run (the one written last)."""
        newest = None
        for b in container.list_blobs():
            if b.name.endswith("/" + LOG_BLOB) and (newest is None or b.last_modified > newest.last_modified):
                newest = b
        return None if newest is None else str(newest.name)

    def read(self, name: str, *, after: int = 0, run_id: str | None = None) -> dict[str, Any]:
        """New lines after line ``after`` (the ``next`` of the previous answer)."""
        from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

        tpl = self.client.get_template(name)
        st = (tpl.get("properties") or {}).get("lastRunStatus") or {}
        ended = st.get("runState") in TERMINAL
        if not st:
            return {"runId": None, "lines": [], "next": 0, "complete": True}
        try:
            account = self.find_account(tpl, name)
        except ArmError as exc:  # not an error of the build: the watch goes on without the log
            raise ClientError(f"cannot find the staging storage account of {name}: {exc}") from exc
        container = self._container(account)
        try:
            blob_name = f"{run_id}/{LOG_BLOB}" if run_id else self.latest_run_blob(container)
            if blob_name is None:
                return {"runId": None, "lines": [], "next": after, "complete": ended,
                        "runState": st.get("runState")}
            lines, nxt = self._read_lines(container, blob_name, after, ended)
        except ResourceNotFoundError:
            return {"runId": run_id, "lines": [], "next": after, "complete": ended, "runState": st.get("runState")}
        except HttpResponseError as exc:
            if exc.status_code == 403:
                raise self._denied(account, exc) from exc
            raise ClientError(f"reading {CONTAINER}/{run_id or '<run>'}/{LOG_BLOB} failed: {_code(exc)}") from exc
        except AzureError as exc:
            raise ClientError(f"reading the build log failed: {exc}") from exc
        return {"runId": blob_name.split("/")[0], "lines": lines, "next": nxt, "complete": ended,
                "runState": st.get("runState")}

    def _read_lines(self, container: Any, blob_name: str, after: int, ended: bool) -> tuple[list[dict], int]:
        """Whole lines after line number ``after``; only the bytes past the last read are fetched (a
        partial last line is kept in memory until its newline arrives, or the run ends)."""
        if self._line_no.get(blob_name) != after:  # a fresh reader (or a re-attach): count from the start
            self._line_no[blob_name], self._offsets[blob_name], self._tails[blob_name] = 0, 0, b""
            if after:
                self._skip_to(container, blob_name, after)
        offset = self._offsets[blob_name]
        blob = container.get_blob_client(blob_name)
        size = int(blob.get_blob_properties().size)
        data = b""
        if size > offset:
            data = blob.download_blob(offset=offset, length=size - offset).readall()
            self.bytes_read += len(data)
            self._offsets[blob_name] = offset + len(data)
        buf = self._tails.get(blob_name, b"") + data
        cut = len(buf) if ended else buf.rfind(b"\n") + 1  # the run is over: the last line will not grow
        texts = buf[:cut].decode("utf-8", "replace").splitlines()
        self._tails[blob_name] = buf[cut:]
        first = self._line_no[blob_name]
        self._line_no[blob_name] = first + len(texts)
        return [{"n": first + i + 1, "text": t} for i, t in enumerate(texts)], self._line_no[blob_name]

    def _skip_to(self, container: Any, blob_name: str, line: int) -> None:
        data = container.get_blob_client(blob_name).download_blob().readall()
        pos = 0
        for _ in range(line):
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            pos = nl + 1
        self.bytes_read += len(data)
        self._offsets[blob_name], self._line_no[blob_name], self._tails[blob_name] = pos, line, b""


def _code(exc: Exception) -> str:
    code = getattr(exc, "error_code", None)
    reason = getattr(exc, "reason", None)
    return str(code or reason or type(exc).__name__)


def role_assignment_line(assignee: str, scope: str, role: str = READER_ROLE) -> str:
    return f"az role assignment create --assignee {assignee} --role \"{role}\" --scope {scope}"

