"""/metrics: Prometheus text with the queue, callbacks, dispatch lag, streams and request latency;
loopback only without METRICS_TOKEN, the bearer token when it is set."""
from prometheus_client.parser import text_string_to_metric_families

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def samples(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_the_line_and_time_the_requests(app, clock):
    client = app.test_client()
    booked = client.post("/api/callbacks", json={"phone": "+12125550100", "skill": "billing", "channel": "api"})
    assert booked.status_code == 201, booked.get_json()
    clock.advance(90)
    got = samples(client.get("/metrics", environ_base=LOCAL))
    assert got[("ivr_queue_waiting", (("skill", "billing"),))] == 1
    assert got[("ivr_queue_oldest_wait_seconds", (("skill", "billing"),))] == 90
    assert got[("ivr_callbacks", (("state", "queued"),))] == 1
    assert got[("ivr_dispatch_lag_seconds", ())] == 0  # queued, not overdue: nothing was promised for a time
    assert got[("ivr_media_streams_active", ())] == 0
    key = ("ivr_http_request_seconds_count", (("method", "POST"), ("route", "/api/callbacks")))
    assert got[key] == 1
    assert "+12125550100" not in client.get("/metrics", environ_base=LOCAL).get_data(as_text=True)


def test_metrics_are_refused_to_the_public(app, monkeypatch):
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-scrape")
    assert client.get("/metrics", environ_base=LOCAL).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answered = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"},
                          environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answered.status_code == 200
