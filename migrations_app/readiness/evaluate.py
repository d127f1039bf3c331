"""Running the rules: each VM for its effective migration type (the item's, else the wave's), the
wave-level rules once, and for a blocked VM the other types under which it would have no blocker.

Everything here is plain Python over facts.load(): no query per VM.
"""

from dataclasses import dataclass

from migrations_app.models import ReadinessFinding, Wave

from .facts import Vm, WaveFacts, load
from .rules import BLOCKER, TYPES, VM_RULES, WAVE_RULES, Hit, label


def evaluate(vm: Vm, facts: WaveFacts, migration_type: str) -> list[Hit]:
    hits = []
    for rule in VM_RULES:
        hit = rule(vm, facts, migration_type)
        if hit is not None:
            if rule.final:
                return [hit]
            hits.append(hit)
    return hits


def has_blocker(hits: list[Hit]) -> bool:
    return any(hit.severity == BLOCKER for hit in hits)


def clearing_types(vm: Vm, facts: WaveFacts, current: str) -> list[str]:
    """The other migration types under which the VM has no blocker, in MigrationType order."""
    return [t for t in TYPES if t != current and not has_blocker(evaluate(vm, facts, t))]


def switch_hint(types: list[str]) -> str:
    if not types:
        return ""
    return f" Or switch the VM to {' or '.join(label(t) for t in types)}: that clears all its blockers."


@dataclass
class Outcome:
    findings: list[ReadinessFinding]
    vms: int

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def check_wave(wave: Wave) -> Outcome:
    """The wave's findings, unsaved."""
    facts, vms = load(wave)
    findings = []
    for vm in vms:
        migration_type = vm.migration_type(wave)
        hits = evaluate(vm, facts, migration_type)
        types = clearing_types(vm, facts, migration_type) if has_blocker(hits) else []
        hint = switch_hint(types)  # added to a blocker's fix unless the fix already names those types
        for hit in hits:
            fix = hit.fix
            if hint and hit.severity == BLOCKER and not all(label(t) in fix for t in types):
                fix = (fix + hint)[:500]
            findings.append(
                ReadinessFinding(
                    wave=wave,
                    vm_id=vm.id,
                    migration_type=migration_type,
                    rule=hit.rule,
                    severity=hit.severity,
                    message=hit.message,
                    fix=fix,
                )
            )
    for rule in WAVE_RULES:
        for hit in rule.check(facts, len(vms)):
            findings.append(
                ReadinessFinding(
                    wave=wave,
                    vm=None,
                    migration_type="",
                    rule=hit.rule,
                    severity=hit.severity,
                    message=hit.message[:500],
                    fix=hit.fix[:500],
                )
            )
    return Outcome(findings=findings, vms=len(vms))


def switch_options(wave: Wave, vm_ids) -> dict[int, list[str]]:
    """For the given (blocked) VMs of the wave: the migration types that would clear their blockers.
    A fixed number of queries for any number of VMs; the panels ask for one page of them."""
    facts, vms = load(wave, vm_ids)
    return {vm.id: clearing_types(vm, facts, vm.migration_type(wave)) for vm in vms}
