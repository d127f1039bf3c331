"""Builds small OVF packages for the Connector deployment tests.

`build_ova(folder)` writes an OVA (tar) shaped like the HCX Connector's: one VirtualSystem
with a SCSI disk and a NIC on network `VSMgmt`, and a ProductSection declaring the HCX
properties (hcx-wire.md §8) as user-configurable. The disk is a few kB of bytes, not a real
VMDK: govmomi's simulator accepts and discards whatever the lease upload sends.
"""

import io
import tarfile
from pathlib import Path

HCX_PROPERTIES = {
    "mgr_cli_passwd": ("password", True),
    "mgr_root_passwd": ("password", True),
    "hostname": ("string", False),
    "mgr_ip_0": ("string", False),
    "mgr_prefix_ip_0": ("string", False),
    "mgr_gateway_0": ("string", False),
    "mgr_dns_list": ("string", False),
    "mgr_domain_search_list": ("string", False),
    "mgr_ntp_list": ("string", False),
    "mgr_isSSHEnabled": ("boolean", False),
}
DISK_NAME = "hcx-connector-disk1.vmdk"
DISK_BYTES = b"KDMV" + bytes(range(256)) * 40  # about 10 kB, several lease progress steps
DISK_SIZE = len(DISK_BYTES)


def descriptor(*, properties=HCX_PROPERTIES, network="VSMgmt", disk_size=DISK_SIZE) -> str:
    lines = []
    for key, (kind, secret, *more) in properties.items():
        # (kind, secret[, default[, vmw:qualifiers]]): a property a newer OVA may add
        ovf_type = "string" if kind == "password" else kind
        default = more[0] if more else ("False" if kind == "boolean" else "")
        qualifiers = f' vmw:qualifiers="{more[1]}"' if len(more) > 1 else ""
        password = ' ovf:password="true"' if secret else ""
        lines.append(
            f'      <Property ovf:key="{key}" ovf:type="{ovf_type}" ovf:userConfigurable="true" '
            f'ovf:value="{default}"{password}{qualifiers}><Label>{key}</Label></Property>'
        )
    props = "\n".join(lines)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
    xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
    xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>
    <File ovf:id="file1" ovf:href="{DISK_NAME}" ovf:size="{disk_size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30"
        ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Networks</Info>
    <Network ovf:name="{network}"><Description>HCX management network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="HCX-Connector">
    <Info>HCX Connector appliance (test)</Info>
    <Name>HCX-Connector</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="other3xLinux64Guest"><Info>OS</Info></OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:ElementName>4 virtual CPUs</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>4</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:ElementName>12288MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>12288</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>7</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>{network}</rasd:Connection>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
    <ProductSection>
      <Info>HCX Connector settings</Info>
      <Product>VMware HCX</Product>
      <Vendor>VMware</Vendor>
{props}
    </ProductSection>
  </VirtualSystem>
</Envelope>
"""


def _add(archive: tarfile.TarFile, name: str, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def build_ova(
    folder: Path, name="hcx-connector.ova", *, ovf: str | None = None, include_ovf=True, include_disk=True
) -> Path:
    """An OVA in `folder`; `ovf` replaces the descriptor text (for broken ones)."""
    path = Path(folder) / name
    with tarfile.open(path, "w") as archive:
        if include_ovf:
            _add(archive, "hcx-connector.ovf", (ovf if ovf is not None else descriptor()).encode())
        if include_disk:
            _add(archive, DISK_NAME, DISK_BYTES)
    return path


def build_folder(folder: Path) -> Path:
    """The same package unpacked: a folder with the .ovf and the disk beside it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hcx-connector.ovf").write_text(descriptor())
    (folder / DISK_NAME).write_bytes(DISK_BYTES)
    return folder
