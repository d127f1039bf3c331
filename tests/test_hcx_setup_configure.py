"""The "configure" set-up steps (network profiles, compute profile, service mesh, network extension)
against the HCX simulator started at 600x, so that HCX's 20-minute mesh is seconds of real waiting.

Each step is run as the job runs it (`run_step` on a Context), after the connect steps were
recorded done: the simulator's "paired" preset is an activated, registered and paired Connector
(with profiles of its own, np-* and cp-onprem, which the steps must leave alone). Every test runs
against both shapes of HCX the simulator plays (hcx_version 4.x and 9.x: EDGE meshes, another network
extension appliance type, and an automatic default mesh the steps must leave alone)."""

import pytest

from core.choices import EventLevel, JobStatus
from core.jobs import JobCancelled, JobError, check_cancelled
from core.models import Job, JobEvent
from hcx.choices import ProfileKind, SetupStepKey, StepState
from hcx.client import bodies
from hcx.models import HcxSetupStep
from hcx.setup.runner import Context, record, run_step, start_setup
from tests.hcx_setup import EXTENDED, make_setup_plan
from tests.peers.worker import wait_for

pytestmark = pytest.mark.django_db

CONNECT = (SetupStepKey.AVS, SetupStepKey.ACTIVATE, SetupStepKey.REGISTER, SetupStepKey.PAIR)
CONFIGURE = (
    SetupStepKey.NETWORK_PROFILES,
    SetupStepKey.COMPUTE_PROFILE,
    SetupStepKey.SERVICE_MESH,
    SetupStepKey.EXTEND,
)
PROFILE_NAMES = ["amsterdam-management", "amsterdam-replication", "amsterdam-uplink", "amsterdam-vmotion"]
TEN_NETWORKS = {f"App-VLAN{100 + i}": f"10.10.{100 + i}.1/24" for i in range(1, 11)}


NE_TYPES = {"4.x": "HCX-NET-EXT", "9.x": "HCX-NET-EXT-EDGE"}
IX_TYPES = {"4.x": "HCX-WAN-IX", "9.x": "HCX-WAN-IX-EDGE"}


@pytest.fixture(params=["4.x", "9.x"])
def version(request):
    return request.param


@pytest.fixture
def sim(hcxsim_fast, version):
    hcxsim_fast.control.reset("paired", {"hcx_version": version})
    return hcxsim_fast


def meshes(state) -> list[dict]:
    """The meshes the set-up made: not HCX 9.x's automatic default-service-mesh-*."""
    return [m for m in state["serviceMeshes"] if not m["name"].startswith("default-service-mesh-")]


def local_appliances(state) -> list[dict]:
    return [a for a in state["appliances"] if a["endpointId"] == state["localEndpointId"]]


def paired_plan(sim, **kwargs):
    """A plan whose connect steps are done, as the "paired" preset has them in HCX."""
    plan = make_setup_plan(sim, **kwargs)
    for key in CONNECT:
        record(plan, key, StepState.DONE)
    return plan


def a_job(plan) -> Job:
    job = Job.objects.create(kind="hcx.setup", name=f"HCX set-up of {plan}")
    job.check_cancelled = lambda: check_cancelled(job)  # as core.jobs.run gives it to a handler
    return job


def run(plan, key, job=None):
    ctx = Context(plan, job)
    try:
        return run_step(ctx, key)
    finally:
        ctx.close()


def run_through(plan, last, job=None):
    for key in CONFIGURE[: CONFIGURE.index(last) + 1]:
        outcome = run(plan, key, job)
    return outcome


def fails(plan, key, job=None) -> HcxSetupStep:
    with pytest.raises(JobError):
        run(plan, key, job)
    return HcxSetupStep.objects.get(plan=plan, step=key)


def row(plan, key) -> HcxSetupStep:
    return HcxSetupStep.objects.get(plan=plan, step=key)


def ours(items: list[dict]) -> dict[str, dict]:
    return {item["name"]: item for item in items if item["name"].startswith("amsterdam-")}


def logged(job, level=None) -> list[str]:
    events = JobEvent.objects.filter(job=job)
    return list((events.filter(level=level) if level else events).values_list("message", flat=True))


def hcx_work(state) -> int:
    """How many asynchronous operations HCX was ever asked to start."""
    return len(state["jobs"]) + len(state["tasks"])


# --- network profiles --------------------------------------------------------------------------


def test_it_creates_one_realized_network_profile_per_plan_profile(sim):
    plan = paired_plan(sim)

    run(plan, SetupStepKey.NETWORK_PROFILES)

    created = ours(sim.control.state()["networkProfiles"])
    assert sorted(created) == PROFILE_NAMES
    management = created["amsterdam-management"]
    assert management["backings"][0]["backingId"] == "dvportgroup-31"
    assert management["ipScopes"] == [
        {
            "networkIpRanges": [{"startAddress": "192.168.10.20", "endAddress": "192.168.10.29"}],
            "gateway": "192.168.10.1",
            "prefixLength": 24,
            "primaryDns": "192.168.1.53",
        }
    ]
    assert {name: p["recommendationTags"] for name, p in created.items()} == {
        f"amsterdam-{kind}": [kind] for kind in ProfileKind.values
    }
    assert created["amsterdam-vmotion"]["backings"][0]["backingName"] == "vMotion-VLAN20"
    assert {p["status"]["state"] for p in created.values()} == {"REALIZED"}
    step = row(plan, SetupStepKey.NETWORK_PROFILES)
    assert step.state == StepState.DONE
    assert "amsterdam-management (Mgmt-VLAN10) REALIZED" in step.summary
    assert step.data["profiles"]["uplink"]["objectId"] == created["amsterdam-uplink"]["objectId"]


def test_a_port_group_hcx_does_not_know_stops_before_anything_is_created(sim):
    plan = paired_plan(sim)
    plan.profiles.filter(kind=ProfileKind.UPLINK).update(port_group="Uplink-VLAN99")

    step = fails(plan, SetupStepKey.NETWORK_PROFILES)

    assert step.state == StepState.FAILED
    assert "HCX does not know the port group(s) 'Uplink-VLAN99' (Uplink profile)" in step.message
    assert "It knows: App-VLAN101" in step.message and "Uplink-VLAN30" in step.message
    assert ours(sim.control.state()["networkProfiles"]) == {}


def test_a_profile_that_differs_from_the_plan_is_reported_not_replaced(sim):
    plan = paired_plan(sim)
    run(plan, SetupStepKey.NETWORK_PROFILES)
    before = ours(sim.control.state()["networkProfiles"])["amsterdam-vmotion"]
    plan.profiles.filter(kind=ProfileKind.VMOTION).update(mtu=9000)
    job = a_job(plan)

    run(plan, SetupStepKey.NETWORK_PROFILES, job)

    assert ours(sim.control.state()["networkProfiles"])["amsterdam-vmotion"] == before
    step = row(plan, SetupStepKey.NETWORK_PROFILES)
    assert step.state == StepState.DONE and "1 differs from the plan: amsterdam-vmotion" in step.summary
    [warning] = logged(job, EventLevel.WARNING)
    assert "amsterdam-vmotion in HCX differs from the plan: MTU 1500 in HCX, 9000 in the plan" in warning


def test_a_profile_create_answered_5xx_is_made_once(sim):
    plan = paired_plan(sim)
    sim.control.fault("error", path="/admin/hybridity/api/networks$", method="POST", status=503, times=1)

    run(plan, SetupStepKey.NETWORK_PROFILES)

    names = [p["name"] for p in sim.control.state()["networkProfiles"]]
    assert sorted(n for n in names if n.startswith("amsterdam-")) == PROFILE_NAMES


# --- compute profile ---------------------------------------------------------------------------


@pytest.mark.parametrize("wan_opt", [False, True])
def test_the_compute_profile_uses_the_plans_profiles_and_the_management_cluster(sim, wan_opt):
    plan = paired_plan(sim)
    plan.wan_opt = wan_opt
    plan.save()

    outcome = run_through(plan, SetupStepKey.COMPUTE_PROFILE)

    state = sim.control.state()
    [profile] = ours(state["computeProfiles"]).values()
    services = ["INTERCONNECT", "VMOTION", "BULK_MIGRATION", "RAV", "NETWORK_EXTENSION"]
    assert sorted(s["name"] for s in profile["services"]) == sorted(
        services + (["WANOPT"] if wan_opt else [])
    )
    assert profile["name"] == "amsterdam-compute" and profile["state"] == "VALID"
    assert [c["name"] for c in profile["deploymentContainer"]["compute"]] == ["Cluster-Mgmt"]
    assert [s["name"] for s in profile["deploymentContainer"]["storage"]] == ["vsanDatastore"]
    assert [s["name"] for s in profile["switches"]] == ["DSwitch-Prod"]
    profile_ids = {p["objectId"]: p["name"] for p in ours(state["networkProfiles"]).values()}
    assert sorted((profile_ids[n["id"]], n["tags"]) for n in profile["networks"]) == [
        (f"amsterdam-{kind}", [kind]) for kind in sorted(ProfileKind.values)
    ]
    assert outcome.summary.startswith(
        "Compute profile amsterdam-compute VALID (interconnect task SUCCESS): "
        "cluster Cluster-Mgmt, datastore vsanDatastore"
    )
    assert row(plan, SetupStepKey.COMPUTE_PROFILE).data["computeProfileId"] == profile["computeProfileId"]


def test_without_vmotion_and_replication_profiles_the_management_profile_carries_them(sim):
    plan = paired_plan(sim)
    plan.profiles.filter(kind__in=ProfileKind.MAY_REUSE_MANAGEMENT).delete()

    run_through(plan, SetupStepKey.COMPUTE_PROFILE)

    state = sim.control.state()
    [profile] = ours(state["computeProfiles"]).values()
    names = {p["objectId"]: p["name"] for p in state["networkProfiles"]}
    assert sorted((names[n["id"]], sorted(n["tags"])) for n in profile["networks"]) == [
        ("amsterdam-management", ["management", "replication", "vmotion"]),
        ("amsterdam-uplink", ["uplink"]),
    ]


# --- service mesh --------------------------------------------------------------------------------


def test_the_service_mesh_is_deployed_with_its_appliances_up(sim, version):
    plan = paired_plan(sim)

    outcome = run_through(plan, SetupStepKey.SERVICE_MESH)

    state = sim.control.state()
    [mesh] = meshes(state)
    [local, remote] = mesh["computeProfiles"]
    assert (mesh["name"], mesh["state"]) == ("amsterdam-mesh", "COMMITTED")
    assert mesh["backingApplianceType"] == {"4.x": "PHOTON", "9.x": "EDGE"}[version]
    assert (local["computeProfileName"], remote["computeProfileName"]) == ("amsterdam-compute", "TNT-AVS-CP")
    assert mesh["wanoptConfig"] == {"uplinkMaxBandwidth": plan.bandwidth_mbps}
    assert [p["l2cApplianceCount"] for p in mesh["switchPairCount"]] == [1]
    assert outcome.summary == f"mesh amsterdam-mesh COMMITTED: {IX_TYPES[version]} UP, {NE_TYPES[version]} UP"
    step = row(plan, SetupStepKey.SERVICE_MESH)
    assert step.data["serviceMeshId"] == mesh["serviceMeshId"] and mesh["serviceMeshId"].startswith(
        "servicemesh-"
    )
    assert sorted((a["type"], a["state"]) for a in step.data["appliances"]) == sorted(
        [(NE_TYPES[version], "UP"), (IX_TYPES[version], "UP")]
    )
    assert {a["id"] for a in step.data["appliances"]} == {a["applianceId"] for a in local_appliances(state)}


def test_a_mesh_create_answered_5xx_deploys_one_mesh(sim):
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.COMPUTE_PROFILE)
    sim.control.fault("error", path="/interconnect/serviceMesh$", method="POST", status=504, times=1)

    run(plan, SetupStepKey.SERVICE_MESH)

    assert [(m["name"], m["state"]) for m in meshes(sim.control.state())] == [("amsterdam-mesh", "COMMITTED")]


@pytest.mark.parametrize("failure", ["kept", "removed"])
def test_a_mesh_whose_task_failed_fails_the_step_with_hcx_s_words_and_a_re_run_deploys_it(
    sim, version, failure
):
    sim.control.set_variants(mesh_create_failure=failure)
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.COMPUTE_PROFILE)
    sim.control.fault("job_fail", operation="serviceMesh", message="IX appliance deployment failed")

    step = fails(plan, SetupStepKey.SERVICE_MESH)

    assert step.state == StepState.FAILED
    assert "service mesh amsterdam-mesh failed: IX appliance deployment failed" in step.message
    assert [m["state"] for m in meshes(sim.control.state())] == (["FAILED"] if failure == "kept" else [])

    sim.control.clear_faults()
    job = a_job(plan)
    run(plan, SetupStepKey.SERVICE_MESH, job)

    state = sim.control.state()
    assert [(m["name"], m["state"]) for m in meshes(state)] == [("amsterdam-mesh", "COMMITTED")]
    assert sorted(a["applianceType"] for a in local_appliances(state)) == sorted(
        [NE_TYPES[version], IX_TYPES[version]]
    )
    assert row(plan, SetupStepKey.SERVICE_MESH).state == StepState.DONE
    removed = [
        m
        for m in logged(job, EventLevel.WARNING)
        if "FAILED in HCX (IX appliance deployment failed): removing" in m
    ]
    assert len(removed) == (1 if failure == "kept" else 0)


def test_a_mesh_whose_update_failed_is_a_clear_failure_and_is_left_alone(sim):
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.SERVICE_MESH)
    [mesh] = meshes(sim.control.state())
    sim.control._call(
        "POST",
        f"/service-meshes/{mesh['serviceMeshId']}/fail-update",
        json={"message": "[IXE-I1] Update VM networks failed"},
    )

    extend_step = fails(plan, SetupStepKey.EXTEND)
    mesh_step = fails(plan, SetupStepKey.SERVICE_MESH)

    assert mesh_step.message.startswith(
        "HCX shows service mesh amsterdam-mesh UPDATE_FAILED ([IXE-I1] Update VM "
        "networks failed): an update of it failed. Look at it in HCX"
    )
    assert extend_step.message.startswith(
        "Service mesh amsterdam-mesh is UPDATE_FAILED: run 'Deploy the service mesh'"
    )
    state = sim.control.state()
    assert [(m["serviceMeshId"], m["state"]) for m in meshes(state)] == [
        (mesh["serviceMeshId"], "UPDATE_FAILED")
    ]
    assert state["l2Extensions"] == []


@pytest.mark.parametrize("last_task", ["interconnectTaskId", "absent"])
def test_a_mesh_create_whose_answer_was_lost_is_found_by_name_and_judged_by_what_hcx_shows(sim, last_task):
    sim.control.set_variants(mesh_last_task_id=last_task)
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.COMPUTE_PROFILE)
    sim.control.fault("drop", path="/interconnect/serviceMesh$", method="POST", times=1, after=True)

    if last_task == "absent":
        # Nothing says when HCX will be done: the step says so rather than wait for a state of its own.
        step = fails(plan, SetupStepKey.SERVICE_MESH)
        assert step.message.startswith(
            "HCX is still building service mesh amsterdam-mesh (DEPLOYING) and shows no "
            "task to follow: run this step again later."
        )
        sim.control.advance(1200)

    outcome = run(plan, SetupStepKey.SERVICE_MESH)

    state = sim.control.state()
    [mesh] = meshes(state)
    assert (mesh["name"], mesh["state"]) == ("amsterdam-mesh", "COMMITTED")
    assert outcome.data["serviceMeshId"] == mesh["serviceMeshId"]
    assert [t["type"] for t in state["tasks"]].count("serviceMesh") == 1  # found, never sent twice
    assert mesh["lastTaskDetails"]["status"] == "RUNNING"  # HCX never moves it on: the task said SUCCESS


def test_a_cancel_while_the_mesh_deploys_stops_the_job_and_a_re_run_waits_for_the_same_mesh(sim):
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.COMPUTE_PROFILE)
    job = a_job(plan)
    job.request_cancel()

    with pytest.raises(JobCancelled):
        run(plan, SetupStepKey.SERVICE_MESH, job)

    assert row(plan, SetupStepKey.SERVICE_MESH).state == StepState.FAILED
    [mesh] = meshes(sim.control.state())
    assert mesh["state"] == "DEPLOYING"

    outcome = run(plan, SetupStepKey.SERVICE_MESH)

    assert outcome.data["serviceMeshId"] == mesh["serviceMeshId"]
    assert [m["state"] for m in meshes(sim.control.state())] == ["COMMITTED"]


# --- network extension ------------------------------------------------------------------------------


def test_the_chosen_networks_are_extended_to_the_avs_tier_1(sim):
    plan = paired_plan(sim)

    outcome = run_through(plan, SetupStepKey.EXTEND)

    extensions = sim.control.state()["l2Extensions"]
    assert sorted((e["sourceNetwork"]["networkName"], e["operationStatus"]["state"]) for e in extensions) == [
        ("App-VLAN101", "EXTENDED"),
        ("App-VLAN102", "EXTENDED"),
    ]
    first = next(e for e in extensions if e["sourceNetwork"]["networkName"] == "App-VLAN101")
    assert (first["gateway"], first["netmask"]) == ("10.10.101.1", "255.255.255.0")
    assert first["destinationNetwork"] == {"gatewayId": "TNT-T1"}
    assert outcome.summary == "2 of 2 networks extended: App-VLAN101, App-VLAN102"
    assert outcome.data["extended"]["App-VLAN101"]["stretchId"] == first["stretchId"]


@pytest.mark.parametrize("states", ["IN_PROGRESS/SUCCESS", "none"])
def test_an_extension_is_done_when_its_job_succeeded_whatever_state_hcx_shows(sim, states):
    sim.control.set_variants(l2_extension_states=states)
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.SERVICE_MESH)
    job = a_job(plan)

    outcome = run(plan, SetupStepKey.EXTEND, job)

    assert outcome.summary == "2 of 2 networks extended: App-VLAN101, App-VLAN102"
    extensions = sim.control.state()["l2Extensions"]
    assert sorted(e["sourceNetwork"]["networkName"] for e in extensions) == ["App-VLAN101", "App-VLAN102"]
    assert outcome.data["extended"]["App-VLAN101"]["state"] == (None if states == "none" else "SUCCESS")

    again = run(plan, SetupStepKey.EXTEND)  # found without their jobs: listed and not failed is extended

    assert again.data["extended"] == outcome.data["extended"]
    assert sim.control.state()["l2Extensions"] == extensions


def test_an_extension_under_way_without_its_job_is_left_to_a_later_run(sim):
    plan = paired_plan(sim, extend={"App-VLAN101": "10.10.101.1/24"})
    run_through(plan, SetupStepKey.SERVICE_MESH)
    ctx = Context(plan, None)
    try:  # someone else started it (an earlier run that was cancelled, or a person in HCX's UI)
        source = next(n for n in ctx.hcx.networks() if n["name"] == "App-VLAN101")
        appliance = ctx.hcx.extension_appliances(
            row(plan, SetupStepKey.SERVICE_MESH).data["serviceMeshId"], ctx.hcx.login().endpoint_id
        )[0]
        destination = ctx.hcx.resource_containers(local=False, remote=True)[0]
        ctx.hcx.create_l2_extension(
            bodies.l2_extension(
                network=source,
                appliance_id=appliance["applianceId"],
                destination=destination,
                gateway_id="TNT-T1",
                gateway="10.10.101.1",
                netmask="255.255.255.0",
                vcenter_uuid=ctx.hcx.vcenters()[0]["vcenter_instanceId"],
            )
        )
    finally:
        ctx.close()

    step = fails(plan, SetupStepKey.EXTEND)

    assert step.message.startswith(
        "1 of 1 networks could not be extended: App-VLAN101: HCX is still extending it "
        "(EXTENDING) and this run has no job to follow: run this step again later"
    )
    sim.control.advance(300)
    outcome = run(plan, SetupStepKey.EXTEND)
    assert outcome.summary == "1 of 1 networks extended: App-VLAN101"
    assert len(sim.control.state()["l2Extensions"]) == 1


@pytest.mark.parametrize("peers", ["listed", "hidden"])
def test_the_extensions_go_over_this_site_s_own_extension_appliances(sim, peers):
    sim.control.set_variants(peer_appliances=peers)
    plan = paired_plan(sim)

    outcome = run_through(plan, SetupStepKey.EXTEND)

    state = sim.control.state()
    mine = {a["applianceId"] for a in local_appliances(state)}
    assert {e["sourceAppliance"]["applianceId"] for e in state["l2Extensions"]} <= mine
    assert {e["applianceId"] for e in outcome.data["extended"].values()} <= mine


def test_the_tier_1_gateway_set_in_the_settings_is_the_one_asked_for(sim, settings):
    settings.HCX_SETUP = {**settings.HCX_SETUP, "EXTENSION_T1": "TNT99-T1"}
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.SERVICE_MESH)

    step = fails(plan, SetupStepKey.EXTEND)

    assert (
        "App-VLAN101: HCX refused — HCX said: «Network extension: destination gateway 'TNT99-T1' not found"
        in step.message
    )
    assert step.data["gatewayId"] == "TNT99-T1" and sim.control.state()["l2Extensions"] == []


def test_every_step_run_again_is_done_and_creates_nothing_twice(sim):
    plan = paired_plan(sim)
    run_through(plan, SetupStepKey.EXTEND)
    before = sim.control.state()
    first = {key: row(plan, key).data for key in CONFIGURE}

    for key in CONFIGURE:
        run(plan, key)

    after = sim.control.state()
    assert {key: row(plan, key).state for key in CONFIGURE} == {key: StepState.DONE for key in CONFIGURE}
    assert {key: row(plan, key).data for key in CONFIGURE} == first
    for collection in ("networkProfiles", "computeProfiles", "serviceMeshes", "appliances", "l2Extensions"):
        assert after[collection] == before[collection], collection
    assert hcx_work(after) == hcx_work(before)


def test_ten_networks_get_two_extension_appliances_filled_eight_then_two(sim, version):
    plan = paired_plan(sim, extend=TEN_NETWORKS)

    outcome = run_through(plan, SetupStepKey.EXTEND)

    state = sim.control.state()
    [mesh] = meshes(state)
    assert [p["l2cApplianceCount"] for p in mesh["switchPairCount"]] == [2]
    extenders = sorted(
        (a["applianceName"], a["networkExtensionCount"])
        for a in local_appliances(state)
        if a["applianceType"] == NE_TYPES[version]
    )
    assert [count for _, count in extenders] == [8, 2]
    assert {e["operationStatus"]["state"] for e in state["l2Extensions"]} == {"EXTENDED"}
    assert outcome.summary.startswith("10 of 10 networks extended: App-VLAN101, App-VLAN102")


def test_a_standard_switch_network_fails_alone_and_a_re_run_retries_only_it(sim):
    plan = paired_plan(sim, extend={**EXTENDED, "VM Network": "192.168.1.1/24"})
    run_through(plan, SetupStepKey.SERVICE_MESH)

    step = fails(plan, SetupStepKey.EXTEND)

    assert step.state == StepState.FAILED
    assert step.message.startswith(
        "1 of 3 networks could not be extended: VM Network: HCX refused — HCX said: "
        "«Network extension: network 'VM Network' is on a vSphere Standard Switch"
    )
    assert step.summary == "2 of 3 networks extended: App-VLAN101, App-VLAN102"
    assert sorted(step.data["extended"]) == ["App-VLAN101", "App-VLAN102"] and list(step.data["failed"]) == [
        "VM Network"
    ]
    extended = sim.control.state()["l2Extensions"]
    assert sorted(e["sourceNetwork"]["networkName"] for e in extended) == ["App-VLAN101", "App-VLAN102"]

    again = fails(plan, SetupStepKey.EXTEND)

    assert list(again.data["failed"]) == ["VM Network"]
    state = sim.control.state()
    assert state["l2Extensions"] == extended
    assert len([j for j in state["jobs"] if j["jobType"] == "l2Extension"]) == 2


def test_a_network_without_a_gateway_stops_the_extension_with_where_to_fill_it_in(sim):
    plan = paired_plan(sim)
    plan.extension_gateways = {"App-VLAN101": "10.10.101.1/24"}
    plan.save()
    record(plan, SetupStepKey.SERVICE_MESH, StepState.DONE)

    step = fails(plan, SetupStepKey.EXTEND)

    assert step.message.startswith(
        "The plan gives no gateway for App-VLAN102: fill in each network's gateway/prefix "
        "under 'gateways of the extended networks' on the plan"
    )
    assert "Nothing was extended" in step.message
    assert sim.control.state()["l2Extensions"] == []


# --- through the job, in a real worker ------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_four_steps_to_an_extended_network(celery_worker, sim, engineer):
    plan = paired_plan(sim)

    job = start_setup(engineer, plan, [k.value for k in CONFIGURE])

    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status__in=JobStatus.TERMINAL).first(),
        timeout=120,
        message="the set-up job to finish",
    )
    assert job.status == JobStatus.COMPLETED, (job.error, logged(job))
    assert {r.step: r.state for r in HcxSetupStep.objects.filter(plan=plan, step__in=CONFIGURE)} == {
        key: StepState.DONE for key in CONFIGURE
    }
    state = sim.control.state()
    assert [(m["name"], m["state"]) for m in meshes(state)] == [("amsterdam-mesh", "COMMITTED")]
    assert sorted(
        (e["sourceNetwork"]["networkName"], e["operationStatus"]["state"]) for e in state["l2Extensions"]
    ) == [("App-VLAN101", "EXTENDED"), ("App-VLAN102", "EXTENDED")]
    assert job.data["steps"][SetupStepKey.EXTEND] == "2 of 2 networks extended: App-VLAN101, App-VLAN102"
