"""Where a source network's VMs land in a wave (`landing`), the one rule the wave page
(networks.py), the site's targets (network_targets.py), readiness and the launch share."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from migrations_app.choices import MappingTarget

BY_MAPPING, BY_SITE_PLAN = "mapping", "site_plan"


@dataclass(frozen=True)
class Landing:
    """Where a source network's VMs land: `by` says who decided it ("" when nobody has)."""

    by: str = ""
    target_kind: str = ""
    target_name: str = ""

    @property
    def mapped(self) -> bool:
        return bool(self.by)

    @property
    def label(self) -> str:
        if self.by == BY_SITE_PLAN:
            return "extended by the site plan"
        if self.by == BY_MAPPING:
            return "mapped in this wave"
        return "not mapped"


NOT_MAPPED = Landing()


def landing(
    network_id: int | None, name: str, mappings: Mapping[int, tuple[str, str]], extended: Collection[int]
) -> Landing:
    """Where the VMs on this source network land in a wave.

    `mappings`: the wave's NetworkMappings as {source network id: (target kind, target name)};
    `extended`: the ids of the networks the wave's site plan extends. A network the inventory has
    no row for (`network_id` None) cannot be mapped, so it lands nowhere.
    """
    if network_id is None:
        return NOT_MAPPED
    mapped = mappings.get(network_id)
    if mapped is not None:
        return Landing(BY_MAPPING, *mapped)
    if network_id in extended:
        return Landing(BY_SITE_PLAN, MappingTarget.EXTENDED, name)
    return NOT_MAPPED
