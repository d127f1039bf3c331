"""The whole HCX set-up checklist and the launch journey against every shape real HCX may answer in.

No public source settles some of what real HCX answers (docs/hcx-wire.md, "unconfirmed"); the simulator
can answer each question in every plausible shape (hcx/simulator/variants.py). The tests of each area
switch one variant at a time; here every variant is switched at once, in profiles that between them
give every value of every variant, and an engineer walks the two journeys a real site needs:

- the set-up checklist from a fresh Connector to extended networks (every step after the OVA
  deployment, which tests/test_hcx_deploy*.py cover against the vCenter simulator), trusting the
  certificates HCX asks about as an engineer does on the set-up page;
- the launch journey: launch a wave, switch one VM over now, move another's window, cancel a third
  and retry it, let all complete, then roll one back.
"""

import pytest

from core.jobs import JobError
from core.models import Job
from hcx.choices import SetupStepKey, StepState
from hcx.models import HcxConnection, HcxPlan, HcxSetupStep
from hcx.setup.checklist import CertificatePrompt
from hcx.setup.runner import ORDER, Context, run_step
from hcx.simulator.variants import VARIANTS
from migrations_app.choices import MigrationDirection, MigrationState
from migrations_app.launch import controls
from migrations_app.launch.dispatch import dispatch
from migrations_app.launch.reconcile import forget_clients, reconcile_site
from migrations_app.models import VmMigration
from tests.hcx_setup import make_setup_plan
from tests.launch_helpers import make_launch_setup, walk_launch_journey

S = MigrationState
STEPS = [key for key in ORDER if key != SetupStepKey.DEPLOY]


def _profiles() -> dict[str, dict]:
    """Between them, every value of every variant: the defaults, every second value, and every last
    value (the third where there is one) on the other HCX version than the second profile's."""
    second = {name: v.values[1] for name, v in VARIANTS.items()}
    last = {name: v.values[-1] for name, v in VARIANTS.items() if len(v.values) > 2}
    return {"defaults": {}, "second values": second, "last values": {**second, **last, "hcx_version": "4.x"}}


PROFILES = _profiles()


def test_the_profiles_give_every_value_of_every_variant():
    seen = {(name, value) for profile in PROFILES.values() for name, value in profile.items()}
    seen |= {(name, v.default) for name, v in VARIANTS.items()}
    assert seen == {(name, value) for name, v in VARIANTS.items() for value in v.values}


def walk_checklist(plan: HcxPlan) -> dict[str, HcxSetupStep]:
    """Run every step in order, as 'Run all remaining steps' does; where a step stops for a certificate,
    trust what the page shows (the step's own record of HCX's prompt) and run it again."""
    for key in STEPS:
        for _ in range(3):  # vCenter's certificate, then the lookup service's, then done
            ctx = Context(
                HcxPlan.objects.select_related("connection", "vcenter").get(pk=plan.pk),
                Job.objects.create(kind="hcx.setup", name=key),
            )
            try:
                run_step(ctx, key)
                break
            except JobError:
                row = HcxSetupStep.objects.get(plan=plan, step=key)
                prompt = CertificatePrompt.from_step(row)
                assert row.state == StepState.NEEDS_INPUT and prompt is not None, (
                    key,
                    row.state,
                    row.message,
                )
                trust(plan, row, prompt)
            finally:
                ctx.close()
    return {row.step: row for row in HcxSetupStep.objects.filter(plan=plan)}


def trust(plan: HcxPlan, row: HcxSetupStep, prompt: CertificatePrompt):
    """What the page's 'Trust this certificate' stores (hcx/setup/actions.do_trust_certificate)."""
    if prompt.for_pairing:
        HcxConnection.objects.filter(plan=plan).update(trusted_cloud_certificate=prompt.certificate)
    else:
        row.data = {
            **row.data,
            "trusted_certificates": [*row.data.get("trusted_certificates", []), prompt.certificate],
        }
        row.save(update_fields=["data"])


@pytest.mark.django_db
@pytest.mark.parametrize("profile", PROFILES)
def test_the_whole_set_up_checklist_runs_against(hcxsim_fast, tls_vcenter, profile):
    hcxsim_fast.control.reset(variants=PROFILES[profile])
    plan = make_setup_plan(hcxsim_fast)
    # A vCenter that answers TLS, for the shape of HCX's refusal that carries no certificate: the
    # portal then reads it from vCenter itself.
    plan.vcenter.url = f"{tls_vcenter.service_url.replace('http://', 'https://')}/sdk"
    plan.vcenter.save()

    steps = walk_checklist(plan)

    assert {key: steps[key].state for key in STEPS} == dict.fromkeys(STEPS, StepState.DONE), {
        key: steps[key].message for key in STEPS if key in steps
    }
    state = hcxsim_fast.control.state()
    assert state["activation"] and state["vcenter"] and state["sso"] and len(state["pairings"]) == 1
    ours = [m for m in state["serviceMeshes"] if m["name"] == "amsterdam-mesh"]
    assert [m["state"] for m in ours] == ["COMMITTED"]
    extended = {e["sourceNetwork"]["networkName"] for e in state["l2Extensions"]}
    assert extended == set(plan.extension_gateways)


@pytest.fixture
def _fresh_clients():
    forget_clients()
    yield
    forget_clients()


@pytest.mark.django_db
@pytest.mark.usefixtures("_fresh_clients")
@pytest.mark.parametrize("profile", PROFILES)
def test_the_launch_journey_runs_against(hcxsim, engineer, profile):
    setup = make_launch_setup(hcxsim, vms=3, meshed_variants=PROFILES[profile])
    batch = walk_launch_journey(setup, engineer)
    first = batch.migrations.select_related("vm").get(vm__name="app-1", attempt=1)

    [back] = controls.do_roll_back_migrations([first], acting_user=engineer).done
    dispatch(setup.site)
    hcxsim.control.advance(100_000)
    reconcile_site(setup.site)

    back = VmMigration.objects.get(pk=back.pk)
    assert (back.direction, back.state) == (MigrationDirection.REVERSE, S.COMPLETE), back.message
    item = next(i for i in setup.hcx_migrations() if i["migrationId"] == back.hcx_id)
    assert item["isReverse"] and item["destination"]["endpointId"] == setup.meshed.local
