package audit

// Report is the result of an audit.
type Report struct {
	// WorkingDir is the project directory; finding locations are relative
	// to it.
	WorkingDir string `json:"working_dir"`
	// Files are the compose files loaded, in merge order, then the files
	// they include or extend.
	Files []string `json:"files"`
	// Services are the services audited, every profile's included.
	Services []string `json:"services"`
	// Findings are the findings no x-capprof entry accepts, most severe first.
	Findings []Finding `json:"findings"`
	// Suppressed are the findings an x-capprof entry accepts, with its reason.
	Suppressed []Finding `json:"suppressed"`
}

// Failing returns the findings at or above threshold; with threshold None,
// none.
func (r *Report) Failing(threshold Severity) []Finding {
	if threshold == None {
		return nil
	}
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity >= threshold {
			out = append(out, f)
		}
	}
	return out
}
