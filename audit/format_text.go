package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeText writes one line per finding, file:line:col first as compilers
// do so that editors and CI logs link it, then its why and fix indented;
// then the suppressed findings with the reason and place of their
// acceptance; then the summary. It adds nothing that changes between runs
// of the same project, so reports diff cleanly.
func writeText(w io.Writer, r *Report, opts FormatOptions) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.Findings {
		writeFindingLine(bw, r, f, opts)
		if f.Why != "" {
			fmt.Fprintf(bw, "    why: %s\n", f.Why)
		}
		if f.Fix != "" {
			fmt.Fprintf(bw, "    fix: %s\n", f.Fix)
		}
	}
	if len(r.Suppressed) > 0 {
		if len(r.Findings) > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("suppressed (accepted risk):\n")
		for _, f := range r.Suppressed {
			writeFindingLine(bw, r, f, opts)
			if a := f.Accepted; a != nil {
				fmt.Fprintf(bw, "    accepted at %s: %s\n", textLocation(r, a.Location, opts), a.Reason)
			}
		}
	}
	if len(r.Findings)+len(r.Suppressed) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString(Summary(r, opts) + "\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// writeFindingLine writes file:line:col: SEVERITY rule-id [service] message.
func writeFindingLine(w io.Writer, r *Report, f Finding, opts FormatOptions) {
	msg := f.Message
	if f.Indeterminate {
		msg = "indeterminate: " + msg
	}
	fmt.Fprintf(w, "%s: %s %s [%s] %s\n", textLocation(r, f.Location, opts), strings.ToUpper(f.Severity.String()), f.RuleID, f.Service, msg)
}

func textLocation(r *Report, l Location, opts FormatOptions) string {
	l.File = opts.displayPath(r, l.File)
	if l.File == "" {
		return "(unknown file)"
	}
	return l.String()
}

// Summary says in one line how many findings the report has by severity,
// how many were accepted, and which files were read, as the text format
// ends with; the CLI prints it when the report goes to a file.
func Summary(r *Report, opts FormatOptions) string {
	var bySeverity [High + 1]int
	indeterminate := 0
	for _, f := range r.Findings {
		if f.Severity >= None && f.Severity <= High {
			bySeverity[f.Severity]++
		}
		if f.Indeterminate {
			indeterminate++
		}
	}
	counts := fmt.Sprintf("%d high, %d medium, %d low", bySeverity[High], bySeverity[Medium], bySeverity[Low])
	if indeterminate > 0 {
		counts += fmt.Sprintf("; %d indeterminate", indeterminate)
	}
	files := make([]string, len(r.Files))
	for i, f := range r.Files {
		files[i] = opts.displayPath(r, f)
	}
	s := fmt.Sprintf("%s (%s), %d suppressed, %s", plural(len(r.Findings), "finding"), counts, len(r.Suppressed), plural(len(r.Services), "service"))
	if len(files) > 0 {
		s += fmt.Sprintf(", %s read: %s", plural(len(files), "file"), strings.Join(files, ", "))
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// writeRulesText lists id, severity and title in aligned columns.
func writeRulesText(w io.Writer, rules []Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}
