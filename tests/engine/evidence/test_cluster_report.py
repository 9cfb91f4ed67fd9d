"""Cluster report and actual cost of a Databricks run, with the REST API faked at the HTTP boundary."""

from __future__ import annotations

import json

import httpx
import pytest

from sync_provider.engine.evidence.cluster_report import build_cluster_report
from sync_provider.engine.evidence.cost import CostModel, PricingSettings
from sync_provider.engine.evidence.databricks_api import http_api
from sync_provider.engine.evidence.eventlog import LocalReader
from sync_provider.engine.evidence.observe import build_observation
from sync_provider.engine.models import ComputeType, Plan

T0 = 1_700_000_000_000
MIN = 60_000
CLUSTER = "0101-120000-spotloss"


def events() -> list[dict]:
    """4 spot workers; autoscale to 6 at 20 min (up at 21.5); a spot node lost at 40 min; terminated at 60."""

    def ev(t, kind, **details):
        return {"cluster_id": CLUSTER, "timestamp": T0 + t, "type": kind, "details": details}

    return [
        ev(0, "CREATING", cluster_size={"autoscale": {"min_workers": 4, "max_workers": 6}}),
        ev(2 * MIN, "STARTING"),
        ev(5 * MIN, "RUNNING", current_num_workers=4, target_num_workers=4),
        ev(20 * MIN, "RESIZING", current_num_workers=4, target_num_workers=6, reason={"code": "AUTOSCALE"}),
        ev(int(21.5 * MIN), "UPSIZE_COMPLETED", current_num_workers=6, target_num_workers=6),
        ev(
            40 * MIN,
            "NODES_LOST",
            current_num_workers=5,
            target_num_workers=6,
            reason={"code": "SPOT_INSTANCE_TERMINATION"},
        ),  # fmt: skip
        ev(59 * MIN, "TERMINATING", reason={"code": "JOB_FINISHED"}),
        ev(60 * MIN, "TERMINATED", reason={"code": "JOB_FINISHED"}),
    ]


def fake_workspace(
    *, page_size: int = 3, cluster_ok: bool = True, spec_extra: dict | None = None
) -> tuple[httpx.MockTransport, list[dict]]:
    calls: list[dict] = []
    run = {
        "run_id": 77,
        "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
        "start_time": T0,
        "end_time": T0 + 60 * MIN,
        "tasks": [
            {
                "task_key": "etl",
                "run_id": 78,
                "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
                "start_time": T0,
                "end_time": T0 + 60 * MIN,
                "setup_duration": 5 * MIN,
                "execution_duration": 54 * MIN,
                "cluster_instance": {"cluster_id": CLUSTER, "spark_context_id": "5555"},
            }
        ],
    }
    cluster = {
        "cluster_id": CLUSTER,
        "node_type_id": "m5.xlarge",
        "driver_node_type_id": "m5.xlarge",
        "autoscale": {"min_workers": 4, "max_workers": 6},
        "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1, "ebs_volume_count": 1,
                           "ebs_volume_size": 100},
        "runtime_engine": "STANDARD",
        "custom_tags": {"sync:config-version": "3"},
        "start_time": T0,
        "terminated_time": T0 + 60 * MIN,
        **(spec_extra or {}),
    }  # fmt: skip
    if spec_extra:
        run["tasks"][0]["new_cluster"] = {"node_type_id": "m5.xlarge", "num_workers": 4, **spec_extra}
    all_events = events()
    if spec_extra:  # an edit of the cluster: its events carry the old and new spec
        edit = {"cluster_id": CLUSTER, "timestamp": T0 + MIN, "type": "EDITED"}
        all_events.insert(1, {**edit, "details": {"attributes": {**cluster}, "previous_attributes": {**cluster}}})

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else dict(request.url.params)
        calls.append({"path": path, "body": body})
        if path.endswith("jobs/runs/get"):
            return httpx.Response(200, json=run)
        if path.endswith("clusters/get"):
            return httpx.Response(200, json=cluster) if cluster_ok else httpx.Response(404, json={"error": "gone"})
        if path.endswith("clusters/events"):
            offset = int(body.get("offset", 0))
            page = all_events[offset : offset + page_size]
            out: dict = {"events": page, "total_count": len(all_events)}
            if offset + page_size < len(all_events):
                out["next_page"] = {"cluster_id": CLUSTER, "offset": offset + page_size, "limit": page_size}
            return httpx.Response(200, json=out)
        return httpx.Response(404, json={"error": path})

    return httpx.MockTransport(handler), calls


def api_for(transport: httpx.MockTransport):
    return http_api("https://dbc.example", "token", client=httpx.Client(transport=transport))


def test_report_follows_every_event_page_and_derives_the_timeline():
    transport, calls = fake_workspace(page_size=3)
    report = build_cluster_report(api_for(transport), 77, task_key="etl")
    assert [c["path"] for c in calls].count("/api/2.0/clusters/events") == 3
    assert len(report.events) == 8
    assert report.cluster_id == CLUSTER and report.spark_context_id == "5555"
    assert report.spot and report.first_on_demand == 1 and report.ebs_gb_per_node == 100
    assert report.spot_lost_nodes == 1
    assert [(s.time_ms - T0, s.workers) for s in report.workers_timeline] == [
        (0, 4), (int(21.5 * MIN), 6), (40 * MIN, 5), (59 * MIN, 0)
    ]  # fmt: skip
    assert report.runtime_s == 54 * 60 and report.succeeded
    assert report.config_version == 3
    assert any("collector" in m for m in report.missing)


def test_credentials_in_the_jobs_spec_are_masked_in_the_report():
    """A job defined in Databricks comes back as it is: a literal credential in its spec must not reach the store
    or the CLI through the report's raw replies."""
    extra = {
        "spark_env_vars": {"DB_PASS": "hunter2", "REGION": "eu-west-1"},
        "spark_conf": {"spark.hadoop.javax.jdo.option.ConnectionURL": "jdbc:mysql://h/db?user=u&password=hunter3"},
    }
    transport, _ = fake_workspace(spec_extra=extra)
    report = build_cluster_report(api_for(transport), 77, task_key="etl")
    dumped = report.model_dump_json()
    assert "hunter2" not in dumped and "hunter3" not in dumped
    assert report.cluster["spark_env_vars"] == {"DB_PASS": "***", "REGION": "eu-west-1"}
    assert report.run["tasks"][0]["new_cluster"]["spark_env_vars"]["DB_PASS"] == "***"
    assert report.events[1]["details"]["previous_attributes"]["spark_env_vars"]["DB_PASS"] == "***"
    # What the report derives from the spec is unchanged.
    assert report.node_type_id == "m5.xlarge" and report.spot and report.runtime_s == 54 * 60


def test_actual_cost_matches_hand_computation():
    """Hand computation (premium jobs: $0.15/DBU; m5.xlarge $0.192/h, 0.69 DBU/h; spot 65% off; EBS $0.08/GB-month):

    driver: 60 min on demand = 1.0 node-hour
    workers (all spot, first_on_demand=1 is the driver): 4 x 21.5 min + 6 x 18.5 min + 5 x 19 min (0 after
    TERMINATING at 59 min) = 86 + 111 + 95 = 292 worker-minutes = 4.8667 node-hours
    cloud = 0.192 x 1.0 + 0.192 x 0.35 x 4.8667 = 0.192 + 0.32704 = 0.51904
    DBU   = 0.69 x 0.15 x (1.0 + 4.8667) = 0.1035 x 5.8667 = 0.60720
    EBS   = 100 GB x 0.08 / 720 h x 5.8667 node-hours = 0.065185
    """
    transport, _ = fake_workspace()
    report = build_cluster_report(api_for(transport), 77)
    model = CostModel(pricing=PricingSettings(plan=Plan.PREMIUM, compute_type=ComputeType.JOBS))
    cost = model.actual(report)
    assert cost.cloud_usd == pytest.approx(0.51904, abs=1e-5)
    assert cost.dbu_usd == pytest.approx(0.60720, abs=1e-5)
    assert cost.ebs_usd == pytest.approx(0.065185, abs=1e-5)


def test_photon_multiplies_dbus_of_every_node():
    transport, _ = fake_workspace()
    report = build_cluster_report(api_for(transport), 77)
    plain = CostModel().actual(report)
    report.photon = True
    photon = CostModel().actual(report)
    assert photon.cloud_usd == pytest.approx(plain.cloud_usd)
    assert photon.dbu_usd == pytest.approx(plain.dbu_usd * 2.9)


def test_collector_node_records_bill_each_node_for_its_own_life(tmp_path):
    base = tmp_path / "logs" / CLUSTER / "sync_data"
    base.mkdir(parents=True)
    t = T0 // 1000
    nodes = [
        ("i-driver", True, "on-demand", t, t + 3600),
        ("i-w1", False, "spot", t + 60, t + 3600),
        ("i-w2", False, "spot", t + 60, t + 1800),  # reclaimed at 30 min
        ("i-w3", False, "on-demand", t + 1900, t + 3600),  # fallback replacement
    ]
    for iid, drv, life, start, stop in nodes:
        doc = {"collector_version": 1, "cluster_id": CLUSTER, "instance_id": iid, "instance_type": "m5.xlarge",
               "lifecycle": life, "is_driver": drv, "start_time": start, "last_seen": stop, "stop_time": stop,
               "spot_interruption_time": None}  # fmt: skip
        (base / f"{iid}.json").write_text(json.dumps(doc))
    transport, _ = fake_workspace()
    report = build_cluster_report(api_for(transport), 77, reader=LocalReader(), log_destination=str(tmp_path / "logs"))
    assert [n.instance_id for n in report.instances][0] == "i-driver"
    assert not any("collector" in m for m in report.missing)
    model = CostModel()
    cost = model.actual(report)
    od_hours = 1.0 + (3600 - 1900) / 3600
    spot_hours = (3600 - 60) / 3600 + (1800 - 60) / 3600
    assert cost.cloud_usd == pytest.approx(0.192 * od_hours + 0.192 * 0.35 * spot_hours)
    assert cost.dbu_usd == pytest.approx(0.69 * 0.15 * (od_hours + spot_hours))


def test_missing_cluster_is_tolerated_and_listed():
    transport, _ = fake_workspace(cluster_ok=False)
    report = build_cluster_report(api_for(transport), 77)
    assert any(m.startswith("clusters/get") for m in report.missing)
    assert report.node_type_id is None
    with pytest.raises(ValueError, match="node type"):
        CostModel().actual(report)


def test_observation_carries_config_cost_and_version():
    transport, _ = fake_workspace()
    report = build_cluster_report(api_for(transport), 77)
    obs = build_observation(report, None, CostModel())
    assert obs.config.instance_type == "m5.xlarge" and obs.config.num_workers == 6 and obs.config.spot
    assert obs.runtime_s == 54 * 60 and obs.succeeded and obs.config_version == 3
    assert obs.cost is not None and obs.cost.total_usd > 0
    assert obs.run_id == "77"


def test_observation_measures_the_input_the_job_reads_once():
    from sync_provider.engine.evidence.profile import JobProfile, Profile, StageProfile

    transport, _ = fake_workspace()
    report = build_cluster_report(api_for(transport), 77)
    # A loop whose later passes re-read part of their cached input: 300 bytes read, 200 of data.
    stages = [StageProfile(stage_id=0, name="load", input_bytes=100)] + [
        StageProfile(stage_id=i, name="pass", input_bytes=100 if i == 1 else 50) for i in (1, 2, 3)
    ]
    jobs = [JobProfile(job_id=i, stage_ids=[i]) for i in range(4)]
    profile = Profile(stages=stages, jobs=jobs, input_bytes=300)
    assert build_observation(report, profile, CostModel()).input_bytes == 200
