package main

import (
	"fmt"
	"github.com/vmware/govmomi/simulator"
)

func main() {
	m := simulator.VPX()
	defer m.Remove()
	if err := m.Create(); err != nil { panic(err) }
	s := m.Service.NewServer()
	fmt.Println(s.URL)
}
