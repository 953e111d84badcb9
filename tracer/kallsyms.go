package tracer

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// KernelSymbols resolves kernel text addresses to function names, from the
// format of /proc/kallsyms ("ffffffff81abb4f0 T cap_capable", module symbols
// followed by "\t[module]").
type KernelSymbols struct {
	// syms holds text symbols sorted by address; of several at one address
	// the first by name is kept.
	syms []kernelSymbol
}

type kernelSymbol struct {
	addr uint64
	name string
}

// LoadKernelSymbols reads /proc/kallsyms. Addresses read as zero unless the
// reader may see them (root, kptr_restrict), and then nothing resolves.
func LoadKernelSymbols() (*KernelSymbols, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil, fmt.Errorf("read kernel symbols: %w", err)
	}
	defer f.Close()
	return ParseKernelSymbols(f)
}

// ParseKernelSymbols reads symbols in the format of /proc/kallsyms. Only
// text symbols (types t, T, w, W) are kept: stacks hold code addresses only.
func ParseKernelSymbols(r io.Reader) (*KernelSymbols, error) {
	var syms []kernelSymbol
	scanner := bufio.NewScanner(r)
	for line := 1; scanner.Scan(); line++ {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 {
			continue
		}
		// A module name, "[module]", may follow as a fourth field; it is dropped.
		if len(fields) < 3 {
			return nil, fmt.Errorf("parse kernel symbols: line %d: want address, type and name, got %q", line, scanner.Text())
		}
		switch fields[1] {
		case "t", "T", "w", "W":
		default:
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("parse kernel symbols: line %d: %w", line, err)
		}
		if addr == 0 {
			continue
		}
		syms = append(syms, kernelSymbol{addr: addr, name: fields[2]})
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("parse kernel symbols: %w", err)
	}
	slices.SortFunc(syms, func(a, b kernelSymbol) int {
		return cmp.Or(cmp.Compare(a.addr, b.addr), strings.Compare(a.name, b.name))
	})
	syms = slices.CompactFunc(syms, func(a, b kernelSymbol) bool { return a.addr == b.addr })
	return &KernelSymbols{syms: syms}, nil
}

// Len is the number of text symbols known.
func (k *KernelSymbols) Len() int { return len(k.syms) }

// Resolve returns the name of the function containing addr: the symbol with
// the greatest address not above it. ok is false when addr lies below every
// symbol.
func (k *KernelSymbols) Resolve(addr uint64) (name string, ok bool) {
	// Index of the first symbol above addr; the one before it contains addr.
	i, found := slices.BinarySearchFunc(k.syms, addr, func(s kernelSymbol, a uint64) int {
		return cmp.Compare(s.addr, a)
	})
	if found {
		return k.syms[i].name, true
	}
	if i == 0 {
		return "", false
	}
	return k.syms[i-1].name, true
}

// Symbolize names every address of a stack, innermost first; an address no
// symbol covers is written in hex. Stack entries are return addresses, which
// point past their call instruction and so, after a call that ends a
// function, at the next symbol: each is looked up one byte lower.
func (k *KernelSymbols) Symbolize(stack []uint64) []string {
	frames := make([]string, 0, len(stack))
	for _, addr := range stack {
		if name, ok := k.Resolve(addr - 1); addr != 0 && ok {
			frames = append(frames, name)
		} else {
			frames = append(frames, fmt.Sprintf("0x%x", addr))
		}
	}
	return frames
}
