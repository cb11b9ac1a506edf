"""`make bench-serve`: `pixpress serve` against thumbor 7 and a minimal sharp
HTTP server, in one run, the same photo and the same work:

- resize: to 800 pixels wide, WebP quality 80;
- recompress: JPEG quality 80, no resize.

    python3 bench/serve_bench.py [--duration S] [--clients 1,2,8,32] [--soak S] [--no-install]

HTTP load comes from autocannon (npm), one generator for every server; gRPC
load (pixpress only: neither peer speaks it) from a grpcio client with one
thread per client. Cells run in turn (server after server for each workload
and client count), so ratios come from the same minutes. The generator runs
on the same 2 cores as the server, as it would for every peer.

Settings, equal where they can be: pixpress with its defaults except
`--queue 64` (its default queue of 4 per worker answers 503 beyond 10
requests in flight, by design; here all 32 clients are served), its JSON
request log on (to /dev/null); sharp at its defaults in one Node process; thumbor 7 with one process
(its default) and, as a second row, `--processes 2`, the file loader reading
the photo from disk (it gets no upload to read, which favours it), no
storage and no result storage (no caching).

The soak runs pixpress at 8 clients for --soak seconds and samples its RSS
every 5 s; the slope is fitted by least squares after the first minute.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PIXPRESS_CORPUS", ROOT.parent / "shared" / "corpus"))
PHOTO = CORPUS / "jpeg" / "flickr_2569067123_aca715a2ee_o.jpg"
BIN = Path(os.environ.get("PIXPRESS_BIN", Path.home() / ".cache" / "pixpress-target" / "release" / "pixpress"))
BENCH_DIR = Path(os.environ.get("PIXPRESS_BENCH_DIR", Path.home() / ".cache" / "pixpress-bench"))
NODE_DIR = BENCH_DIR / "node"
THUMBOR_VENV = BENCH_DIR / "thumbor-venv"
NODE_ENV = {**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")}
PORTS = {"pixpress": 18480, "pixpress-grpc": 18481, "thumbor": 18482, "thumbor-2p": 18484, "sharp": 18483}
WORK = {
    "resize": {"pixpress": "format=webp&quality=80&resize=800x", "sharp": "op=resize",
               "thumbor": "/unsafe/800x0/filters:format(webp):quality(80)/"},
    "recompress": {"pixpress": "format=jpeg&quality=80", "sharp": "op=recompress",
                   "thumbor": "/unsafe/filters:quality(80)/"},
}


def install() -> None:
    """sharp and autocannon into BENCH_DIR/node, thumbor 7 into its own venv, where missing."""
    if not (NODE_DIR / "node_modules" / "autocannon").exists() or not (NODE_DIR / "node_modules" / "sharp").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        (NODE_DIR / "package.json").write_text(json.dumps(
            {"private": True, "dependencies": {"sharp": "0.34.5", "autocannon": "^8.0.0"}}))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True)
    if not (THUMBOR_VENV / "bin" / "thumbor").exists():
        subprocess.run([sys.executable, "-m", "venv", str(THUMBOR_VENV)], check=True)
        subprocess.run([str(THUMBOR_VENV / "bin" / "pip"), "install", "-q", "thumbor>=7,<8"], check=True)


def wait_http(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start_servers(tmp: Path) -> dict[str, subprocess.Popen]:
    procs = {}
    procs["pixpress"] = subprocess.Popen(
        [str(BIN), "serve", "--http-addr", f"127.0.0.1:{PORTS['pixpress']}",
         "--grpc-addr", f"127.0.0.1:{PORTS['pixpress-grpc']}", "--queue", "64"], stderr=subprocess.DEVNULL)
    procs["sharp"] = subprocess.Popen(["node", str(ROOT / "bench" / "serve" / "sharp_server.js"), str(PORTS["sharp"])],
                                      env=NODE_ENV,
                                      stderr=subprocess.DEVNULL)
    conf = tmp / "thumbor.conf"
    conf.write_text(
        "LOADER = 'thumbor.loaders.file_loader'\n"
        f"FILE_LOADER_ROOT_PATH = '{PHOTO.parent}'\n"
        "STORAGE = 'thumbor.storages.no_storage'\n"
        "RESULT_STORAGE = None\n"
        "ALLOW_UNSAFE_URL = True\n"
        "QUALITY = 80\n"
        "MAX_WIDTH = 0\nMAX_HEIGHT = 0\n"
    )
    for name, extra in (("thumbor", []), ("thumbor-2p", ["--processes", "2"])):
        procs[name] = subprocess.Popen(
            [str(THUMBOR_VENV / "bin" / "thumbor"), "--port", str(PORTS[name]), "--ip", "127.0.0.1",
             "--conf", str(conf), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{PORTS['pixpress']}/healthz")
    wait_http(f"http://127.0.0.1:{PORTS['sharp']}/")
    for name in ("thumbor", "thumbor-2p"):
        wait_http(f"http://127.0.0.1:{PORTS[name]}/healthcheck")
    return procs


def url_of(server: str, work: str) -> tuple[str, str]:
    """The URL and method of one request."""
    if server.startswith("thumbor"):
        return f"http://127.0.0.1:{PORTS[server]}{WORK[work]['thumbor']}{PHOTO.name}", "GET"
    if server == "sharp":
        return f"http://127.0.0.1:{PORTS['sharp']}/compress?{WORK[work]['sharp']}", "POST"
    return f"http://127.0.0.1:{PORTS['pixpress']}/v1/compress?{WORK[work]['pixpress']}", "POST"


def one_output(server: str, work: str) -> int:
    """The bytes of one output, to show each server does the same work."""
    url, method = url_of(server, work)
    data = PHOTO.read_bytes() if method == "POST" else None
    return len(urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=120).read())


def autocannon(server: str, work: str, clients: int, duration: float) -> dict:
    url, method = url_of(server, work)
    cmd = ["node", str(ROOT / "bench" / "serve" / "load.js"), url, method, str(clients), str(duration)]
    if method == "POST":
        cmd.append(str(PHOTO))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=NODE_ENV)
    r = json.loads(out.stdout)
    done = r["2xx"]
    return {"rps": done / r["duration"], "p50": r["latency"]["p50"], "p99": r["latency"]["p99"],
            "errors": r["errors"] + r["non2xx"] + r["timeouts"]}


def grpc_load(work: str, clients: int, duration: float, pb) -> dict:
    import grpc

    pixpress_pb2, pixpress_pb2_grpc = pb
    options = dict(p.split("=") for p in WORK[work]["pixpress"].split("&"))
    data = PHOTO.read_bytes()
    channel = grpc.insecure_channel(f"127.0.0.1:{PORTS['pixpress-grpc']}",
                                    options=[("grpc.max_receive_message_length", 64 << 20)])
    stub = pixpress_pb2_grpc.PixpressStub(channel)
    request = pixpress_pb2.CompressRequest(data=data, options=options)
    latencies, errors = [], [0]
    end = time.monotonic() + duration

    def client():
        while time.monotonic() < end:
            t = time.monotonic()
            try:
                stub.Compress(request, timeout=120)
                latencies.append((time.monotonic() - t) * 1e3)
            except grpc.RpcError:
                errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {"rps": len(latencies) / took, "p50": pick(0.5), "p99": pick(0.99), "errors": errors[0]}


def stubs(tmp: Path):
    schema = ROOT / "proto" / "pixpress" / "v1"
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{schema}", f"--python_out={tmp}",
                    f"--grpc_python_out={tmp}", str(schema / "pixpress.proto")], check=True)
    sys.path.insert(0, str(tmp))
    import pixpress_pb2
    import pixpress_pb2_grpc

    return pixpress_pb2, pixpress_pb2_grpc


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def soak(pid: int, seconds: float) -> dict:
    url, _ = url_of("pixpress", "resize")
    cmd = ["node", str(ROOT / "bench" / "serve" / "load.js"), url, "POST", "8", str(seconds), str(PHOTO)]
    load = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=NODE_ENV)
    samples = []
    start = time.monotonic()
    while load.poll() is None:
        samples.append((time.monotonic() - start, rss_kib(pid)))
        time.sleep(5)
    result = json.loads(load.stdout.read())
    late = [(t, r) for t, r in samples if t >= 60] or samples
    mt = statistics.fmean(t for t, _ in late)
    mr = statistics.fmean(r for _, r in late)
    slope = sum((t - mt) * (r - mr) for t, r in late) / max(1e-9, sum((t - mt) ** 2 for t, _ in late))
    return {"seconds": seconds, "requests": result["2xx"], "errors": result["errors"] + result["non2xx"],
            "rss_first_mib": samples[0][1] / 1024, "rss_after_1min_mib": late[0][1] / 1024,
            "rss_last_mib": samples[-1][1] / 1024, "rss_max_mib": max(r for _, r in samples) / 1024,
            "slope_kib_per_min": slope * 60}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--clients", default="1,2,8,32")
    parser.add_argument("--soak", type=float, default=600)
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    if not args.no_install:
        install()
    clients = [int(c) for c in args.clients.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="pixpress-bench-serve-"))
    procs = start_servers(tmp)
    pb = stubs(tmp)
    results = {"photo": PHOTO.name, "cells": []}
    try:
        servers = ["pixpress", "sharp", "thumbor", "thumbor-2p"]
        sizes = {(s, w): one_output(s, w) for s in servers for w in WORK}
        results["bytes"] = {f"{s}/{w}": n for (s, w), n in sizes.items()}
        for work in WORK:
            for c in clients:
                for server in servers:
                    autocannon(server, work, c, 2)  # warm-up
                    r = autocannon(server, work, c, args.duration)
                    results["cells"].append({"server": server, "protocol": "http", "work": work, "clients": c, **r})
                    print(json.dumps(results["cells"][-1]), flush=True)
                grpc_load(work, c, 2, pb)
                r = grpc_load(work, c, args.duration, pb)
                results["cells"].append({"server": "pixpress", "protocol": "grpc", "work": work, "clients": c, **r})
                print(json.dumps(results["cells"][-1]), flush=True)
        if args.soak > 0:
            for name in ("sharp", "thumbor", "thumbor-2p"):
                procs[name].terminate()
            results["soak"] = soak(procs["pixpress"].pid, args.soak)
            print(json.dumps(results["soak"]), flush=True)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    out = BENCH_DIR / "serve-results.json"
    out.write_text(json.dumps(results, indent=1))
    print_table(results)
    print(f"raw results: {out}")


def print_table(results: dict) -> None:
    cells = results["cells"]
    print(f"\nphoto {results['photo']}; output bytes: " +
          ", ".join(f"{k} {v}" for k, v in results["bytes"].items()))
    for work in WORK:
        print(f"\n{work}: requests/s (p50 / p99 ms)\n")
        rows = sorted({(c["server"], c["protocol"]) for c in cells if c["work"] == work},
                      key=lambda r: ["pixpress", "sharp", "thumbor", "thumbor-2p"].index(r[0]) + (r[1] == "grpc") * 0.5)
        counts = sorted({c["clients"] for c in cells})
        print("| server | " + " | ".join(f"{n} clients" for n in counts) + " |")
        print("|---|" + "---|" * len(counts))
        for server, protocol in rows:
            line = []
            for n in counts:
                c = next(c for c in cells if (c["server"], c["protocol"], c["work"], c["clients"]) == (server, protocol, work, n))
                err = f", {c['errors']} errors" if c["errors"] else ""
                line.append(f"{c['rps']:.1f} ({c['p50']:.0f} / {c['p99']:.0f}{err})")
            print(f"| {server} {protocol} | " + " | ".join(line) + " |")
        for n in counts:
            by = {(c["server"], c["protocol"]): c["rps"] for c in cells if c["work"] == work and c["clients"] == n}
            px = by[("pixpress", "http")]
            print(f"  {n} clients: pixpress/thumbor {px / by[('thumbor', 'http')]:.2f}x, "
                  f"pixpress/thumbor-2p {px / by[('thumbor-2p', 'http')]:.2f}x, pixpress/sharp {px / by[('sharp', 'http')]:.2f}x")
    if "soak" in results:
        s = results["soak"]
        print(f"\nsoak: {s['seconds']:.0f} s at 8 clients, {s['requests']} requests, {s['errors']} errors; RSS "
              f"{s['rss_first_mib']:.0f} MiB at start, {s['rss_after_1min_mib']:.0f} after 1 min, "
              f"{s['rss_last_mib']:.0f} at the end (max {s['rss_max_mib']:.0f}); slope after 1 min "
              f"{s['slope_kib_per_min']:.0f} KiB/min")


if __name__ == "__main__":
    main()
