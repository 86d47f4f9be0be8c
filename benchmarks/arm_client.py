"""Benchmark of the ARM client (azure-mgmt-core pipeline) and the Azure build-log reader.

1. Request latency through ``ARMPipelineClient`` (challenge auth, retry, logging policies) to the
   local service: GET of a template over HTTPS (verified with the service's CA; keep-alive) and,
   for comparison, over its plain-http loopback listener.
2. An LRO end to end: PUT a template and wait (ARMPolling), then POST run and wait.
3. The live Azure log reader (aibtui/arm/stagelog.py) against Azurite, when ``azurite-blob`` is on
   PATH: a 1 MiB customization.log that grows in 64 appends, read after each append; prints the
   bytes downloaded (should equal the blob's size: byte ranges, no re-reads) and the time per read.

Usage: .venv/bin/python benchmarks/arm_client.py [--requests 200]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

# the in-process service helpers live with the tests (tests/service_support.py), not in the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _percentiles(samples: list[float]) -> str:
    s = sorted(samples)
    p = lambda q: s[min(len(s) - 1, int(q * len(s)))] * 1000  # noqa: E731
    return f"p50 {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms, mean {statistics.mean(s) * 1000:.1f} ms"


def bench_requests(n: int) -> None:
    from service_support import FAST, local_service, sample_body

    from aibtui.arm.local import local_client

    with tempfile.TemporaryDirectory() as tmp, local_service(Path(tmp), replace(FAST, step_delay=0.0)) as svc:
        assert svc.tls is not None
        for label, url, ca in (("https", svc.https_url, str(svc.tls.ca_file)), ("http ", svc.base_url, None)):
            c = local_client(Path(tmp), api_version="2024-02-01", base_url=url, ca_file=ca)
            c.find_template("warm-up")
            samples = []
            for _ in range(n):
                t = time.perf_counter()
                c.find_template("nope")
                samples.append(time.perf_counter() - t)
            print(f"GET template over {label}: {_percentiles(samples)} ({n} requests)")
        c = local_client(Path(tmp), api_version="2024-02-01", base_url=svc.https_url, ca_file=str(svc.tls.ca_file))
        t = time.perf_counter()
        c.create_template("bench", sample_body()).result(timeout=30)
        put = time.perf_counter() - t
        t = time.perf_counter()
        c.run("bench").wait(timeout=60)
        run = time.perf_counter() - t
        print(f"PUT + ARMPolling to Succeeded: {put * 1000:.0f} ms; POST run + wait (simulated, no step delay): "
              f"{run * 1000:.0f} ms")


def bench_stagelog() -> None:
    exe = shutil.which("azurite-blob")
    if exe is None:
        print("stagelog: skipped (needs azurite: npm install -g azurite)")
        return
    from azure.storage.blob import BlobServiceClient

    from aibtui.arm.client import Identity
    from aibtui.arm.stagelog import Account, StagingLog

    key = {"account_name": "devstoreaccount1",
           "account_key": "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.Popen([exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", work,
                                 "--silent", "--skipApiVersionCheck", "--loose"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("azurite did not start") from None
                    time.sleep(0.05)
            url = f"http://127.0.0.1:{port}/devstoreaccount1"
            container = BlobServiceClient(url, credential=key).create_container("packerlogs")
            blob = container.get_blob_client("run-1/customization.log")
            blob.create_append_blob()

            class Arm:
                provider, subscription, resource_group, credential = "azure", "s", "rg", None
                identity = Identity("cli", "bench")

                def get_template(self, name: str) -> dict:
                    return {"properties": {"lastRunStatus": {"runState": "Running", "startTime": "x"}}}

            log = StagingLog(Arm(), account=Account("/subscriptions/s/x", url), blob_credential=key)
            chunk = b"".join(f"PACKER OUT {i:05d} {'x' * 40}\n".encode() for i in range(300))  # ~16 KiB
            nxt, times, lines = 0, [], 0
            for _ in range(64):
                blob.append_block(chunk)
                t = time.perf_counter()
                got = log.read("bench", after=nxt)
                times.append(time.perf_counter() - t)
                nxt, lines = got["next"], lines + len(got["lines"])
            size = blob.get_blob_properties().size
            print(f"stagelog: {lines} lines, blob {size} bytes, downloaded {log.bytes_read} bytes; per read "
                  f"(~16 KiB new): {_percentiles(times)}")
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    bench_requests(args.requests)
    bench_stagelog()


if __name__ == "__main__":
    main()
