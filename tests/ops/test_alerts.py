"""ops/alerts.yml, the documented Prometheus rules: the four alerts operators need
(callbacks overdue, waiting with no staffed agent, Twilio errors, no scheduler leader) are there, every metric a
rule names is one /metrics exports, and the figures behind "a skill with waiting entries and no staffed
agent" follow what happens: a callback booked through the API with nobody signed in, then an agent
signed in through `ivr agents`."""
import re
from pathlib import Path

import yaml

from prometheus_client.parser import text_string_to_metric_families

from tests.ops.test_metrics import LOCAL, samples

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}

RULES = Path(__file__).resolve().parents[2] / "ops" / "alerts.yml"


def rules() -> dict:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


def test_the_issue_s_alerts_are_ruled_on_exported_metrics(app):
    client = app.test_client()
    assert client.post("/api/callbacks", json={"phone": "+12125550100", "skill": "billing"}).status_code == 201
    text = client.get("/metrics", environ_base=LOCAL).get_data(as_text=True)
    # By family, with the sample names its type gives: a counter not yet incremented has no sample.
    exported = {f.name + suffix for f in text_string_to_metric_families(text) for suffix in SUFFIXES[f.type]}
    ruled = rules()
    assert {"CallbacksOverdue", "WaitingWithNoStaffedAgent", "TwilioErrors", "NoSchedulerLeader"} <= set(ruled)
    for name, rule in ruled.items():
        named = set(re.findall(r"\bivr_[a-z_]+", rule["expr"]))
        assert named, name
        missing = named - exported
        assert missing == set(), f"{name} names metrics /metrics does not export: {missing}"


def test_waiting_with_nobody_staffed_then_an_agent_signs_in(app):
    client = app.test_client()
    assert client.post("/api/callbacks", json={"phone": "+12125550100", "skill": "billing"}).status_code == 201
    got = samples(client.get("/metrics", environ_base=LOCAL))
    billing = (("skill", "billing"),)
    assert got[("ivr_queue_waiting", billing)] == 1
    assert got[("ivr_skill_open", billing)] == 1  # Tuesday 10:00 in New York
    assert got[("ivr_agents_staffed", billing)] == 0  # the alert's three conditions hold
    assert got[("ivr_agents_staffed", (("skill", "sales"),))] == 0  # every configured skill has its series
    assert got[("ivr_scheduler_leader", ())] == 0  # no scheduler runs in this test

    cli = app.test_cli_runner()
    added = cli.invoke(args=["agents", "add", "Ann", "--address", "+14155550100", "--skills", "billing"])
    assert added.exit_code == 0, added.output
    assert got_staffed(client) == 0  # added, still offline
    assert cli.invoke(args=["agents", "set-state", "Ann", "available"]).exit_code == 0
    assert got_staffed(client) == 1


def got_staffed(client) -> float:
    return samples(client.get("/metrics", environ_base=LOCAL))[("ivr_agents_staffed", (("skill", "billing"),))]
