// Command pcapgen writes a synthetic SIP/RTP capture: one named scenario or
// a load of answered calls, and prints the expected call records.
//
//	go run ./internal/pcapgen/cmd/pcapgen -list
//	go run ./internal/pcapgen/cmd/pcapgen -scenario answered -o x.pcap
//	go run ./internal/pcapgen/cmd/pcapgen -scenario all -o all.pcapng -ng
//	go run ./internal/pcapgen/cmd/pcapgen -load 1000 -o load.pcap
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/switchtap/switchtap/internal/pcapgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("pcapgen", flag.ContinueOnError)
	scenario := fs.String("scenario", "", `scenario to write, or "all"`)
	load := fs.Int("load", 0, "write this many answered calls with RTP instead of a scenario")
	out := fs.String("o", "", "output file (required unless -list)")
	ng := fs.Bool("ng", false, "write pcapng instead of pcap")
	list := fs.Bool("list", false, "list the scenarios and exit")
	quiet := fs.Bool("q", false, "do not print the expectations (JSON Lines) on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 2 && fs.Arg(0) == "load" {
		// Also accept "load N" as positional arguments.
		if _, err := fmt.Sscan(fs.Arg(1), load); err != nil {
			return fmt.Errorf("load count %q: %w", fs.Arg(1), err)
		}
	}
	if *list {
		for _, s := range pcapgen.Scenarios() {
			fmt.Fprintf(stdout, "%-26s %s\n", s.Name, s.Description)
		}
		return nil
	}
	if *out == "" || (*scenario == "") == (*load == 0) {
		return errors.New("need -o FILE and exactly one of -scenario NAME|all or -load N (see -list)")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	var w *pcapgen.Writer
	if *ng {
		w, err = pcapgen.NewNgWriter(f)
	} else {
		w, err = pcapgen.NewWriter(f)
	}
	if err != nil {
		return err
	}
	var exp []pcapgen.Expect
	if *load > 0 {
		exp, _, err = pcapgen.Load(w, *load, pcapgen.BaseTime())
	} else {
		exp, err = writeScenarios(w, *scenario)
	}
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if *quiet {
		return nil
	}
	enc := json.NewEncoder(stdout)
	for _, e := range exp {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

func writeScenarios(w *pcapgen.Writer, name string) ([]pcapgen.Expect, error) {
	if name != "all" {
		s, err := pcapgen.Lookup(name)
		if err != nil {
			return nil, err
		}
		return s.Write(w)
	}
	var all []pcapgen.Expect
	for _, s := range pcapgen.Scenarios() {
		exp, err := s.Write(w)
		if err != nil {
			return nil, err
		}
		all = append(all, exp...)
	}
	return all, nil
}
