// vcsim: govmomi's vCenter simulator (simulator.VPX) sized from flags, served over HTTPS with a
// self-signed certificate and one accepted user, for the portal's tests and demo.
//
//	vcsim -l 127.0.0.1:0 -dc 1 -cluster 2 -host 3 -standalone-host 0 -vm 4 -pg 1 -ds 1 -username user -password pass
//
// Prints exactly one line `VCSIM_URL=https://127.0.0.1:<port>/sdk` on stdout once it serves,
// then serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"syscall"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "listen address (port 0: any free port)")
	dc := flag.Int("dc", 1, "datacenters")
	cluster := flag.Int("cluster", 1, "clusters per datacenter")
	host := flag.Int("host", 3, "hosts per cluster")
	standalone := flag.Int("standalone-host", 0, "standalone hosts per datacenter")
	vm := flag.Int("vm", 2, "VMs per cluster resource pool and per standalone host")
	pg := flag.Int("pg", 1, "distributed port groups per datacenter")
	ds := flag.Int("ds", 1, "datastores per datacenter")
	username := flag.String("username", "user", "the one user name accepted")
	password := flag.String("password", "pass", "its password")
	plain := flag.Bool("plain", false, "leave the estate exactly as govmomi's model makes it (no snapshot, no ISO)")
	flag.Parse()
	log.SetOutput(os.Stderr)

	m := simulator.VPX()
	m.Datacenter = *dc
	m.Cluster = *cluster
	m.ClusterHost = *host
	m.Host = *standalone
	m.Machine = *vm
	m.Portgroup = *pg
	m.Datastore = *ds
	if err := m.Create(); err != nil {
		log.Fatalf("vcsim: creating the model: %v", err)
	}
	defer m.Remove()
	usePagingCollector(m.ServiceContent.PropertyCollector)

	// An empty tls.Config makes the server use httptest's self-signed localhost certificate,
	// so clients that verify certificates fail as they would against a fresh vCenter.
	m.Service.TLS = new(tls.Config)
	// SessionManager.Login accepts only the user info of the Listen URL.
	m.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	s := m.Service.NewServer()
	defer s.Close()

	if !*plain {
		if err := addRealism(s.URL); err != nil {
			log.Fatalf("vcsim: preparing the estate: %v", err)
		}
	}

	public := *s.URL
	public.User = nil
	fmt.Printf("VCSIM_URL=%s\n", public.String())
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

// addRealism gives the estate what readiness checks look for, through the vSphere API itself:
// the first VM (by name) gets a snapshot, the second an ISO in its CD-ROM drive.
func addRealism(u *url.URL) error {
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return err
	}
	defer c.Logout(ctx)

	mgr := view.NewManager(c.Client)
	v, err := mgr.CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return err
	}
	defer v.Destroy(ctx)
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name"}, &vms); err != nil {
		return err
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })

	if len(vms) > 0 {
		vm := object.NewVirtualMachine(c.Client, vms[0].Self)
		task, err := vm.CreateSnapshot(ctx, "before-upgrade", "taken by the simulator", false, false)
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return err
		}
	}
	if len(vms) > 1 {
		vm := object.NewVirtualMachine(c.Client, vms[1].Self)
		devices, err := vm.Device(ctx)
		if err != nil {
			return err
		}
		cdrom, err := devices.FindCdrom("")
		if err != nil {
			return err
		}
		if err := vm.EditDevice(ctx, devices.InsertIso(cdrom, "[LocalDS_0] iso/install.iso")); err != nil {
			return err
		}
	}
	return nil
}

// pagingCollector is the simulator's PropertyCollector with what govmomi 0.24 leaves out and a
// real vCenter does: RetrievePropertiesEx honours options.maxObjects and hands out a token for
// the rest, which ContinueRetrievePropertiesEx pages through and CancelRetrievePropertiesEx drops.
// The simulator makes one instance per session (by reflection), so tokens are per session.
type pagingCollector struct {
	simulator.PropertyCollector

	pages   sync.Mutex
	pending map[string][]types.ObjectContent
	next    int
	size    map[string]int
}

func usePagingCollector(ref types.ManagedObjectReference) {
	pc := &pagingCollector{}
	pc.Self = ref
	simulator.Map.Put(pc)
}

func (pc *pagingCollector) page(objects []types.ObjectContent, size int) types.RetrieveResult {
	if size <= 0 || len(objects) <= size {
		return types.RetrieveResult{Objects: objects}
	}
	pc.pages.Lock()
	defer pc.pages.Unlock()
	if pc.pending == nil {
		pc.pending = map[string][]types.ObjectContent{}
		pc.size = map[string]int{}
	}
	pc.next++
	token := strconv.Itoa(pc.next)
	pc.pending[token] = objects[size:]
	pc.size[token] = size
	return types.RetrieveResult{Token: token, Objects: objects[:size]}
}

func (pc *pagingCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Fault_ != nil || body.Res == nil || body.Res.Returnval == nil {
		return res
	}
	result := pc.page(body.Res.Returnval.Objects, int(r.Options.MaxObjects))
	body.Res.Returnval = &result
	return body
}

func (pc *pagingCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pc.pages.Lock()
	rest, ok := pc.pending[r.Token]
	size := pc.size[r.Token]
	delete(pc.pending, r.Token)
	delete(pc.size, r.Token)
	pc.pages.Unlock()
	if !ok {
		body.Fault_ = simulator.Fault("unknown or finished token "+r.Token, &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: pc.page(rest, size)}
	return body
}

func (pc *pagingCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	pc.pages.Lock()
	delete(pc.pending, r.Token)
	delete(pc.size, r.Token)
	pc.pages.Unlock()
	return &methods.CancelRetrievePropertiesExBody{Res: new(types.CancelRetrievePropertiesExResponse)}
}
