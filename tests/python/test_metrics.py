"""Live metrics from Python, judged by the Prometheus project's own text
parser (prometheus_client): the exposition parses, and it and `stats()` count
exactly the calls made, including calls from several threads at once."""
import threading

from prometheus_client.parser import text_string_to_metric_families

import pixpress
from test_judged import CORPUS

PNG = (CORPUS / "png" / "L_16.png").read_bytes()


def scrape() -> dict:
    """Every sample of the exposition: (name, sorted label pairs) -> value."""
    samples = {}
    families = list(text_string_to_metric_families(pixpress.metrics_prometheus()))
    assert {f.name for f in families} >= {
        "pixpress_images",
        "pixpress_input_bytes",
        "pixpress_output_bytes",
        "pixpress_errors",
        "pixpress_operations_in_flight",
        "pixpress_stage_duration_seconds",
    }
    kinds = {f.name: f.type for f in families}
    assert kinds["pixpress_images"] == "counter"
    assert kinds["pixpress_stage_duration_seconds"] == "histogram"
    assert kinds["pixpress_operations_in_flight"] == "gauge"
    for family in families:
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_prometheus_text_parses_and_counts_calls_from_threads():
    before, stats_before = scrape(), pixpress.stats()
    sizes = []

    def work():
        for _ in range(3):
            sizes.append(len(pixpress.compress(PNG, format="webp", quality=70)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for bad in (b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40):
        try:
            pixpress.compress(bad, format="webp")
        except pixpress.PixpressError:
            pass
        else:
            raise AssertionError("bad input accepted")
    after, stats_after = scrape(), pixpress.stats()

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert delta("pixpress_images_total") == 12
    assert delta("pixpress_input_bytes_total") == 12 * len(PNG)
    assert delta("pixpress_output_bytes_total") == sum(sizes)
    assert sum(delta("pixpress_errors_total", kind=k) for k in stats_after["errors"]) == 2
    assert delta("pixpress_errors_total", kind="PXP_ERR_UNSUPPORTED_FORMAT") == 1
    assert delta("pixpress_stage_duration_seconds_count", stage="decode") == 12
    assert after[("pixpress_operations_in_flight", ())] == 0
    # The snapshot dict agrees with the text.
    assert stats_after["images"] - stats_before["images"] == 12
    assert stats_after["stages"]["encode"]["count"] == after[
        ("pixpress_stage_duration_seconds_count", (("stage", "encode"),))
    ]
    assert after[("pixpress_stage_duration_seconds_bucket", (("le", "+Inf"), ("stage", "encode")))] == (
        stats_after["stages"]["encode"]["count"]
    )


def test_memory_budget_admits_calls_one_at_a_time_from_threads():
    """Under a budget with room for one call, 4 threads' calls all finish and
    never more than one call's estimate is admitted at once."""
    big = bytes(pixpress.compress(PNG, format="jpeg", resize="1600x1600", fit="exact", enlarge="true"))
    try:
        pixpress.set_memory_budget(1600 * 1600 * 3 * 3)  # one estimate (2.5x decoded + input) fits, two do not
        threads = [threading.Thread(target=lambda: pixpress.compress(big, format="webp")) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s = pixpress.stats()
        assert s["memory_budget"] == 1600 * 1600 * 3 * 3
        assert s["memory_admitted"] == 0
        assert 1600 * 1600 * 3 * 2.5 <= s["memory_admitted_peak"] <= s["memory_budget"]
    finally:
        pixpress.set_memory_budget(None)
    assert pixpress.stats()["memory_budget"] is None


def test_cli_memory_budget(tmp_path):
    """`--memory-budget` takes sizes with units; a budget smaller than any file still gets every file done."""
    from test_judged import run_cli

    files = [CORPUS / "jpeg" / "jolla.jpg", CORPUS / "png" / "L_16.png"]
    proc = run_cli("compress", *files, "-o", tmp_path, "-f", "webp", "-j", "2", "--memory-budget", "1KB", "--json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["L_16.webp", "jolla.webp"]
    bad = run_cli("compress", *files, "-o", tmp_path, "--memory-budget", "12XB")
    assert bad.returncode == 2 and "unknown unit" in bad.stderr


def test_buffer_pools_reuse_decoded_pixels_count_it_and_free_when_idle():
    """The second compression of the same photo takes its pixel buffer from the
    pool (a hit), the text and the dict agree, idle buffers are freed within a
    few seconds, and a limit of 0 turns pooling off."""
    import time

    jpeg = (CORPUS / "jpeg" / "jolla.jpg").read_bytes()
    assert pixpress.stats()["pool"]["limit_bytes"] == 0  # off by default
    pixpress.set_buffer_pool_limit(64 << 20)
    pixpress.compress(jpeg, format="jpeg", quality=80)
    before = pixpress.stats()["pool"]
    pixpress.compress(jpeg, format="jpeg", quality=80)
    after = pixpress.stats()["pool"]
    assert after["hits"] > before["hits"]
    assert after["held_bytes"] > 0
    assert after["limit_bytes"] == 64 << 20
    text = scrape()
    assert text[("pixpress_pool_hits_total", ())] == pixpress.stats()["pool"]["hits"]
    assert text[("pixpress_pool_held_bytes", ())] == pixpress.stats()["pool"]["held_bytes"]
    deadline = time.monotonic() + 10
    while pixpress.stats()["pool"]["held_bytes"] and time.monotonic() < deadline:
        time.sleep(0.25)
    idle = pixpress.stats()["pool"]
    assert idle["held_bytes"] == 0 and idle["idle_releases"] > after["idle_releases"]
    try:
        pixpress.set_buffer_pool_limit(0)
        pixpress.compress(jpeg, format="jpeg", quality=80)
        off = pixpress.stats()["pool"]
        assert (off["hits"], off["misses"], off["held_bytes"], off["limit_bytes"]) == (
            idle["hits"], idle["misses"], 0, 0)
    finally:
        pixpress.set_buffer_pool_limit(0)
