package profiles

import "testing"

// BenchmarkEmit measures deciding a policy and writing all three artifacts
// for one service, as capprof does once per profile.
func BenchmarkEmit(b *testing.B) {
	rec := tunRecording()
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(true)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.ComposeOverride(); err != nil {
			b.Fatal(err)
		}
		js, err := p.SeccompProfile(rec.Arch)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (Report{Tool: "capprof", Services: []ServiceReport{NewServiceReport(rec, p, nil)}}).JSON(); err != nil {
			b.Fatal(err)
		}
		_ = js
	}
}

// BenchmarkValidateSeccomp measures compiling a profile with libseccomp (or
// the structural check without cgo).
func BenchmarkValidateSeccomp(b *testing.B) {
	rec := tunRecording()
	p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		b.Fatal(err)
	}
	js, err := p.SeccompProfile(rec.Arch)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = ValidateSeccomp(js)
	}
}
