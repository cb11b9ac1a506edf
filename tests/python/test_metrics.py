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
