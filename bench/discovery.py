"""Discovery of a 10,000-VM vCenter simulator, against two baselines measured in the same run.

    .venv/bin/python bench/discovery.py [--clusters 20 --vms-per-cluster 500] [--sample 200]

1. bare: the PropertyCollector retrieval of the same types and properties discovery reads, paged
   the same way, with nothing mapped or stored (the floor; target: discovery within 1.5x of it),
   timed before and after the discovery and averaged (the shared machine's speed drifts);
2. discovery: `inventory.discovery.discover()` as the job runs it: read, map, store;
3. one by one: reading each VM's properties with one PropertyCollector call per property, as
   naive pyvmomi attribute access does, timed on a sample of VMs and scaled to the estate
   (target: discovery at least 10x faster);
4. again: a second discovery of the unchanged simulator (target: 0 writes);
5. 1 and 3 again with the simulator a network round trip away (`--rtt-ms`, through
   tests/peers/tcpproxy.py), as a vCenter is from the portal: on loopback a call costs only the
   simulator's own work, which no real network gives, so one-by-one reads look cheaper there than
   they are. Discovery makes one round trip per page of objects; one-by-one makes 29 per VM.

The simulator answers its first retrieval several times slower than the next ones (it builds its
object views lazily), so one untimed retrieval warms it before anything is timed.
Runs on a scratch SQLite database under var/bench/ unless DATABASE_URL is set. Needs the
simulator binary that scripts/test builds (var/bin/vcsim).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report, setup_django, timed  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--vms-per-cluster", type=int, default=500)
    parser.add_argument("--sample", type=int, default=200, help="VMs read one by one (scaled to the estate)")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=1.0,
        help="network round trip to the simulator for step 5 (1 ms: a vCenter on the same site)",
    )
    args = parser.parse_args(argv)
    setup_django("discovery")

    from pyVmomi import vim, vmodl

    from inventory.discovery import mapping
    from inventory.discovery.collector import Collector
    from inventory.discovery.connect import connect, disconnect
    from inventory.discovery.discover import discover
    from inventory.models import VCenter, VirtualMachine
    from tests.peers.tcpproxy import TcpProxy
    from tests.peers.vcsim import start_simulator, vcsim_binary

    binary = vcsim_binary()
    if binary is None:
        sys.exit("bench/discovery.py: var/bin/vcsim is missing; run ./scripts/test once to build it")
    total = args.clusters * args.vms_per_cluster
    print(
        f"Starting a vCenter simulator with {total} VMs ({args.clusters} clusters x {args.vms_per_cluster})"
    )
    sim = start_simulator(
        binary, cluster=args.clusters, host=3, vm=args.vms_per_cluster, pg=4, ds=4, timeout=600
    )
    try:
        VCenter.objects.filter(name__startswith="bench-vcsim").delete()
        vcenter = VCenter.objects.create(
            name="bench-vcsim", url=sim.url, username=sim.username, password=sim.password, verify_tls=False
        )

        def bare():
            si = connect(sim.url, sim.username, sim.password, verify_tls=False)
            try:
                collector = Collector(si)
                count = 0
                for types, props in (
                    (mapping.ENTITY_TYPES, mapping.ENTITY_PROPS),
                    ([vim.ClusterComputeResource], mapping.CLUSTER_PROPS),
                    ([vim.HostSystem], mapping.HOST_PROPS),
                    ([vim.Datastore], mapping.DATASTORE_PROPS),
                    ([vim.DistributedVirtualSwitch], mapping.SWITCH_PROPS),
                    ([vim.Network], mapping.NETWORK_PROPS),
                    ([vim.VirtualMachine], mapping.VM_PROPS),
                ):
                    for page in collector.pages(types, props):
                        count += len(page)
                return count
            finally:
                disconnect(si)

        def one_by_one(url=sim.url):
            si = connect(url, sim.username, sim.password, verify_tls=False)
            try:
                content = si.RetrieveContent()
                view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
                vms = list(view.view)[: args.sample]
                view.Destroy()
                pc = content.propertyCollector
                paths = sorted(mapping.VM_PROPS[vim.VirtualMachine])
                for vm in vms:
                    for path in paths:
                        spec = vmodl.query.PropertyCollector.FilterSpec(
                            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=vm)],
                            propSet=[
                                vmodl.query.PropertyCollector.PropertySpec(
                                    type=vim.VirtualMachine, pathSet=[path]
                                )
                            ],
                        )
                        pc.RetrieveContents([spec])
                return len(vms)
            finally:
                disconnect(si)

        warm_s, _ = timed(bare)
        print(f"warm-up retrieval (not counted): {warm_s:.1f} s")
        bare_s, objects = timed(bare)
        print(f"bare PropertyCollector retrieval: {bare_s:.1f} s for {objects} objects")
        marks = {}

        def mark(percent, text):
            if text.startswith("Writing"):  # discover() reports this between reading and storing
                marks["store"] = time.perf_counter()

        start = time.perf_counter()
        first_s, first = timed(lambda: discover(vcenter, report=mark))
        read_s = marks.get("store", start) - start
        stored = VirtualMachine.objects.filter(vcenter=vcenter).count()
        print(
            f"discovery (read + map + store):   {first_s:.1f} s ({read_s:.1f} s reading and mapping, "
            f"{first_s - read_s:.1f} s storing), {stored} VMs stored, {first['writes']} writes"
        )
        # The bare retrieval again, after: the machine is shared, and its speed drifts over the minute
        # a discovery takes; the baseline is the mean of the retrievals before and after.
        bare_after_s, _ = timed(bare)
        print(f"bare PropertyCollector retrieval again: {bare_after_s:.1f} s")
        bare_s = (bare_s + bare_after_s) / 2
        sample_s, sampled = timed(one_by_one)
        scaled = sample_s / sampled * total
        print(f"one by one: {sample_s:.1f} s for {sampled} VMs -> {scaled:.0f} s scaled to {total} VMs")
        again_s, again = timed(lambda: discover(vcenter))
        print(f"second discovery, nothing changed: {again_s:.1f} s, {again['writes']} writes")
        rtt = args.rtt_ms / 1000
        with TcpProxy("127.0.0.1", sim.port) as proxy:
            proxy.away(rtt)
            vcenter.delete()  # a vCenter is known once (by its instance UUID): store it afresh
            far = VCenter.objects.create(
                name="bench-vcsim-away",
                url=f"https://127.0.0.1:{proxy.port}/sdk",
                username=sim.username,
                password=sim.password,
                verify_tls=False,
            )
            far_s, far_first = timed(lambda: discover(far))
            print(f"{args.rtt_ms:g} ms away: discovery {far_s:.1f} s, {far_first['writes']} writes")
            far_sample_s, _ = timed(lambda: one_by_one(far.url))
        far_scaled = far_sample_s / sampled * total
        print(
            f"{args.rtt_ms:g} ms away: one by one {far_sample_s:.1f} s for {sampled} VMs -> {far_scaled:.0f} s "
            f"scaled to {total} VMs"
        )
        ratio, speedup, far_speedup = first_s / bare_s, scaled / first_s, far_scaled / far_s
        print()
        print(f"discovery / bare = {ratio:.2f} (target <= 1.5): {'met' if ratio <= 1.5 else 'MISSED'}")
        print(
            f"one by one / discovery, {args.rtt_ms:g} ms away = {far_speedup:.1f}x (target >= 10x): "
            f"{'met' if far_speedup >= 10 else 'MISSED'}"
        )
        print(f"one by one / discovery, loopback = {speedup:.1f}x (no network: the simulator's work alone)")
        print(
            f"second run writes = {again['writes']} (target 0): {'met' if again['writes'] == 0 else 'MISSED'}"
        )
        report(
            "discovery",
            f"first discovery of {total:,} VMs (read, map, store)",
            f"{first_s:.1f} s = {ratio:.2f}x bare ({read_s:.1f} s reading, {first_s - read_s:.1f} s storing "
            f"{first['writes']:,} rows)",
            baseline=f"bare PropertyCollector retrieval {bare_s:.1f} s (mean of one before and one after)",
            target="<= 1.5x bare",
            met=ratio <= 1.5,
        )
        report(
            "discovery",
            f"against reading each VM one by one, the simulator {args.rtt_ms:g} ms away",
            f"{far_speedup:.1f}x faster (discovery {far_s:.1f} s)",
            baseline=f"one by one: {far_sample_s:.1f} s for {sampled} VMs, scaled to {far_scaled:.0f} s "
            f"for {total:,}",
            target=">= 10x",
            met=far_speedup >= 10,
            note=f"one by one: one property per call, 29 calls per VM, on a sample of {sampled} VMs, extrapolated; "
            f"{args.rtt_ms:g} ms away: each request held one round trip by tests/peers/tcpproxy.py",
        )
        report(
            "discovery",
            "against reading each VM one by one, on loopback (no network)",
            f"{speedup:.1f}x faster",
            baseline=f"one by one: {sample_s:.1f} s for {sampled} VMs, "
            f"scaled to {scaled:.0f} s for {total:,}",
            target="",
            met=None,
            note="on loopback a call costs only the simulator's own work (about 0.7 ms), no round trip: "
            "the floor of one-by-one reads, not what a vCenter across a network costs",
        )
        report(
            "discovery",
            "second discovery, nothing changed",
            f"{again['writes']} writes in {again_s:.1f} s",
            baseline=f"{first['writes']:,} writes the first time",
            target="0 writes",
            met=again["writes"] == 0,
        )
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
