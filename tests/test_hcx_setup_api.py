"""`/api/hcx-plans/<id>/setup/`: every role with a role reads the steps; engineers start them."""

import pytest

from core.models import AuditEntry, Job
from hcx.choices import SetupStepKey, StepState
from hcx.setup.runner import KIND, ORDER, record
from tests.test_hcx_setup_pages import ask_for_certificate, make_plan, runnable, running_job, self_signed

pytestmark = pytest.mark.django_db


def url(plan):
    return f"/api/hcx-plans/{plan.pk}/setup/"


def post(client, plan, body):
    return client.post(url(plan), body, content_type="application/json")


@pytest.mark.parametrize("persona", ["planner", "engineer", "stakeholder", "admin_user"])
def test_every_role_reads_the_steps_in_order(request, client_for, persona):
    plan = make_plan()
    job = running_job(plan)
    record(plan, ORDER[0], StepState.DONE, summary="Connector answers on 9443", job=job)
    body = client_for(request.getfixturevalue(persona)).get(url(plan)).json()
    assert body["plan"] == plan.pk
    assert [s["key"] for s in body["steps"]] == ORDER
    first = body["steps"][0]
    assert first["state"] == StepState.DONE and first["summary"] == "Connector answers on 9443"
    assert first["job"] == job.pk and first["job_url"].endswith(f"/api/jobs/{job.pk}/")
    assert first["observed"] is not None and first["title"] == str(SetupStepKey(ORDER[0]).label)
    assert body["next"] == ORDER[1] and body["steps"][1]["is_next"] and body["steps"][1]["hint"]
    assert body["active_job"]["id"] == job.pk and body["active_job"]["status"] == "running"
    assert body["remaining"] == [k for k in runnable() if k != ORDER[0]]
    needs = {s["key"]: s["needs"] for s in body["steps"]}
    assert all(set(n) <= set(ORDER) for n in needs.values())


def test_an_idle_plan_has_no_active_job(client_for, stakeholder):
    plan = make_plan()
    body = client_for(stakeholder).get(url(plan)).json()
    assert body["active_job"] is None and all(s["state"] == StepState.NOT_STARTED for s in body["steps"])


def test_the_certificate_prompt_is_part_of_the_pair_step(client_for, planner):
    plan = make_plan()
    pem, sha256 = self_signed()
    ask_for_certificate(plan, pem, sha256)
    steps = {s["key"]: s for s in client_for(planner).get(url(plan)).json()["steps"]}
    prompt = steps[SetupStepKey.PAIR]["certificate_prompt"]
    assert prompt["sha256"] == sha256 and prompt["certificate"] == pem and prompt["subject"]
    assert steps[SetupStepKey.PAIR]["state"] == StepState.NEEDS_INPUT
    assert all(s["certificate_prompt"] is None for k, s in steps.items() if k != SetupStepKey.PAIR)


def test_an_engineer_starts_steps_and_gets_the_job(client_for, engineer):
    plan = make_plan()
    wanted = runnable()[1:3]
    response = post(client_for(engineer), plan, {"steps": list(reversed(wanted))})
    assert response.status_code == 202
    job = Job.objects.get()
    assert response.json()["id"] == job.pk and response.json()["status"] == "pending"
    assert job.kind == KIND and job.params["steps"] == wanted, "run in the path's order"
    assert AuditEntry.objects.get(action="hcx_setup.run").user == engineer


@pytest.mark.parametrize("persona", ["planner", "stakeholder"])
def test_readers_cannot_start_steps(request, client_for, persona):
    plan = make_plan()
    response = post(client_for(request.getfixturevalue(persona)), plan, {"steps": runnable()[:1]})
    assert response.status_code == 403 and not Job.objects.exists()


def test_outsiders_and_anonymous_users_get_nothing(client, client_for, outsider):
    plan = make_plan()
    assert client.get(url(plan)).status_code in (401, 403)
    assert post(client, plan, {"steps": runnable()[:1]}).status_code in (401, 403)
    outsider_client = client_for(outsider)
    assert outsider_client.get(url(plan)).status_code == 403
    assert post(outsider_client, plan, {"steps": runnable()[:1]}).status_code == 403
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "steps, message",
    [
        (["pair", "reboot"], "Unknown set-up step(s): reboot"),
        ([], "This list may not be empty"),
    ],
)
def test_unknown_or_no_steps_are_refused_with_400(client_for, engineer, steps, message):
    plan = make_plan()
    response = post(client_for(engineer), plan, {"steps": steps})
    assert response.status_code == 400 and message in str(response.json()["steps"])
    assert not Job.objects.exists()


def test_a_busy_plan_answers_409_with_the_running_job(client_for, engineer):
    plan = make_plan()
    busy = running_job(plan)
    response = post(client_for(engineer), plan, {"steps": runnable()[:1]})
    assert response.status_code == 409
    assert response.json()["job"] == busy.pk and "already running" in response.json()["detail"]
    assert list(Job.objects.all()) == [busy]


def test_a_missing_plan_is_404(client_for, engineer):
    assert client_for(engineer).get("/api/hcx-plans/999999/setup/").status_code == 404


def test_the_reads_are_a_fixed_number_of_queries(client_for, stakeholder, django_assert_max_num_queries):
    plan = make_plan()
    client = client_for(stakeholder)
    client.get(url(plan))
    with django_assert_max_num_queries(12) as few:
        client.get(url(plan))
    job = running_job(plan)
    for key in ORDER:
        record(plan, key, StepState.DONE, job=job, summary=key)
    with django_assert_max_num_queries(len(few) + 1):  # + the active job's user
        client.get(url(plan))


def test_the_schema_describes_the_endpoint_and_the_root_still_lists_plans(client_for, stakeholder):
    client = client_for(stakeholder)
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    operations = schema.json()["paths"]["/api/hcx-plans/{id}/setup/"]
    assert {"get", "post"} <= set(operations)
    assert set(operations["post"]["responses"]) >= {"202", "400", "409"}
    assert "hcx-plans" in client.get("/api/").json()
