package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/redline-go/redline/internal/topology"
)

// printProbe prints probe's report as text: the topology line, a table of the nodes,
// the checks the ACL user may not run, and the problems (or that there are none).
func printProbe(w io.Writer, rep probeReport) {
	if rep.Seed == "" {
		fmt.Fprintln(w, "No topology: no seed answered, so no node was checked.")
	} else {
		fmt.Fprintf(w, "Topology from %s: %s, %d of 16384 slots served.\n\n", rep.Seed, plural(len(rep.Nodes), "node"), rep.Covered)
		printNodeTable(w, rep.Nodes)
	}
	nodes := sortedNodes(rep.Nodes)
	problems := append([]string(nil), rep.Problems...)
	var refused []string               // "check: server's words", in first-seen order
	refusedOn := map[string][]string{} // its nodes
	for _, r := range nodes {
		for _, p := range r.Problems {
			problems = append(problems, r.Addr+": "+p)
		}
		if r.Cert != nil {
			problems = append(problems, fmt.Sprintf("%s: certificate presented: %s", r.Addr, r.Cert))
		}
		for _, p := range r.NotPermitted {
			if refusedOn[p] == nil {
				refused = append(refused, p)
			}
			refusedOn[p] = append(refusedOn[p], r.Addr)
		}
	}
	if len(refused) > 0 {
		fmt.Fprintln(w, "\nNot permitted to this ACL user (not run; their columns say so):")
		for _, p := range refused {
			check, why, _ := strings.Cut(p, ": ")
			on := refusedOn[p]
			where := strings.Join(on, ", ")
			if len(on) == len(nodes) && len(on) > 1 {
				where = "all " + plural(len(on), "node")
			}
			fmt.Fprintf(w, "  - %s on %s: %s\n", check, where, why)
		}
	}
	switch {
	case len(problems) > 0:
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range problems {
			fmt.Fprintln(w, "  - "+p)
		}
	case len(refused) > 0:
		fmt.Fprintln(w, "\nNo problem found in the checks this user may run; the others are unknown.")
	default:
		fmt.Fprintln(w, "\nAll nodes healthy.")
	}
}

// sortedNodes returns the nodes, primaries first.
func sortedNodes(in []nodeReport) []nodeReport {
	nodes := append([]nodeReport(nil), in...)
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Role < nodes[j].Role })
	return nodes
}

// printNodeTable prints one row per node: each check's outcome, "not permitted" for a
// check the ACL user may not run, "-" for one not tried.
func printNodeTable(w io.Writer, nodes []nodeReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tSLOTS\tTCP\tTLS\tAUTH\tPING\tLAG\tSLOT MAP")
	for _, r := range sortedNodes(nodes) {
		tcp := fmt.Sprintf("%.1fms", r.TCPMillis)
		if r.TCPError != "" {
			tcp = "FAIL"
		}
		tlsCol := r.TLS
		if r.TLS != "ok" && r.TLS != "off" && r.TLS != "not tried" {
			tlsCol = "FAIL"
		}
		auth := r.Auth
		if auth != "ok" && auth != "not tried" {
			auth = "FAIL"
		}
		ping := r.Ping
		switch {
		case r.Ping == "ok":
			ping = fmt.Sprintf("%.2fms", r.PingMillis)
		case r.Ping == "not tried":
			ping = "-"
		case r.Ping != notPermitted:
			ping = "FAIL"
		}
		lag := "-"
		switch {
		case r.LagBytes != nil:
			lag = fmt.Sprintf("%dB", *r.LagBytes)
		case r.Role == topology.RoleReplica.String() && r.Ping != "not tried" && hasRefused(r, "INFO"):
			lag = notPermitted
		case r.Role == topology.RoleReplica.String() && r.Ping != "not tried":
			lag = "unknown"
		}
		slotMap := r.SlotMap
		switch slotMap {
		case "agrees", "DIFFERS", notPermitted:
		case "not tried":
			slotMap = "-"
		default:
			slotMap = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Addr, r.Role, r.Slots, tcp, tlsCol, auth, ping, lag, slotMap)
	}
	tw.Flush()
}

// hasRefused reports whether a check starting with prefix was not permitted on r.
func hasRefused(r nodeReport, prefix string) bool {
	for _, p := range r.NotPermitted {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// String describes the certificate on one line.
func (c *certDoc) String() string {
	return fmt.Sprintf("subject %q, issuer %q, valid %s to %s, names %v", c.Subject, c.Issuer, c.NotBefore, c.NotAfter, c.Names)
}
