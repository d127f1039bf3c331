"""Personas per role, and the shared fixtures. Peers (vCenter simulator, Celery worker) live in
tests/peers/ and are pulled in as plugins."""

import pytest
from django.contrib.auth.models import Group, User

from core.roles import ADMIN, ENGINEER, PLANNER, STAKEHOLDER

pytest_plugins = ["tests.peers.worker", "tests.peers.vcsim", "tests.peers.hcxsim", "tests.peers.browser"]


def make_user(role: str | None, username: str | None = None) -> User:
    user = User.objects.create_user(
        username or f"{role or 'outsider'}-user", password="correct horse battery"
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def planner(db):
    return make_user(PLANNER)


@pytest.fixture
def engineer(db):
    return make_user(ENGINEER)


@pytest.fixture
def stakeholder(db):
    return make_user(STAKEHOLDER)


@pytest.fixture
def admin_user(db):
    return make_user(ADMIN)


@pytest.fixture
def outsider(db):
    """Signed in, but in no role."""
    return make_user(None)


@pytest.fixture
def client_for(client):
    """`client_for(user)`: a test client signed in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login
