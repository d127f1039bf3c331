"""Shared by the role journeys in the browser (tests/test_journeys_browser.py): a site meshed with the
fast HCX simulator with its on-premises estate, but no wave yet (the planner makes it); the real worker
with beat taking the portal's own jobs too; a signed-in browser context per person against uvicorn.

The estate uses the simulator's ids as tests/launch_helpers.py does, so a wave planned in the browser
over it launches for real.
"""

from dataclasses import dataclass, field

import pytest

from inventory.models import Cluster, Datastore, Network
from migrations_app.models import TargetCluster
from tests.hcx_migrations import Meshed
from tests.hcx_setup import make_setup_plan
from tests.launch_helpers import (
    AVS_CLUSTER,
    AVS_DATASTORE,
    AVS_FOLDER,
    ONPREM_CLUSTER,
    ONPREM_DATASTORE,
    PORT_GROUP,
    MiB,
)
from tests.peers.browser import TIMEOUT_MS

PASSWORD = "correct horse battery"  # tests/conftest.py make_user
PHONE = {"width": 390, "height": 844}


@dataclass
class Estate:
    site: object
    target: TargetCluster
    network: Network
    vms: list = field(default_factory=list)


def make_site_estate(sim, *, vms: int = 3, disk_bytes: int = 64 * MiB) -> Estate:
    """A site whose connection is `sim` (reset to `meshed`), VMs app-1... known to both the inventory and
    the simulator, and the AVS cluster the simulator reports as the site's target cluster."""
    meshed = Meshed(sim)
    site = make_setup_plan(sim)
    vcenter = site.vcenter
    cluster = Cluster.objects.create(vcenter=vcenter, moid=ONPREM_CLUSTER[0], name=ONPREM_CLUSTER[1])
    datastore = Datastore.objects.create(
        vcenter=vcenter,
        moid=ONPREM_DATASTORE[0],
        name=ONPREM_DATASTORE[1],
        capacity_mib=4 * MiB,
        free_mib=MiB,
    )
    network = Network.objects.get(vcenter=vcenter, name=PORT_GROUP[1])
    Network.objects.filter(pk=network.pk).update(moid=PORT_GROUP[0])
    from tests.factories import make_vm

    made = [
        make_vm(
            vcenter,
            f"app-{i}",
            moid=f"vm-{100 + i}",
            cluster=cluster,
            folder="Apps",
            power_state="poweredOn",
            hw_version=19,
            disks=[(datastore, 1024)],
            nics=[network],
        )
        for i in range(1, vms + 1)
    ]
    meshed.register(*[{"id": vm.moid, "name": vm.name, "diskBytes": disk_bytes} for vm in made])
    target = TargetCluster.objects.create(
        site=site, name=AVS_CLUSTER[1], hosts=3, datastores=[AVS_DATASTORE[1]], folders=[AVS_FOLDER]
    )
    return Estate(site=site, target=target, network=network, vms=made)


@pytest.fixture
def journey_worker(celery_beat_worker):
    """The worker with beat, also taking the jobs this process enqueues (launch, import, actions): the
    session worker is not needed, and one worker is all a 2-core machine should carry here."""
    from avsportal.celery import app

    saved = {name: app.conf[name] for name in ("task_default_queue", "broker_transport_options")}
    env = celery_beat_worker.env
    app.conf.task_default_queue = env["CELERY_QUEUE"]
    if env.get("CELERY_BROKER_DIR"):  # the filesystem broker: the worker's folders, not the settings' ones
        folder = env["CELERY_BROKER_DIR"]
        app.conf.broker_transport_options = {
            "data_folder_in": f"{folder}/queue",
            "data_folder_out": f"{folder}/queue",
            "processed_folder": f"{folder}/processed",
            "control_folder": f"{folder}/control",
            "store_processed": False,
        }
    _drop_connections(app)
    yield celery_beat_worker
    for name, value in saved.items():
        app.conf[name] = value
    _drop_connections(app)


def _drop_connections(app):
    # The app holds on to the pools of the options it first used; kombu keys its shared pools by the
    # options, so forgetting them is enough (closing them would break whoever shares them).
    app._pool = None
    app.amqp._producer_pool = None


def open_as(browser, server, user, *, viewport=None):
    """A new browser context signed in as `user` through the login form; returns its page."""
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=server.url, viewport=viewport or {"width": 1400, "height": 1000}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("User name").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(user.get_username())
    return page


@pytest.fixture
def person(browser, asgi_server):
    """`person(user)`: a signed-in page of its own browser context, closed after the test (before the
    server stops, so that no live stream is left open)."""
    contexts = []

    def sign_in(user, **kwargs):
        page = open_as(browser, asgi_server, user, **kwargs)
        contexts.append(page.context)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def post_as_page(page, path: str, data: dict | None = None):
    """POST `data` to `path` with the page's session and a valid CSRF token, as a hand-made form would:
    a refusal is then the portal's, not CSRF's."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    return page.request.post(
        path,
        form={"csrfmiddlewaretoken": token, **(data or {})},
        headers={"Referer": page.url},
        max_redirects=0,
    )


UNLABELLED_FIELDS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.disabled && el.getClientRects().length)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 160))"""

HORIZONTAL_OVERFLOW = """() => {
  const doc = document.documentElement;
  return doc.scrollWidth <= doc.clientWidth + 1 ? null
    : {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
       // what sticks out, leaving out what its own scrolling box holds
       sticking: [...document.body.querySelectorAll('*')]
         .filter(el => el.getBoundingClientRect().right > doc.clientWidth + 1)
         .filter(el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                           if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return false; }
                         return true; })
         .slice(0, 6).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))};
}"""
