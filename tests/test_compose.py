"""docker-compose.yml and the Dockerfile, checked without Docker (which does not run in CI)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ("web", "worker", "beat", "migrate")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_runs_every_part_of_the_portal_and_its_peers(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "vcsim"} <= set(services)
    assert services["vcsim"]["image"].startswith("vmware/vcsim")
    assert (
        "uvicorn" in services["web"]["command"] and "avsportal.asgi:application" in services["web"]["command"]
    )
    assert services["worker"]["command"][:5] == ["python", "-m", "celery", "-A", "avsportal"]
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]
    assert any(p.endswith(":8000") for p in services["web"]["ports"])


def test_the_worker_replaces_a_pool_process_after_50_tasks_or_1_gb_as_the_demo_does(compose):
    """A process that ran a large import keeps its memory until it is replaced (issue 15)."""
    command = compose["services"]["worker"]["command"]
    assert "--max-tasks-per-child=50" in command and "--max-memory-per-child=1000000" in command
    demo = (ROOT / "scripts" / "demo").read_text()
    assert "--pool=prefork" in demo and "--max-tasks-per-child=50 --max-memory-per-child=1000000" in demo


def test_web_worker_and_beat_share_one_image_and_one_environment(compose):
    services = compose["services"]
    envs = [services[name]["environment"] for name in PORTAL]
    assert all(env == envs[0] for env in envs), "the processes must agree on database, broker and keys"
    assert all(services[name]["build"] == "." for name in PORTAL)
    env = envs[0]
    assert re.fullmatch(r"postgresql://avsportal:.+@postgres:5432/avsportal", env["DATABASE_URL"])
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), (
        "no default key: compose refuses to start without one"
    )
    assert env["DEBUG"] == "false"
    # The worker reads the files that web stores for import jobs.
    assert services["web"]["volumes"] == services["worker"]["volumes"]
    assert any(v.endswith(":" + env["MEDIA_ROOT"]) for v in services["worker"]["volumes"])


def test_every_variable_it_sets_is_one_the_settings_read(compose):
    settings_source = (ROOT / "avsportal" / "settings.py").read_text()
    for name in compose["services"]["web"]["environment"]:
        assert f'"{name}"' in settings_source, (
            f"{name} is set in docker-compose.yml but settings.py never reads it"
        )


def test_the_portal_starts_after_its_database_is_ready_and_migrated(compose):
    services = compose["services"]
    assert services["postgres"]["healthcheck"] and services["redis"]["healthcheck"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "avsportal"


def test_the_dockerfile_installs_the_project_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]", dockerfile, re.M)
    assert "pip install" in dockerfile and "-e ." in dockerfile
    assert "collectstatic" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv/" in ignored and "var/" in ignored, (
        "the local virtualenv and database stay out of the image"
    )


def test_the_shipped_configuration_passes_check_deploy(compose):
    """The web service's environment as compose resolves it with an .env holding the two keys; the
    database is SQLite here, as `check --deploy` does not connect."""
    import os
    import subprocess
    import sys

    # Only what compose sets: not the tests' own switches (the browser fixture allows async-unsafe calls).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    for name, value in compose["services"]["web"]["environment"].items():
        env[name] = re.sub(r"\$\{\w+:?[-?]([^}]*)\}", r"\1", str(value))
    env.update(
        DJANGO_SETTINGS_MODULE="avsportal.settings",
        DATABASE_URL="sqlite:///:memory:",
        REDIS_URL="",
        SECRET_KEY="a-long-random-production-secret-key-with-enough-entropy-0123456789-abcdefghij",
        FIELD_ENCRYPTION_KEY="Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMta2V5LTAxMjM=",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_forwarded_header_is_believed_from_anyone(compose):
    """uvicorn's own proxy handling is off (with `--forwarded-allow-ips "*"` any client chose its address);
    avsportal/asgi.py believes TRUSTED_PROXIES only, none unless .env names them."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = compose["services"]["web"]["command"]
    assert "--no-proxy-headers" in command and "--no-proxy-headers" in dockerfile
    assert (
        not any("forwarded-allow-ips" in part for part in command) and "forwarded-allow-ips" not in dockerfile
    )
    env = compose["services"]["web"]["environment"]
    assert env["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-}"
    assert env["FIELD_ENCRYPTION_KEY"].startswith("${FIELD_ENCRYPTION_KEY:?"), (
        "no derived key in a deployment"
    )
