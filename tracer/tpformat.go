package tracer

import "strings"

// formatHasField says whether a tracepoint format file (tracefs
// events/<group>/<name>/format) declares a field called field, e.g. in
// "\tfield:bool group_dead;\toffset:32;\tsize:1;\tsigned:0;".
func formatHasField(format, field string) bool {
	for line := range strings.Lines(format) {
		decl, _, ok := strings.Cut(strings.TrimSpace(line), ";")
		if !ok || !strings.HasPrefix(decl, "field:") {
			continue
		}
		words := strings.Fields(decl)
		if last := words[len(words)-1]; last == field || strings.HasPrefix(last, field+"[") {
			return true
		}
	}
	return false
}
