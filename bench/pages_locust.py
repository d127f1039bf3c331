"""Locust users for bench/pages.py: each signs in through the login form, then all of them load one
page after another, `BENCH_SLOT_SECONDS` each, starting together once every user is signed in (so
that no page is charged for the sign-ins' password hashing). Figures per page go to BENCH_OUT.

With 50 users and no think time, requests queue at the server: a page's first answers wait behind
the previous page's last requests. So only the answers that arrive in the last 60 % of a page's slot
count (requests per second = those answers / that time), when the queue holds that page alone.

Run by bench/pages.py; alone: BENCH_PAGES='[["jobs", "/jobs/"]]' BENCH_OUT=/tmp/out.json
BENCH_USERNAME=... BENCH_PASSWORD=... locust -f bench/pages_locust.py --headless -u 50 -r 50 --host ...
"""

import json
import os
import re
import time

import gevent
from gevent.event import Event
from locust import FastHttpUser, events, task

PAGES = json.loads(os.environ["BENCH_PAGES"])
SLOT = float(os.environ.get("BENCH_SLOT_SECONDS", "20"))
WARM = 0.4 * SLOT
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

signed_in = 0
everyone_in = Event()
schedule = {"start": None}
samples: dict[str, list] = {key: [] for key, _ in PAGES}
failures: dict[str, int] = {key: 0 for key, _ in PAGES}


def cookie(response, name: str) -> str:
    # The session and CSRF cookies are Secure (DEBUG off) and this client speaks plain HTTP, so it
    # would not send them back by itself: they are read here and sent by hand.
    for header in response.headers.get_all("Set-Cookie") or []:
        match = re.match(rf"\s*{name}=([^;]*)", header)
        if match:
            return match.group(1)
    return ""


class SignedInUser(FastHttpUser):
    def on_start(self):
        global signed_in
        form = self.client.get("/login/", name="login form")
        csrf = cookie(form, "csrftoken")
        token = TOKEN.search(form.text or "")
        answer = self.client.post(
            "/login/",
            name="login",
            allow_redirects=False,
            headers={"Cookie": f"csrftoken={csrf}"},
            data={
                "username": os.environ["BENCH_USERNAME"],
                "password": os.environ["BENCH_PASSWORD"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
        )
        session = cookie(answer, "sessionid")
        if answer.status_code != 302 or not session:
            raise RuntimeError(f"sign-in failed: {answer.status_code}")
        self.headers = {"Cookie": f"sessionid={session}; csrftoken={csrf}"}
        signed_in += 1
        if signed_in >= self.environment.runner.target_user_count:
            schedule["start"] = time.monotonic() + 1
            everyone_in.set()
        everyone_in.wait()

    @task
    def page(self):
        now = time.monotonic()
        slot = int((now - schedule["start"]) // SLOT)
        if now < schedule["start"]:
            gevent.sleep(schedule["start"] - now)
            return
        if slot >= len(PAGES):
            self.environment.runner.quit()
            return
        key, path = PAGES[slot]
        started = time.monotonic()
        with self.client.get(
            path, name=key, headers=self.headers, allow_redirects=False, catch_response=True
        ) as response:
            ended = time.monotonic()
            ok = response.status_code == 200
            if not ok:
                response.failure(f"status {response.status_code}")
        into = ended - schedule["start"] - slot * SLOT
        if WARM <= into < SLOT:
            if ok:
                samples[key].append((ended - started) * 1000)
            else:
                failures[key] += 1


@events.quitting.add_listener
def write_figures(environment, **kwargs):
    figures = {}
    for key, _ in PAGES:
        times = sorted(samples[key])
        figures[key] = {
            "requests": len(times),
            "rps": len(times) / (SLOT - WARM),
            "median_ms": times[len(times) // 2] if times else 0.0,
            "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0,
            "failures": failures[key],
        }
    with open(os.environ["BENCH_OUT"], "w", encoding="utf-8") as handle:
        json.dump(figures, handle)
