"""Bulk reads with the PropertyCollector: one ContainerView per type, RetrievePropertiesEx pages.

Every property of every object of a type comes back in pages of `page_size` objects, whatever
the size of the estate: never one round trip per object.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from pyVmomi import vim, vmodl

PC = vmodl.query.PropertyCollector


@dataclass
class Counter:
    """Round trips made, for the job log and for tests that check paging."""

    calls: int = 0
    by_type: dict = field(default_factory=dict)

    def add(self, name: str):
        self.calls += 1
        self.by_type[name] = self.by_type.get(name, 0) + 1


class Collector:
    def __init__(self, si, page_size: int = 500):
        self.content = si.RetrieveContent()
        self.pc = self.content.propertyCollector
        self.page_size = page_size
        self.counter = Counter()

    def pages(self, types: list, props: dict) -> Iterator[list[tuple[object, dict]]]:
        """Yield pages of (managed object, {property path: value}) for all objects of `types`.

        `props` maps a vim type to the property paths to read on it (a base type such as
        vim.ManagedEntity applies to its subtypes). Unset properties are absent from the dict.
        """
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, types, True)
        try:
            spec = PC.FilterSpec(
                objectSet=[
                    PC.ObjectSpec(
                        obj=view,
                        skip=True,
                        selectSet=[PC.TraversalSpec(type=vim.view.ContainerView, path="view")],
                    )
                ],
                propSet=[PC.PropertySpec(type=t, pathSet=sorted(paths)) for t, paths in props.items()],
            )
            label = "/".join(t.__name__.rsplit(".", 1)[-1] for t in types)
            result = self.pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=self.page_size))
            self.counter.add(label)
            while result is not None:
                yield [(obj.obj, {p.name: p.val for p in obj.propSet}) for obj in result.objects]
                if not result.token:
                    break
                result = self.pc.ContinueRetrievePropertiesEx(token=result.token)
                self.counter.add(label)
        finally:
            view.Destroy()

    def all(self, types: list, props: dict) -> list[tuple[object, dict]]:
        return [item for page in self.pages(types, props) for item in page]
