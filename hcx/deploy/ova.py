"""Opening an OVF package: an OVA (tar), a folder holding one .ovf, or an .ovf with its disks beside it.

`open_package(path)` finds and parses the OVF descriptor and checks that every file it
references is there, so that a broken package is refused before vCenter is asked anything.
"""

import contextlib
import re
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from core.jobs import JobError

# A real descriptor is tens of kB; anything this big is not one, and is not worth parsing.
MAX_DESCRIPTOR_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class OvfFile:
    id: str
    href: str
    size: int


@dataclass(frozen=True)
class OvfProperty:
    key: str
    type: str
    default: str
    user_configurable: bool
    password: bool
    label: str = ""
    qualifiers: str = ""  # vmw:qualifiers, e.g. "MinLen(8)"

    @property
    def min_length(self) -> int:
        match = re.search(r"MinLen\((\d+)\)", self.qualifiers or "")
        return int(match.group(1)) if match else 0


@dataclass
class OvfPackage:
    """What the descriptor declares, and access to the files it references."""

    source: Path
    descriptor_name: str
    descriptor: str
    virtual_system_id: str
    files: list[OvfFile] = field(default_factory=list)
    disks: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    properties: dict[str, OvfProperty] = field(default_factory=dict)

    def __str__(self):
        return self.source.name

    @contextlib.contextmanager
    def open_file(self, href: str):
        """Yield `(binary stream, size)` of a file the descriptor references."""
        if self.source.is_dir() or self.source.suffix.lower() == ".ovf":
            folder = self.source if self.source.is_dir() else self.source.parent
            path = folder / href
            with open(path, "rb") as stream:
                yield stream, path.stat().st_size
            return
        with tarfile.open(self.source) as archive:
            member = _member(archive, href)
            stream = archive.extractfile(member)
            with stream:
                yield stream, member.size


def open_package(path: str | Path) -> OvfPackage:
    source = Path(path)
    if not source.exists():
        raise JobError(f"OVA {source} not found")
    if source.is_dir():
        descriptors = sorted(p.name for p in source.iterdir() if p.suffix.lower() == ".ovf")
        if len(descriptors) != 1:
            found = ", ".join(descriptors) if descriptors else "none"
            raise JobError(f"Folder {source} must hold exactly one OVF descriptor (.ovf); found {found}")
        name = descriptors[0]
        text = _read_limited(source / name, name)
        present = {p.name for p in source.iterdir() if p.is_file()}
    elif source.suffix.lower() == ".ovf":
        name = source.name
        text = _read_limited(source, name)
        present = {p.name for p in source.parent.iterdir() if p.is_file()}
    else:
        name, text, present = _read_ova(source)
    package = parse_descriptor(text, source=source, descriptor_name=name)
    missing = [f.href for f in package.files if f.href not in present]
    if missing:
        raise JobError(
            f"OVF descriptor {name} in {source.name} references {', '.join(missing)}, "
            f"which {'is' if len(missing) == 1 else 'are'} not in the package"
        )
    return package


def _read_limited(path: Path, name: str) -> str:
    if path.stat().st_size > MAX_DESCRIPTOR_BYTES:
        raise JobError(
            f"OVF descriptor {name} is larger than {MAX_DESCRIPTOR_BYTES // 1024 // 1024} MB: not a descriptor"
        )
    return path.read_bytes().decode("utf-8", errors="replace")


def _read_ova(source: Path) -> tuple[str, str, set[str]]:
    if not tarfile.is_tarfile(source):
        raise JobError(
            f"{source.name} is not an OVA: an OVA is a tar archive holding an .ovf descriptor and disks"
        )
    try:
        with tarfile.open(source) as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
            descriptors = [m for m in members if m.name.lower().endswith(".ovf")]
            if not descriptors:
                held = ", ".join(m.name for m in members[:10]) or "nothing"
                raise JobError(f"OVA {source.name} contains no OVF descriptor (.ovf); it holds: {held}")
            member = descriptors[0]  # the OVF specification puts the descriptor first
            if member.size > MAX_DESCRIPTOR_BYTES:
                raise JobError(
                    f"OVF descriptor {member.name} in {source.name} is too large to be a descriptor"
                )
            text = archive.extractfile(member).read().decode("utf-8", errors="replace")
            present = {Path(m.name).name for m in members}
            return Path(member.name).name, text, present
    except tarfile.TarError as exc:
        raise JobError(f"OVA {source.name} is a damaged tar archive: {exc}") from None


def _member(archive: tarfile.TarFile, href: str) -> tarfile.TarInfo:
    for member in archive.getmembers():
        if member.isfile() and Path(member.name).name == href:
            return member
    raise JobError(f"{href} is not in the OVA")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element, name: str, default: str = "") -> str:
    """OVF attributes come namespaced (ovf:key) or not, depending on the tool that wrote them."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return default


def _children(element, name: str):
    return [child for child in element if _local(child.tag) == name]


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "1")


def parse_descriptor(text: str, *, source: Path, descriptor_name: str) -> OvfPackage:
    where = f"OVF descriptor {descriptor_name} in {source.name}"
    # OVF never needs a DTD; refusing one rules out entity-expansion tricks in uploaded packages.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise JobError(f"{where} declares a DOCTYPE or entities, which OVF does not use; refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise JobError(f"{where} is not valid XML: {exc}") from None
    if _local(root.tag) != "Envelope":
        raise JobError(
            f"{where} is not an OVF envelope: its root element is <{_local(root.tag)}>, not <Envelope>"
        )
    systems = _children(root, "VirtualSystem")
    if not systems:
        if _children(root, "VirtualSystemCollection"):
            raise JobError(
                f"{where} describes a vApp (VirtualSystemCollection); the HCX Connector is one VirtualSystem"
            )
        raise JobError(f"{where} has no VirtualSystem: there is no virtual machine to deploy")
    system = systems[0]
    if not _children(system, "VirtualHardwareSection"):
        raise JobError(f"{where}: VirtualSystem {_attr(system, 'id')!r} has no VirtualHardwareSection")

    package = OvfPackage(
        source=source, descriptor_name=descriptor_name, descriptor=text, virtual_system_id=_attr(system, "id")
    )
    for references in _children(root, "References"):
        for item in _children(references, "File"):
            size = _attr(item, "size", "0")
            package.files.append(
                OvfFile(
                    id=_attr(item, "id"), href=_attr(item, "href"), size=int(size) if size.isdigit() else 0
                )
            )
    for section in _children(root, "DiskSection"):
        package.disks.extend(_attr(disk, "diskId") for disk in _children(section, "Disk"))
    for section in _children(root, "NetworkSection"):
        package.networks.extend(_attr(net, "name") for net in _children(section, "Network"))
    for section in _children(system, "ProductSection"):
        cls, instance = _attr(section, "class"), _attr(section, "instance")
        for prop in section.iter():
            if _local(prop.tag) != "Property":
                continue
            # OVF 1.x section 9.5: the full key is class.key.instance when those are given.
            key = ".".join(part for part in (cls, _attr(prop, "key"), instance) if part)
            labels = _children(prop, "Label")
            package.properties[key] = OvfProperty(
                key=key,
                type=_attr(prop, "type", "string"),
                default=_attr(prop, "value"),
                user_configurable=_truthy(_attr(prop, "userConfigurable", "false")),
                password=_truthy(_attr(prop, "password", "false")),
                label=(labels[0].text or "").strip() if labels else "",
                qualifiers=_attr(prop, "qualifiers"),
            )
    return package
