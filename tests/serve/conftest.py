"""Starts `pixpress serve` on loopback and gives tests clients nobody here
wrote: grpcio stubs generated from the committed schema by grpcio-tools, and
curl. Outputs are judged by Pillow."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
BIN = Path(os.environ.get("PIXPRESS_BIN", ROOT / "target" / "release" / "pixpress"))


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """The Python messages and stubs, generated now from proto/pixpress/v1."""
    out = tmp_path_factory.mktemp("stubs")
    schema_dir = ROOT / "proto" / "pixpress" / "v1"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{schema_dir}", f"--python_out={out}",
         f"--grpc_python_out={out}", str(schema_dir / "pixpress.proto")],
        check=True,
    )
    sys.path.insert(0, str(out))
    import pixpress_pb2  # noqa: E402  (generated above)
    import pixpress_pb2_grpc  # noqa: E402

    return pixpress_pb2, pixpress_pb2_grpc


class Server:
    """One `pixpress serve` process with its addresses and its log lines."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", *map(str, args)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env={**os.environ, **(env or {})},
        )
        self.log = []
        self.http = self.grpc = None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("message") == "HTTP listening":
                    self.http = "http://" + event["address"]
                if event.get("message") == "gRPC listening":
                    self.grpc = event["address"]
                if self.http and self.grpc:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or not (self.http and self.grpc):
            self.stop()
            raise RuntimeError("server did not start: " + "".join(self.log))

    def events(self):
        """The JSON log lines so far."""
        out = []
        for line in list(self.log):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def alive(self):
        return self.proc.poll() is None

    def metrics(self):
        """The /metrics text parsed by prometheus_client: {(name, labels): value}."""
        from prometheus_client.parser import text_string_to_metric_families

        text = urllib.request.urlopen(self.http + "/metrics", timeout=10).read().decode()
        values = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return values

    def metric(self, name, **labels):
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


def curl(url, *args, data=None, timeout=120):
    """curl's answer: (status, headers dict (lowercase names), body bytes)."""
    cmd = ["curl", "-sS", "-D", "-", "-o", "-", "--max-time", str(timeout), *args, url]
    if data is not None:
        cmd += ["--data-binary", f"@{data}"]
    out = subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
    raw = out.stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, out.stderr
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def wait_for(predicate, timeout=60, every=0.05):
    """Polls until `predicate()` is true; returns whether it became true."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False
