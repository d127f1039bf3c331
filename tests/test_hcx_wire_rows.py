"""docs/hcx-wire.md stays complete: every call the clients make has a row, and the simulator serves no
path that real HCX (or ARM) does not have.

- The calls are read from the source of hcx/client/*.py with `ast`: the paths given to `_get`, `_query`,
  `_post`, `_delete`, `_mobility` (under the module's `API`), `_call` (avs.py: under `self.cloud_path`)
  and `transport.request` (or its `url=`), resolved through the module constants (`API`, `CONFIG`,
  `NETWORK_PROFILE_CREATE`...), the attributes set on `self` and the function's own variables. Each
  must be the call (first cell) of some row of docs/hcx-wire.md with the same method.
- The routes are the `router.add("METHOD", path)` calls of hcx/simulator/*.py, without the `/__sim__/`
  control routes and the Entra ID token stub, and without the `/arm` prefix ARM is served under. Each
  must be the call of some row, or be in ALLOWED: a route a public source shows that the client does
  not call. A route no source shows is removed from the simulator, never allowed here.

Paths compare after normalising: every `{placeholder}` (and every f-string part) is `{}` and equals any
one segment; a query string (`?action=...`) and an optional part (`[?endpointId=]`) are dropped. In the
doc, `...`/`…` and the paths of §6 are read as the section says (under `/hybridity/api`; in §2 under
`/api/admin/global/config`; in §7 under the private cloud, or `Microsoft.AVS` before `/privateClouds`).

Pure file reading: no database, no peers.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIRE = ROOT / "docs" / "hcx-wire.md"
CLIENT = ROOT / "hcx" / "client"
SIMULATOR = ROOT / "hcx" / "simulator"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
HYBRIDITY = "/hybridity/api"
ARM_PROVIDER = "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.AVS"  # hcx-wire.md §7
ARM_CLOUD = f"{ARM_PROVIDER}/privateClouds/{{}}"
ELLIPSIS_BASE = {"2": "/api/admin/global/config", "7": ARM_CLOUD}  # any other section: /hybridity/api

# The client's wrappers: method (None: the call's first argument) and what the path is under (the name
# of a module constant, or `self.<attribute>`). Calls inside the wrappers themselves pass a path through.
WRAPPERS = {
    "_get": ("GET", "API"),
    "_query": ("POST", "API"),
    "_post": ("POST", "API"),
    "_delete": ("DELETE", "API"),
    "_mobility": ("POST", "API"),
    "_call": (None, None),
    "request": (None, None),
}
UNDER = {("avs.py", "_call"): "self.cloud_path"}

# Routes the simulator serves that the client does not call, each shown by a public source (the keys are
# those of hcx-wire.md's source table). Not rows of hcx-wire.md, which lists the client's calls.
ALLOWED = {
    # TF `network_profile.go` lists network profiles with `POST /networks?action=queryIpUsage`; the
    # client reads `GET /networks` (hcx-wire.md §5).
    ("POST", "/hybridity/api/networks"): "TF",
    # TF `network_profile.go` updates a network profile; the portal never changes one.
    ("PUT", "/hybridity/api/networks/{}"): "TF",
    # SMIT: the older group listing, beside `/migration/queryMobilityGroups` (hcx-wire.md §6).
    ("POST", "/hybridity/api/mobility/groups/query"): "SMIT",
    # TF `activation.go`, LAM: the older builds' activation can be removed (hcx-wire.md §2).
    ("DELETE", "/api/admin/global/config/hcx/{}"): "TF; LAM",
    # TF `sso.go`, LAM, ESA: a lookup service registration can be removed (hcx-wire.md §2).
    ("DELETE", "/api/admin/global/config/lookupservice/{}"): "TF; LAM; ESA",
    # LAM `Set-HcxNSXConfig`: NSX registration on the Connector, optional; the portal does not register NSX.
    ("GET", "/api/admin/global/config/nsx"): "LAM",
    ("POST", "/api/admin/global/config/nsx"): "LAM",
    # LAM: a proxy for the Connector's way out (activation through a proxy, hcx-wire.md §12.1).
    ("POST", "/api/admin/global/config/proxy"): "LAM",
    ("DELETE", "/api/admin/global/config/proxy/{}"): "LAM",
    # SDK `addons.list` and `addons.begin_delete` (hcx-wire.md §7 reads and installs the HCX add-on only).
    ("GET", f"{ARM_CLOUD}/addons"): "SDK",
    ("DELETE", f"{ARM_CLOUD}/addons/{{}}"): "SDK",
    # SDK `hcx_enterprise_sites.delete`: an activation key no longer needed.
    ("DELETE", f"{ARM_CLOUD}/hcxEnterpriseSites/{{}}"): "SDK",
}


# --- paths ----------------------------------------------------------------------------------------


def normal(path: str) -> str:
    """`{anything}` -> `{}`; no optional `[...]` part, no query string, no trailing slash."""
    path = re.sub(r"\[[^\]]*\]", "", path.replace("\\", ""))
    path = re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])
    return path.rstrip("/") or "/"


def same(a: str, b: str) -> bool:
    """Equal paths, a `{}` segment on either side matching any one segment."""
    left, right = a.split("/"), b.split("/")
    return len(left) == len(right) and all(x == y or "{}" in (x, y) for x, y in zip(left, right, strict=True))


# --- docs/hcx-wire.md -------------------------------------------------------------------------------

CALL = re.compile(rf"\b((?:{'|'.join(METHODS)})(?:\s*/\s*(?:{'|'.join(METHODS)}))*)\s+(\S+)")


def doc_path(raw: str, section: str) -> str | None:
    raw = raw.rstrip(",;:)")
    for dots in ("...", "…"):
        if raw.startswith(dots):
            rest = raw[len(dots) :]
            if section == "7" and rest.startswith("/privateClouds"):
                return normal(ARM_PROVIDER + rest)
            return normal(ELLIPSIS_BASE.get(section, HYBRIDITY) + rest)
    if not raw.startswith("/"):
        host, slash, rest = raw.partition("/")
        if not slash or "." not in host:
            return None
        raw = "/" + rest  # login.microsoftonline.com/{tenant}/...: the path only
    if section == "6" and not raw.startswith(HYBRIDITY):
        raw = HYBRIDITY + raw  # §6: "All paths are under https://<connector>/hybridity/api"
    return normal(raw)


def doc_rows(text: str) -> list[tuple[str, str, set[tuple[str, str]]]]:
    """(section, the row's first cell, {(method, path)} it names) for every table row of the doc."""
    rows, section = [], "0"
    for line in text.splitlines():
        heading = re.match(r"^## (\d+)\.", line)
        if heading:
            section = heading.group(1)
        if not line.startswith("|") or re.match(r"^\|[\s|:-]+\|$", line):
            continue
        first = re.split(r"(?<!\\)\|", line)[1].replace("`", "").strip()
        calls = set()
        for methods, raw in CALL.findall(first):
            path = doc_path(raw, section)
            if path and path.startswith("/"):
                calls |= {(m.strip(), path) for m in methods.split("/")}
        rows.append((section, first, calls))
    return rows


def documented(text: str) -> set[tuple[str, str]]:
    return {call for _, _, calls in doc_rows(text) for call in calls}


def in_doc(call: tuple[str, str], doc: set[tuple[str, str]]) -> bool:
    method, path = call
    return any(method == m and same(path, p) for m, p in doc)


# --- the source -------------------------------------------------------------------------------------


class Module:
    """What a path expression in one module resolves to: `values()` gives the strings it can be (an
    f-string part or a value it cannot know is `{}`), or None for a parameter passed through."""

    def __init__(self, path: Path):
        self.name = path.name
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.constants = {
            t.id: node.value
            for node in self.tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        self.attributes: dict[str, list[ast.expr]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                    ):
                        self.attributes.setdefault(target.attr, []).append(node.value)

    def values(self, node, local: dict | None = None, depth: int = 0) -> set[str] | None:
        local = local or {}
        if depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.JoinedStr):
            found = {""}
            for part in node.values:
                if isinstance(part, ast.Constant):
                    pieces = {str(part.value)}
                else:
                    pieces = self.values(part.value, {}, depth + 1) if self.known(part.value) else None
                    pieces = pieces or {"{}"}
                found = {a + b for a in found for b in pieces}
            return found
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.values(node.left, local, depth + 1), self.values(node.right, local, depth + 1)
            return None if left is None or right is None else {a + b for a in left for b in right}
        if isinstance(node, ast.IfExp):
            body, orelse = (
                self.values(node.body, local, depth + 1),
                self.values(node.orelse, local, depth + 1),
            )
            return None if body is None or orelse is None else body | orelse
        if isinstance(node, ast.Name):
            if node.id in local:
                found = [self.values(v, local, depth + 1) for v in local[node.id]]
                return None if any(f is None for f in found) else set().union(*found)
            if node.id in self.constants:
                return self.values(self.constants[node.id], {}, depth + 1)
            return None
        if self.is_self_attribute(node) and node.attr in self.attributes:
            found = [self.values(v, {}, depth + 1) for v in self.attributes[node.attr]]
            return None if any(f is None for f in found) else set().union(*found)
        return None

    def known(self, node) -> bool:
        """A module constant or an attribute of self: what an f-string part is resolved through."""
        return (isinstance(node, ast.Name) and node.id in self.constants) or (
            self.is_self_attribute(node) and node.attr in self.attributes
        )

    @staticmethod
    def is_self_attribute(node) -> bool:
        return (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
        )

    def under(self, name: str | None) -> set[str]:
        if not name:
            return {""}
        expr = ast.parse(name, mode="eval").body
        return self.values(expr) or {""}


def functions(tree) -> list[ast.FunctionDef]:
    """The module's functions and methods (not the functions nested in them)."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found += [n for n in node.body if isinstance(n, ast.FunctionDef)]
    return found


def client_calls() -> dict[tuple[str, str], str]:
    """{(method, normalised path): where} for every call hcx/client/*.py makes."""
    calls = {}
    for source in sorted(CLIENT.glob("*.py")):
        module = Module(source)
        for function in functions(module.tree):
            if function.name in WRAPPERS:
                continue  # a wrapper passes its caller's path through
            local: dict[str, list[ast.expr]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            local.setdefault(target.id, []).append(node.value)
            for node in ast.walk(function):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRAPPERS
                ):
                    continue
                wrapper = node.func.attr
                method, under = WRAPPERS[wrapper]
                under = UNDER.get((source.name, wrapper), under)
                args = list(node.args)
                if method is None:
                    if not args or not isinstance(args[0], ast.Constant):
                        continue
                    method, args = args[0].value, args[1:]
                url = next((k.value for k in node.keywords if k.arg == "url"), None)
                target = url if url is not None else (args[0] if args else ast.Constant(""))
                paths = module.values(target, local)
                if paths is None:
                    continue
                where = f"hcx/client/{source.name}:{node.lineno} ({function.name})"
                for base in {""} if url is not None else module.under(under):
                    for path in paths:
                        path = base + path
                        if url is not None and path.startswith("{}/"):
                            path = path[2:]  # the base URL of an absolute `url=`
                        calls.setdefault((method, normal(path)), where)
    return calls


def simulator_routes() -> dict[tuple[str, str], str]:
    """{(method, normalised path): where} for every route of hcx/simulator/*.py, ARM without `/arm`."""
    routes = {}
    for source in sorted(SIMULATOR.glob("*.py")):
        module = Module(source)
        for node in ast.walk(module.tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "router"
            ):
                continue
            method = node.args[0].value
            for path in module.values(node.args[1]) or ():
                if path.startswith("/__sim__/"):
                    continue  # the simulator's own control routes
                if path.startswith("/arm/"):
                    if "/oauth2/" in path:
                        continue  # the Entra ID token stub
                    path = path[len("/arm") :]
                routes[(method, normal(path))] = f"hcx/simulator/{source.name}:{node.lineno}"
    return routes


# --- tests -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doc() -> set[tuple[str, str]]:
    return documented(WIRE.read_text(encoding="utf-8"))


def test_the_collectors_find_the_calls_they_are_written_for(doc):
    calls, routes = client_calls(), simulator_routes()

    # One of each way of building a path, so that a collector that stops finding them cannot pass unseen.
    for call in [
        ("POST", "/hybridity/api/sessions"),
        ("GET", "/hybridity/api/jobs/{}"),
        ("POST", "/admin/hybridity/api/networks"),
        ("POST", "/hybridity/api/mobility/groups/{}/schedule"),
        ("POST", "/hybridity/api/migrations"),
        ("POST", "/hybridity/api/service/inventory/{}"),
        ("POST", "/api/admin/global/config/lookupservice/{}"),
        ("GET", "/components/{}/status"),
        ("GET", ARM_CLOUD),
        ("PUT", f"{ARM_CLOUD}/addons/hcx"),
        ("POST", "/{}/oauth2/v2.0/token"),
    ]:
        assert call in calls, f"the client collector no longer finds {call}"
    assert len(calls) >= 50
    assert ("GET", "/hybridity/api/jobs/{}") in routes and ("GET", ARM_CLOUD) in routes
    assert ("DELETE", "/hybridity/api/l2Extensions/{}") in routes and len(routes) >= 60
    assert not any(p.startswith("/__sim__") or "/oauth2/" in p for _, p in routes)
    assert {
        ("GET", "/api/admin/global/config/location"),
        ("PUT", "/api/admin/global/config/location"),
        ("POST", "/hybridity/api/service/inventory/vc/list"),
        ("GET", ARM_CLOUD),
        ("POST", "/{}/oauth2/v2.0/token"),
        ("POST", "/api/admin/global/config/lookupservice/{}"),
        ("POST", "/hybridity/api/mobility/migrations/forceCancel"),
    } <= doc


def test_every_call_the_client_makes_has_a_row_in_hcx_wire(doc):
    missing = sorted(
        f"{m} {p}  ({where})" for (m, p), where in client_calls().items() if not in_doc((m, p), doc)
    )

    assert not missing, "calls without a row in docs/hcx-wire.md:\n" + "\n".join(missing)


def test_every_simulator_route_is_a_documented_call_or_allowed_with_its_source(doc):
    unknown = sorted(
        f"{m} {p}  ({where})"
        for (m, p), where in simulator_routes().items()
        if not in_doc((m, p), doc) and not any(m == a and same(p, b) for a, b in ALLOWED)
    )

    assert not unknown, (
        "routes in no row of docs/hcx-wire.md and not in ALLOWED (a route no source shows "
        "is removed from the simulator):\n" + "\n".join(unknown)
    )


def test_the_allow_list_names_only_routes_the_simulator_serves_and_the_doc_does_not_list(doc):
    routes = simulator_routes()

    stale = [call for call in ALLOWED if not any(call[0] == m and same(call[1], p) for m, p in routes)]
    redundant = [call for call in ALLOWED if in_doc(call, doc)]

    assert not stale, f"ALLOWED names routes the simulator no longer serves: {stale}"
    assert not redundant, f"ALLOWED names routes docs/hcx-wire.md has rows for: {redundant}"


def test_a_call_without_its_row_is_found():
    text = WIRE.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `GET /hybridity/api/jobs/{job_id}`"))

    assert in_doc(("GET", "/hybridity/api/jobs/{}"), documented(text))
    assert not in_doc(("GET", "/hybridity/api/jobs/{}"), documented(text.replace(row, "")))


@pytest.mark.parametrize(
    ("cell", "section", "expected"),
    [
        (
            "`GET` / `PUT /api/admin/global/config/location`",
            "2",
            {("GET", "/api/admin/global/config/location"), ("PUT", "/api/admin/global/config/location")},
        ),
        (
            "`POST /api/admin/global/config/lookupservice` (update: `POST …/lookupservice/{UUID}`)",
            "2",
            {
                ("POST", "/api/admin/global/config/lookupservice"),
                ("POST", "/api/admin/global/config/lookupservice/{}"),
            },
        ),
        (
            "`GET /hybridity/api/interconnect/computeProfiles[?endpointId=]`",
            "5",
            {("GET", "/hybridity/api/interconnect/computeProfiles")},
        ),
        (
            "`DELETE /hybridity/api/interconnect/serviceMesh/{id}?force=true\\|false`",
            "5",
            {("DELETE", "/hybridity/api/interconnect/serviceMesh/{}")},
        ),
        (
            "`POST .../service/inventory/networks`",
            "4",
            {("POST", "/hybridity/api/service/inventory/networks")},
        ),
        ("`POST /migrations?action=query`", "6", {("POST", "/hybridity/api/migrations")}),
        ("`GET .../privateClouds/{pc}`", "7", {("GET", ARM_CLOUD)}),
        ("`PUT .../addons/hcx`", "7", {("PUT", f"{ARM_CLOUD}/addons/hcx")}),
        (
            "`POST login.microsoftonline.com/{tenant}/oauth2/v2.0/token`",
            "7",
            {("POST", "/{}/oauth2/v2.0/token")},
        ),
    ],
)
def test_the_doc_s_ways_of_writing_a_call_are_read(cell, section, expected):
    text = f"## {section}. A section\n\n| call | body |\n|---|---|\n| {cell} | - |\n"

    assert documented(text) == expected
