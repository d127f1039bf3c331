"""Faults a test switches on through `POST /__sim__/faults` (documented in docs/hcx-simulator.md).

Request faults (`error`, `delay`, `drop`) match a regular expression against the request path, an
optional method and an optional port ("service" or "admin"), and fire `times` times (or always when
`times` is null). `job_fail` makes the next asynchronous operation(s) of a kind end in failure. A `drop` with
`"after": true` handles the request first and then drops the answer: the create was made, its
answer lost.
`expire_sessions` is not stored: it invalidates every session token at once.

Migration faults pick VMs by `vm` (an entity id or name); without `vm` they hit the next `times` VMs
(every VM when `times` is null):
- `migration_fail` with `phase`: the migration started next for that VM fails in that phase;
- `validation_error` with `severity` "error" (default) or "warning": each validation of the VM (the
  validate call and the start call both validate) reports `message`;
- `switchover_refuse`: a schedule change or "switchover now" for that VM is refused with `message`;
- `query_omit`: the next migration query(ies) answer without that VM's migration(s), as an HCX
  whose paging differs from the documented one might (the client must not take it for gone).
"""

import itertools
import re
from dataclasses import asdict, dataclass, field

REQUEST_KINDS = {"error", "delay", "drop"}
MIGRATION_KINDS = {"migration_fail", "validation_error", "switchover_refuse", "query_omit"}
KINDS = REQUEST_KINDS | MIGRATION_KINDS | {"job_fail", "expire_sessions"}
# The phases a migration_fail can name (the engine's state names, migration_engine.py).
MIGRATION_PHASES = ("VALIDATING", "INITIAL_SYNC", "DELTA_SYNC", "SWITCHOVER", "CLEANUP")


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    id: int
    kind: str
    path: str = ".*"
    method: str | None = None
    port: str | None = None
    times: int | None = None
    status: int = 503
    body: str | None = None
    content_type: str = "application/json"
    seconds: float = 0.0
    operation: str = "*"
    message: str = "Simulated failure"
    vm: str | None = None
    phase: str | None = None
    severity: str = "error"
    after: bool = False  # drop: handle the request, then lose the answer
    fired: int = 0
    _regex: re.Pattern = field(default=None, repr=False)

    def public(self) -> dict:
        data = asdict(self)
        data.pop("_regex")
        return data


class FaultRegistry:
    def __init__(self):
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def clear(self):
        self._faults.clear()

    def describe(self) -> list[dict]:
        return [f.public() for f in self._faults]

    def add(self, spec: dict) -> Fault:
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
        allowed = {
            "kind",
            "path",
            "method",
            "port",
            "times",
            "status",
            "body",
            "content_type",
            "seconds",
            "operation",
            "message",
            "vm",
            "phase",
            "severity",
            "after",
        }
        unknown = set(spec) - allowed
        if unknown:
            raise FaultSpecError(f"unknown fault field(s): {sorted(unknown)}")
        times = spec.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise FaultSpecError("times must be a positive integer or null (always)")
        if spec.get("port") not in (None, "service", "admin"):
            raise FaultSpecError("port must be 'service', 'admin' or absent")
        status = spec.get("status", 503)
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultSpecError("status must be an HTTP error status (400-599)")
        seconds = spec.get("seconds", 0.0)
        if kind == "delay" and (not isinstance(seconds, int | float) or seconds <= 0):
            raise FaultSpecError("a delay fault needs seconds > 0")
        if kind == "migration_fail" and spec.get("phase") not in MIGRATION_PHASES:
            raise FaultSpecError(f"a migration_fail fault needs phase, one of {list(MIGRATION_PHASES)}")
        if spec.get("severity", "error") not in ("error", "warning"):
            raise FaultSpecError("severity must be 'error' or 'warning'")
        if spec.get("vm") is not None and (not isinstance(spec["vm"], str) or not spec["vm"]):
            raise FaultSpecError("vm is a VM id or name")
        try:
            regex = re.compile(spec.get("path", ".*"))
        except re.error as exc:
            raise FaultSpecError(f"path is not a valid regular expression: {exc}") from None
        fault = Fault(id=next(self._ids), **{k: v for k, v in spec.items()}, _regex=regex)
        if fault.method:
            fault.method = fault.method.upper()
        if kind != "expire_sessions":
            self._faults.append(fault)
        return fault

    def _consume(self, fault: Fault):
        fault.fired += 1
        if fault.times is not None and fault.fired >= fault.times:
            self._faults.remove(fault)

    def match_request(self, port: str, method: str, path: str) -> list[Fault]:
        """Faults to apply to this request (at most one of each kind), consuming their counts."""
        hits, seen = [], set()
        for fault in list(self._faults):
            if fault.kind not in REQUEST_KINDS or fault.kind in seen:
                continue
            if fault.port and fault.port != port:
                continue
            if fault.method and fault.method != method:
                continue
            if not fault._regex.search(path):
                continue
            seen.add(fault.kind)
            hits.append(fault)
            self._consume(fault)
        return hits

    def take_job_failure(self, operation: str) -> str | None:
        """The failure message for a new job or task of `operation`, if a fault asks for one."""
        for fault in list(self._faults):
            if fault.kind == "job_fail" and fault.operation in ("*", operation):
                self._consume(fault)
                return fault.message
        return None

    def take_migration_faults(
        self, kind: str, entity_id: str, entity_name: str, limit: int | None = None
    ) -> list:
        """The faults of `kind` that hit this VM now (consuming one firing of each)."""
        hits = []
        for fault in list(self._faults):
            if fault.kind == kind and (fault.vm is None or fault.vm in (entity_id, entity_name)):
                self._consume(fault)
                hits.append(fault)
                if limit and len(hits) >= limit:
                    break
        return hits
