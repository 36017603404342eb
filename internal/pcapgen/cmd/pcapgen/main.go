// Command pcapgen writes a synthetic SIP/RTP capture: one named scenario or
// a load of answered calls, and prints the expected call records.
//
//	go run ./internal/pcapgen/cmd/pcapgen -list
//	go run ./internal/pcapgen/cmd/pcapgen -scenario answered -o x.pcap
//	go run ./internal/pcapgen/cmd/pcapgen -scenario all -o all.pcapng -ng
//	go run ./internal/pcapgen/cmd/pcapgen -load 1000 -o load.pcap
//	go run ./internal/pcapgen/cmd/pcapgen -load 1000 -interval 10ms -talk 30s -o capacity.pcap
//
// The last one is 1,000 calls up at once (3.0 M packets, 690 MB), the
// capacity test's capture (test/capacity).
package main

import (
	"bufio"
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
	var lo pcapgen.LoadOptions
	fs.DurationVar(&lo.Interval, "interval", 0, "with -load: time between INVITEs (default 100ms)")
	fs.DurationVar(&lo.Ring, "ring", 0, "with -load: time from 180 to 200 (default 2s)")
	fs.DurationVar(&lo.Talk, "talk", 0, "with -load: time from the first RTP packet to the BYE (default 3s)")
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
	if *load == 0 && lo != (pcapgen.LoadOptions{}) {
		return errors.New("-interval, -ring and -talk time the calls of -load N only")
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
	// The pcap writer makes two writes a frame: without a buffer a large
	// load is millions of system calls.
	bw := bufio.NewWriterSize(f, 1<<20)
	var w *pcapgen.Writer
	if *ng {
		w, err = pcapgen.NewNgWriter(bw)
	} else {
		w, err = pcapgen.NewWriter(bw)
	}
	if err != nil {
		return err
	}
	var exp []pcapgen.Expect
	if *load > 0 {
		exp, _, err = pcapgen.LoadWith(w, *load, pcapgen.BaseTime(), lo)
	} else {
		exp, err = writeScenarios(w, *scenario)
	}
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
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
