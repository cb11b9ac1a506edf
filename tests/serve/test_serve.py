"""`pixpress serve` driven by grpcio (stubs generated from the committed
schema) and curl; outputs judged by Pillow, metrics by prometheus_client."""

import hashlib
import hmac
import io
import subprocess
import threading
import time

import grpc
import pytest
from PIL import Image

from conftest import BIN, CORPUS, ROOT, Server, curl, wait_for

PHOTO = CORPUS / "jpeg" / "xmp_test_adobergb.jpg"
BAD_STATUS = {
    line.split("\t")[0]: line.split("\t")[1]
    for line in (ROOT / "tests" / "bad_status.tsv").read_text().splitlines()
    if line and not line.startswith(("#", "path\t"))
}


def stub(pb, server):
    pixpress_pb2, pixpress_pb2_grpc = pb
    channel = grpc.insecure_channel(server.grpc, options=[("grpc.max_receive_message_length", 256 << 20),
                                                          ("grpc.max_send_message_length", 256 << 20)])
    return pixpress_pb2, pixpress_pb2_grpc.PixpressStub(channel)


def trailing_code(error):
    return dict(error.trailing_metadata() or ()).get("pxp-error-code")


def test_http_compress_resize_webp_judged_by_pillow(server):
    status, headers, body = curl(server.http + "/v1/compress?format=webp&quality=80&resize=800x", data=PHOTO)
    assert status == 200, body
    assert headers["content-type"] == "image/webp"
    out = Image.open(io.BytesIO(body))
    assert out.format == "WEBP"
    src = Image.open(PHOTO)
    assert out.width == 800 == int(headers["x-pixpress-width"])
    assert out.height == int(headers["x-pixpress-height"]) == round(800 * src.height / src.width)
    assert int(headers["x-pixpress-input-bytes"]) == PHOTO.stat().st_size
    assert "decode;dur=" in headers["server-timing"] and "queue;dur=" in headers["server-timing"]
    assert headers["etag"].startswith('"') and headers["cache-control"]
    assert headers["x-request-id"]


def test_grpc_compress_and_stream_agree_judged_by_pillow(pb, server):
    msgs, client = stub(pb, server)
    data = PHOTO.read_bytes()
    options = {"format": "jpeg", "quality": "75", "resize": "640x640", "metadata": "strip"}
    one = client.Compress(msgs.CompressRequest(data=data, options=options), timeout=120)
    img = Image.open(io.BytesIO(one.data))
    assert img.format == "JPEG" and one.format == "jpeg"
    assert (img.width, img.height) == (one.width, one.height) and max(img.size) == 640
    assert one.input_bytes == len(data)
    assert one.timings.decode_us > 0 and one.timings.encode_us > 0
    assert "exif" not in img.info
    chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)]
    requests = [msgs.CompressRequest(data=chunks[0], options=options)]
    requests += [msgs.CompressRequest(data=c) for c in chunks[1:]]
    streamed = client.CompressStream(iter(requests), timeout=120)
    assert len(chunks) > 1
    assert streamed.data == one.data, "the same input and options make the same bytes"


def test_probe_both_protocols_match_pillow(pb, server):
    msgs, client = stub(pb, server)
    for path in [PHOTO, CORPUS / "png" / sorted(p.name for p in (CORPUS / "png").iterdir())[0]]:
        src = Image.open(path)
        status, _, body = curl(server.http + "/v1/probe", data=path)
        assert status == 200
        import json
        info = json.loads(body)
        reply = client.Probe(msgs.ProbeRequest(data=path.read_bytes()), timeout=30)
        assert (info["width"], info["height"]) == src.size == (reply.width, reply.height)
        assert info["format"] == reply.format == src.format.lower()


def test_capabilities_match_the_cli(pb, server):
    import json
    msgs, client = stub(pb, server)
    cli = json.loads(subprocess.run([str(BIN), "capabilities", "--json"], capture_output=True, check=True).stdout)
    status, _, body = curl(server.http + "/v1/capabilities")
    assert status == 200 and json.loads(body) == cli
    reply = client.Capabilities(msgs.CapabilitiesRequest(), timeout=30)
    assert list(reply.decode) == cli["decode"] and list(reply.encode) == cli["encode"]
    assert [lib.name for lib in reply.libraries] == [lib["name"] for lib in cli["libraries"]]


@pytest.mark.parametrize("path", sorted(BAD_STATUS))
def test_bad_input_gets_its_typed_status_in_both_protocols(pb, server, path):
    import json
    msgs, client = stub(pb, server)
    expected = BAD_STATUS[path]
    status, headers, body = curl(server.http + "/v1/compress?format=webp", data=CORPUS / path)
    assert status is not None and 400 <= status < 500, (status, body)
    assert json.loads(body)["code"] == expected
    with pytest.raises(grpc.RpcError) as caught:
        client.Compress(msgs.CompressRequest(data=(CORPUS / path).read_bytes(), options={"format": "webp"}), timeout=60)
    limit = expected == "PXP_ERR_LIMIT_EXCEEDED"
    assert caught.value.code() == (grpc.StatusCode.RESOURCE_EXHAUSTED if limit else grpc.StatusCode.INVALID_ARGUMENT)
    assert trailing_code(caught.value) == expected
    assert server.alive()
    assert curl(server.http + "/healthz")[0] == 200


def test_options_are_validated_by_the_engine(pb, server):
    import json
    msgs, client = stub(pb, server)
    status, _, body = curl(server.http + "/v1/compress?qualty=80", data=PHOTO)
    assert status == 400
    answer = json.loads(body)
    assert answer["code"] == "PXP_ERR_INVALID_ARGUMENT" and "qualty" in answer["message"]
    with pytest.raises(grpc.RpcError) as caught:
        client.Compress(msgs.CompressRequest(data=PHOTO.read_bytes(), options={"quality": "900"}), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailing_code(caught.value) == "PXP_ERR_INVALID_ARGUMENT"


def test_accept_negotiation_vary_and_etag(server):
    url = server.http + "/v1/compress?format=auto&resize=400x"
    for accept, allowed in [("image/webp,*/*", {"webp", "jpeg"}), ("*/*", {"jpeg"}), ("image/avif", {"avif", "jpeg"}),
                            ("image/avif;q=0, image/webp", {"webp", "jpeg"})]:
        status, headers, body = curl(url, "-H", f"Accept: {accept}", data=PHOTO)
        assert status == 200 and headers["vary"] == "Accept"
        made = Image.open(io.BytesIO(body)).format.lower()
        assert made in allowed and headers["x-pixpress-format"] == made, (accept, made)
        assert headers["content-type"] == "image/" + made
    status, headers_webp, _ = curl(url, "-H", "Accept: image/webp", data=PHOTO)
    status, headers_jpeg, body = curl(url, "-H", "Accept: */*", data=PHOTO)
    assert headers_jpeg["etag"] != headers_webp["etag"], "the negotiated candidates are part of the tag"
    images = server.metric("pixpress_images_total")
    status, again, body = curl(url, "-H", "Accept: */*", "-H", f"If-None-Match: {headers_jpeg['etag']}", data=PHOTO)
    assert status == 304 and body == b"" and again["etag"] == headers_jpeg["etag"]
    assert server.metric("pixpress_images_total") == images, "a 304 compresses nothing"
    status, headers, body = curl(server.http + "/v1/compress?format=webp", data=PHOTO)
    assert status == 200 and "vary" not in headers
    # The last of a repeated key wins, in the output and in the tag.
    a = curl(server.http + "/v1/compress?format=webp&format=png&resize=64x", data=PHOTO)
    b = curl(server.http + "/v1/compress?format=png&format=webp&resize=64x", data=PHOTO)
    assert Image.open(io.BytesIO(a[2])).format == "PNG" and Image.open(io.BytesIO(b[2])).format == "WEBP"
    assert a[1]["etag"] != b[1]["etag"]
    # Aliases too: effort and webp_method set the same thing, the last one winning.
    c = curl(server.http + "/v1/compress?format=webp&effort=0&webp_method=6&resize=64x", data=PHOTO)
    d = curl(server.http + "/v1/compress?format=webp&webp_method=6&effort=0&resize=64x", data=PHOTO)
    assert c[1]["etag"] != d[1]["etag"]
    e = curl(server.http + "/v1/compress?format=webp&webp-method=6&resize=64x", data=PHOTO)
    f = curl(server.http + "/v1/compress?format=webp&webp_method=6&resize=64x", data=PHOTO)
    assert e[1]["etag"] == f[1]["etag"] and e[2] == f[2], "one option, two spellings: one tag"
    # Options are checked before the tag is compared.
    status, _, body = curl(server.http + "/v1/compress?qualty=1", "-H", "If-None-Match: *", data=PHOTO)
    assert status == 400


def test_request_ids_round_trip(pb, server):
    status, headers, _ = curl(server.http + "/v1/probe", "-H", "X-Request-Id: trace-42", data=PHOTO)
    assert status == 200 and headers["x-request-id"] == "trace-42"
    assert wait_for(lambda: any(e.get("span", {}).get("request_id") == "trace-42" and e.get("message") == "answered"
                                for e in server.events()), timeout=10)
    msgs, client = stub(pb, server)
    _, call = client.Probe.with_call(msgs.ProbeRequest(data=PHOTO.read_bytes()), timeout=30,
                                     metadata=[("x-request-id", "grpc-7")])
    assert dict(call.initial_metadata())["x-request-id"] == "grpc-7"
    with pytest.raises(grpc.RpcError) as caught:
        client.Probe(msgs.ProbeRequest(data=b"not an image"), timeout=30, metadata=[("x-request-id", "grpc-8")])
    assert dict(caught.value.trailing_metadata())["x-request-id"] == "grpc-8"


def test_an_output_too_large_for_its_format_is_a_typed_4xx(tmp_path, server):
    import json
    wide = tmp_path / "wide.png"
    Image.new("RGB", (20000, 8), (9, 9, 9)).save(wide)
    status, _, body = curl(server.http + "/v1/compress?format=webp", data=wide)
    assert status == 400, body
    assert json.loads(body)["code"] == "PXP_ERR_INVALID_ARGUMENT" and b"16383" in body
    status, headers, body = curl(server.http + "/v1/compress?format=jpeg", data=wide)
    assert status == 200 and Image.open(io.BytesIO(body)).size == (20000, 8)
    # format=auto passes over the formats that cannot hold it.
    status, headers, body = curl(server.http + "/v1/compress?format=auto", "-H", "Accept: image/webp", data=wide)
    assert status == 200 and Image.open(io.BytesIO(body)).format == "JPEG"


def test_metrics_count_requests_by_route_and_status(server):
    before = server.metric("pixpress_serve_requests_total", protocol="http", route="/v1/probe", status="200")
    assert curl(server.http + "/v1/probe", data=PHOTO)[0] == 200
    after = server.metrics()
    key = ("pixpress_serve_requests_total", (("protocol", "http"), ("route", "/v1/probe"), ("status", "200")))
    assert after[key] == before + 1
    assert any(name == "pixpress_images_total" for name, _ in after)
    assert any(name == "pixpress_serve_request_duration_seconds_bucket" for name, _ in after)
    events = [e for e in server.events() if e.get("message") == "answered"]
    assert events and all("request_id" in e.get("span", e) or "request_id" in str(e) for e in events)


def test_request_size_and_pixel_limits(pb):
    s = Server("--max-request-bytes", "100KB", "--max-pixels", "10000")
    try:
        msgs, client = stub(pb, s)
        import json
        status, _, body = curl(s.http + "/v1/compress?format=webp", data=PHOTO)
        assert PHOTO.stat().st_size > 100_000
        assert status == 413 and json.loads(body)["code"] == "PXP_ERR_LIMIT_EXCEEDED"
        data = PHOTO.read_bytes()
        # One message over the limit, and messages each under it adding up to more.
        chunks = [msgs.CompressRequest(data=data[i:i + 60_000]) for i in range(0, 240_000, 60_000)]
        for call in (lambda: client.Compress(msgs.CompressRequest(data=data), timeout=30),
                     lambda: client.CompressStream(iter([msgs.CompressRequest(data=data)]), timeout=30),
                     lambda: client.CompressStream(iter(chunks), timeout=30)):
            with pytest.raises(grpc.RpcError) as caught:
                call()
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert trailing_code(caught.value) == "PXP_ERR_LIMIT_EXCEEDED"
        small, larger = CORPUS / "jpeg" / "Olympus_C8080WZ.jpg", CORPUS / "jpeg" / "hopper.jpg"
        assert Image.open(small).width * Image.open(small).height <= 10000 < 128 * 128 == Image.open(larger).width * Image.open(larger).height
        assert curl(s.http + "/v1/compress?format=webp", data=small)[0] == 200
        # A request may lower the limit, never raise it.
        status, _, body = curl(s.http + "/v1/compress?format=webp&max_pixels=100000000", data=larger)
        assert status == 413 and json.loads(body)["code"] == "PXP_ERR_LIMIT_EXCEEDED"
        status, _, body = curl(s.http + "/v1/compress?format=webp&max_pixels=1000", data=small)
        assert status == 413 and json.loads(body)["code"] == "PXP_ERR_LIMIT_EXCEEDED"
        assert s.alive()
    finally:
        s.stop()


def sleeping(ms, *args):
    """A server whose every compression sleeps `ms` in its decode stage (a
    failpoint), so slow requests take the same time on any machine."""
    return Server(*args, env={"PIXPRESS_FAILPOINT": f"sleep.decode:{ms}"})


def test_full_queue_is_refused_with_retry_after(pb):
    s = sleeping(3000, "--workers", "1", "--queue", "0")
    try:
        msgs, client = stub(pb, s)
        slow = threading.Thread(target=lambda: curl(s.http + "/v1/compress?format=webp", data=PHOTO))
        slow.start()
        assert wait_for(lambda: s.metric("pixpress_serve_in_flight") == 1)
        status, headers, body = curl(s.http + "/v1/compress?format=webp", data=PHOTO)
        assert status == 503 and headers["retry-after"] == "1"
        assert b"PXP_ERR_OVERLOADED" in body
        assert curl(s.http + "/readyz")[0] == 200, "load alone does not make a replica unready"
        with pytest.raises(grpc.RpcError) as caught:
            client.Compress(msgs.CompressRequest(data=PHOTO.read_bytes()), timeout=30)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert trailing_code(caught.value) == "PXP_ERR_OVERLOADED"
        assert s.metric("pixpress_serve_refused_total") == 2
        slow.join()
    finally:
        s.stop()


def test_deadline_and_client_departure_cancel_the_work(pb):
    s = sleeping(2000, "--deadline", "0.5", "--workers", "1")
    try:
        msgs, client = stub(pb, s)
        status, _, body = curl(s.http + "/v1/compress?format=webp", data=PHOTO)
        assert status == 504 and b"PXP_ERR_CANCELLED" in body
        # The work stops at its next stage and frees its worker.
        assert wait_for(lambda: s.metric("pixpress_serve_cancelled_total") == 1, timeout=60)
        assert wait_for(lambda: s.metric("pixpress_serve_in_flight") == 0)
        # The server's deadline over gRPC: its status and code, before any client deadline.
        with pytest.raises(grpc.RpcError) as caught:
            client.Compress(msgs.CompressRequest(data=PHOTO.read_bytes(), options={"format": "webp"}), timeout=30)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert trailing_code(caught.value) == "PXP_ERR_CANCELLED"
        assert wait_for(lambda: s.metric("pixpress_serve_cancelled_total") == 2, timeout=60)
    finally:
        s.stop()
    s = sleeping(4000, "--workers", "1")
    try:
        msgs, client = stub(pb, s)
        # curl gives up and closes the connection.
        status, _, _ = curl(s.http + "/v1/compress?format=webp", data=PHOTO, timeout=0.5)
        assert status is None
        assert wait_for(lambda: s.metric("pixpress_serve_cancelled_total") == 1, timeout=60)
        assert wait_for(lambda: s.metric("pixpress_serve_in_flight") == 0)
        assert s.metric("pixpress_serve_requests_total", protocol="http", route="/v1/compress", status="499") == 1
        assert any(e.get("message") == "client left" for e in s.events())
        # grpcio's deadline: the server answers at nine tenths of it, with its code.
        with pytest.raises(grpc.RpcError) as caught:
            client.Compress(msgs.CompressRequest(data=PHOTO.read_bytes(), options={"format": "webp"}), timeout=2.0)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert trailing_code(caught.value) == "PXP_ERR_CANCELLED"
        assert wait_for(lambda: s.metric("pixpress_serve_cancelled_total") == 2, timeout=60)
        assert wait_for(lambda: s.metric("pixpress_serve_in_flight") == 0)
        # A fresh request gets the freed worker.
        reply = client.Compress(msgs.CompressRequest(data=PHOTO.read_bytes(), options={"format": "webp"}), timeout=60)
        assert Image.open(io.BytesIO(reply.data)).format == "WEBP"
    finally:
        s.stop()


def test_bearer_tokens_and_signed_urls_with_rotation(pb):
    s = Server("--tokens", "tok-a,tok-b", env={"PIXPRESS_SIGNING_KEYS": "old-key,new-key"})
    try:
        msgs, client = stub(pb, s)
        url = s.http + "/v1/compress?format=webp"
        status, headers, body = curl(url, data=PHOTO)
        assert status == 401 and b"PXP_ERR_UNAUTHENTICATED" in body
        assert curl(url, "-H", "Authorization: Bearer tok-b", data=PHOTO)[0] == 200
        assert curl(url, "-H", "Authorization: Bearer tok-c", data=PHOTO)[0] == 401
        expires = int(time.time()) + 300
        query = f"format=webp&resize=100x&expires={expires}"
        for key in (b"old-key", b"new-key"):
            sig = hmac.new(key, f"POST /v1/compress?{query}".encode(), hashlib.sha256).hexdigest()
            status, _, body = curl(f"{s.http}/v1/compress?{query}&sig={sig}", data=PHOTO)
            assert status == 200 and Image.open(io.BytesIO(body)).width == 100
        tampered = query.replace("100x", "2000x")
        assert curl(f"{s.http}/v1/compress?{tampered}&sig={sig}", data=PHOTO)[0] == 401
        assert curl(f"{s.http}/v1/compress?{query}&sig={sig}&format=png", data=PHOTO)[0] == 401
        assert curl(f"{s.http}/v1/probe?{query}&sig={sig}", data=PHOTO)[0] == 401, "signed for another path"
        past = f"format=webp&expires={int(time.time()) - 1}"
        old = hmac.new(b"new-key", f"POST /v1/compress?{past}".encode(), hashlib.sha256).hexdigest()
        assert curl(f"{s.http}/v1/compress?{past}&sig={old}", data=PHOTO)[0] == 401
        assert curl(url, "-H", "Authorization: bearer tok-a", data=PHOTO)[0] == 200, "the scheme is case-insensitive"
        # Health and metrics stay open for probes.
        assert curl(s.http + "/healthz")[0] == 200 and curl(s.http + "/metrics")[0] == 200
        with pytest.raises(grpc.RpcError) as caught:
            client.Probe(msgs.ProbeRequest(data=PHOTO.read_bytes()), timeout=30)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        reply = client.Probe(msgs.ProbeRequest(data=PHOTO.read_bytes()), timeout=30,
                             metadata=[("authorization", "Bearer tok-a")])
        assert reply.width == Image.open(PHOTO).width
        reply = client.Compress(msgs.CompressRequest(data=PHOTO.read_bytes(), options={"format": "webp"}), timeout=60,
                                metadata=[("authorization", "Bearer tok-b")])
        assert Image.open(io.BytesIO(reply.data)).format == "WEBP"
    finally:
        s.stop()
    # Signed URLs are HTTP's: keys without tokens and gRPC on is refused at start.
    out = subprocess.run([str(BIN), "serve", "--signing-keys", "k", "--http-addr", "127.0.0.1:0",
                          "--grpc-addr", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "signing_keys" in out.stderr


def test_health_and_reflection(pb, server):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    channel = grpc.insecure_channel(server.grpc)
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="pixpress.v1.Pixpress"), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    names = {s.name for a in answers for s in a.list_services_response.service}
    assert {"pixpress.v1.Pixpress", "grpc.health.v1.Health"} <= names


def test_sigterm_under_load_loses_no_accepted_request(pb, tmp_path):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    s = sleeping(1500, "--workers", "2", "--shutdown-delay", "5", "--drain-timeout", "120")
    results = []
    try:
        health = health_pb2_grpc.HealthStub(grpc.insecure_channel(s.grpc))
        check = lambda service: health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status  # noqa: E731
        assert check("") == check("pixpress.v1.Pixpress") == health_pb2.HealthCheckResponse.SERVING

        def one(i):
            results.append(curl(s.http + f"/v1/compress?format=webp&resize={300 + i}x", data=PHOTO))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        assert wait_for(lambda: s.metric("pixpress_serve_in_flight") == 2
                        and s.metric("pixpress_serve_queued") == 4)
        s.proc.send_signal(15)
        assert wait_for(lambda: curl(s.http + "/readyz")[0] == 503, timeout=5)
        for service in ("pixpress.v1.Pixpress", ""):
            assert check(service) == health_pb2.HealthCheckResponse.NOT_SERVING, service
        for t in threads:
            t.join()
        assert s.proc.wait(120) == 0
    finally:
        s.stop()
    assert len(results) == 6
    for i, (status, headers, body) in enumerate(sorted(results, key=lambda r: int(r[1].get("x-pixpress-width", 0)))):
        assert status == 200, body
        assert Image.open(io.BytesIO(body)).width == 300 + i
    assert any(e.get("message") == "drained; exiting" for e in s.events())


def test_config_file_then_environment_then_flags(tmp_path):
    config = tmp_path / "serve.toml"
    config.write_text('max_request_bytes = "10KB"\nworkers = 3\ncache_control = "no-store"\n')
    s = Server("--config", config, env={"PIXPRESS_CACHE_CONTROL": "max-age=60"})
    try:
        status, headers, _ = curl(s.http + "/v1/compress?format=webp", data=PHOTO)
        assert status == 413, "the file's limit applies"
    finally:
        s.stop()
    s = Server("--config", config, "--max-request-bytes", "64MB", env={"PIXPRESS_CACHE_CONTROL": "max-age=60"})
    try:
        status, headers, _ = curl(s.http + "/v1/compress?format=webp", data=PHOTO)
        assert status == 200, "the flag wins over the file"
        assert headers["cache-control"] == "max-age=60", "the environment wins over the file"
    finally:
        s.stop()
    bad = tmp_path / "bad.toml"
    bad.write_text("wrokers = 2\n")
    out = subprocess.run([str(BIN), "serve", "--config", str(bad)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "wrokers" in out.stderr


def test_effort_is_capped_by_the_server():
    s = Server("--max-effort", "2")
    try:
        url = s.http + "/v1/compress?format=webp&resize=400x&effort="
        capped, at_cap, below = (curl(url + e, data=PHOTO) for e in ("10", "2", "1"))
        assert capped[0] == at_cap[0] == below[0] == 200
        assert capped[2] == at_cap[2] and capped[1]["etag"] == at_cap[1]["etag"], "effort 10 is served as 2"
        assert below[1]["etag"] != at_cap[1]["etag"], "a request may ask for less"
    finally:
        s.stop()
