package tracer

import (
	"slices"
	"strings"
	"testing"
)

// A synthetic /proc/kallsyms: out of order like modules make it, with data
// symbols, an alias, __pfx_ padding symbols and a module symbol.
const syntheticKallsyms = `ffffffff81000000 T _stext
ffffffff81abb4e0 T __pfx_cap_capable
ffffffff81abb4f0 T cap_capable
ffffffff81abb700 T cap_vm_enough_memory
ffffffff81ac0750 T security_vm_enough_memory_mm
ffffffff81ac0700 t security_capable
ffffffff81ac0700 t security_capable_alias
ffffffff82000000 D init_task
ffffffff82000100 b some_bss
ffffffff81b00000 W weak_func
ffffffffc0201000 t tun_chr_open	[tun]
ffffffffc0202000 t tun_chr_close	[tun]
`

func TestKernelSymbolsResolve(t *testing.T) {
	syms, err := ParseKernelSymbols(strings.NewReader(syntheticKallsyms))
	if err != nil {
		t.Fatal(err)
	}
	// Text symbols only, the alias folded into one.
	if got, want := syms.Len(), 9; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}

	tests := []struct {
		name   string
		addr   uint64
		want   string
		wantOK bool
	}{
		{"below every symbol", 0xffffffff80000000, "", false},
		{"exact start", 0xffffffff81abb4f0, "cap_capable", true},
		{"inside function", 0xffffffff81abb5a3, "cap_capable", true},
		{"padding before function", 0xffffffff81abb4e8, "__pfx_cap_capable", true},
		{"last byte before next symbol", 0xffffffff81abb6ff, "cap_capable", true},
		{"alias resolves to first name", 0xffffffff81ac0710, "security_capable", true},
		{"weak symbol", 0xffffffff81b00010, "weak_func", true},
		{"data symbols ignored", 0xffffffff82000050, "weak_func", true},
		{"module suffix stripped", 0xffffffffc0201010, "tun_chr_open", true},
		{"past the last symbol", 0xffffffffc0203000, "tun_chr_close", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := syms.Resolve(tt.addr)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Resolve(%#x) = %q, %v; want %q, %v", tt.addr, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestKernelSymbolsSymbolize(t *testing.T) {
	syms, err := ParseKernelSymbols(strings.NewReader(syntheticKallsyms))
	if err != nil {
		t.Fatal(err)
	}
	stack := []uint64{
		0xffffffff81abb540, // inside cap_capable
		0xffffffff81abb720, // inside cap_vm_enough_memory
		// Return address right after a call ending security_capable: it is
		// the start of the next symbol, but the frame is security_capable's.
		0xffffffff81ac0750,
		0x1000, // nothing covers it
	}
	want := []string{"cap_capable", "cap_vm_enough_memory", "security_capable", "0x1000"}
	if got := syms.Symbolize(stack); !slices.Equal(got, want) {
		t.Errorf("Symbolize() = %q, want %q", got, want)
	}
}

func TestParseKernelSymbolsErrors(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"missing name", "ffffffff81000000 T\n"},
		{"bad address", "zzzz T foo\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseKernelSymbols(strings.NewReader(tt.text)); err == nil {
				t.Errorf("ParseKernelSymbols(%q) succeeded, want an error", tt.text)
			}
		})
	}
}

func TestParseKernelSymbolsHiddenAddresses(t *testing.T) {
	// Without privilege /proc/kallsyms shows zero addresses: nothing resolves.
	syms, err := ParseKernelSymbols(strings.NewReader("0000000000000000 T cap_capable\n0000000000000000 T ns_capable\n"))
	if err != nil {
		t.Fatal(err)
	}
	if syms.Len() != 0 {
		t.Errorf("Len() = %d, want 0", syms.Len())
	}
	if got := syms.Symbolize([]uint64{0xffffffff81abb540}); !slices.Equal(got, []string{"0xffffffff81abb540"}) {
		t.Errorf("Symbolize() = %q, want the address in hex", got)
	}
}
