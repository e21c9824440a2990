package web_test

import (
	"fmt"
	"strconv"
	"strings"
)

// parseYAML reads the block-style subset of YAML that docs/openapi.yaml is
// written in: mappings, sequences (including "- key: value" items), plain,
// quoted and block (| and >) scalars, and the flow forms [a, b], [] and {}.
// Mappings become map[string]any, sequences []any and scalars string. It is
// a test helper, not a YAML library: the module has no YAML dependency, and
// the document's shape is all the tests need. Anything it does not
// understand is an error, so a malformed document fails the tests.
func parseYAML(src string) (any, error) {
	p := &yamlParser{lines: strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")}
	ind, _, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("empty document")
	}
	v, err := p.node(ind)
	if err != nil {
		return nil, err
	}
	if _, text, ok := p.peek(); ok {
		return nil, fmt.Errorf("line %d: unexpected %q (bad indentation?)", p.i+1, text)
	}
	return v, nil
}

type yamlParser struct {
	lines []string
	i     int
}

// peek returns the indentation and text of the next line that is neither
// blank nor a comment, without consuming it.
func (p *yamlParser) peek() (indent int, text string, ok bool) {
	for ; p.i < len(p.lines); p.i++ {
		l := strings.TrimRight(p.lines[p.i], " \t")
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return len(l) - len(t), t, true
	}
	return 0, "", false
}

func (p *yamlParser) errf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func isSeqItem(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// node parses the mapping or sequence whose lines start at column ind.
func (p *yamlParser) node(ind int) (any, error) {
	_, text, _ := p.peek()
	if isSeqItem(text) {
		return p.seq(ind)
	}
	return p.mapping(ind, map[string]any{})
}

func (p *yamlParser) mapping(ind int, m map[string]any) (map[string]any, error) {
	for {
		i, text, ok := p.peek()
		if !ok || i < ind || (i == ind && isSeqItem(text)) {
			return m, nil
		}
		if i > ind {
			return nil, p.errf("unexpected indentation %d, want %d", i, ind)
		}
		key, rest, ok := splitKey(text)
		if !ok {
			return nil, p.errf("want \"key: value\", got %q", text)
		}
		if _, dup := m[key]; dup {
			return nil, p.errf("duplicate key %q", key)
		}
		p.i++
		v, err := p.value(rest, ind)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
}

func (p *yamlParser) seq(ind int) ([]any, error) {
	out := []any{}
	for {
		i, text, ok := p.peek()
		if !ok || i != ind || !isSeqItem(text) {
			if ok && i > ind {
				return nil, p.errf("unexpected indentation %d in a sequence at %d", i, ind)
			}
			return out, nil
		}
		item := strings.TrimPrefix(strings.TrimPrefix(text, "-"), " ")
		p.i++
		switch key, rest, isKey := splitKey(item); {
		case item == "":
			ni, _, ok := p.peek()
			if !ok || ni <= ind {
				return nil, p.errf("empty sequence item")
			}
			v, err := p.node(ni)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		case isKey:
			// "- key: value": a mapping whose keys line up with key.
			first, err := p.value(rest, ind+2)
			if err != nil {
				return nil, err
			}
			m, err := p.mapping(ind+2, map[string]any{key: first})
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		default:
			v, err := p.scalar(item)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
}

// value parses what follows "key:" on a line of indentation ind.
func (p *yamlParser) value(rest string, ind int) (any, error) {
	switch {
	case rest == "":
		ni, text, ok := p.peek()
		if ok && (ni > ind || (ni == ind && isSeqItem(text))) {
			return p.node(ni)
		}
		return "", nil
	case rest == "|" || rest == "|-" || rest == ">" || rest == ">-":
		return p.block(rest[0] == '>', ind), nil
	}
	return p.scalar(rest)
}

// block reads a block scalar: the following lines indented more than ind,
// blank lines included.
func (p *yamlParser) block(fold bool, ind int) string {
	var lines []string
	blockInd := -1
	for ; p.i < len(p.lines); p.i++ {
		l := strings.TrimRight(p.lines[p.i], " \t")
		t := strings.TrimLeft(l, " ")
		if t == "" {
			lines = append(lines, "")
			continue
		}
		i := len(l) - len(t)
		if i <= ind {
			break
		}
		if blockInd < 0 {
			blockInd = i
		}
		lines = append(lines, l[min(blockInd, i):])
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if fold {
		return strings.Join(lines, " ")
	}
	return strings.Join(lines, "\n")
}

func (p *yamlParser) scalar(s string) (any, error) {
	switch {
	case strings.HasPrefix(s, `"`):
		v, err := strconv.Unquote(s)
		if err != nil {
			return nil, p.errf("bad double-quoted scalar %s: %v", s, err)
		}
		return v, nil
	case strings.HasPrefix(s, "'"):
		if len(s) < 2 || !strings.HasSuffix(s, "'") {
			return nil, p.errf("bad single-quoted scalar %s", s)
		}
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	case s == "{}":
		return map[string]any{}, nil
	case strings.HasPrefix(s, "{"):
		return nil, p.errf("flow mappings are not supported: %s", s)
	case strings.HasPrefix(s, "["):
		if !strings.HasSuffix(s, "]") {
			return nil, p.errf("bad flow sequence %s", s)
		}
		out := []any{}
		if inner := strings.TrimSpace(s[1 : len(s)-1]); inner != "" {
			for _, f := range strings.Split(inner, ",") {
				v, err := p.scalar(strings.TrimSpace(f))
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
		return out, nil
	case strings.Contains(s, ": ") || strings.Contains(s, " #"):
		return nil, p.errf("plain scalar %q holds \": \" or \" #\"; quote it", s)
	}
	return s, nil
}

// splitKey splits "key: rest" or "key:"; the key may be quoted.
func splitKey(text string) (key, rest string, ok bool) {
	if strings.HasPrefix(text, `"`) || strings.HasPrefix(text, "'") {
		q := text[0]
		end := strings.IndexByte(text[1:], q)
		if end < 0 {
			return "", "", false
		}
		key, after := text[1:1+end], text[2+end:]
		if after == ":" {
			return key, "", true
		}
		if strings.HasPrefix(after, ": ") {
			return key, strings.TrimSpace(after[2:]), true
		}
		return "", "", false
	}
	if strings.HasPrefix(text, "[") || strings.HasPrefix(text, "{") {
		return "", "", false
	}
	if i := strings.Index(text, ": "); i > 0 {
		return text[:i], strings.TrimSpace(text[i+2:]), true
	}
	if strings.HasSuffix(text, ":") && len(text) > 1 {
		return text[:len(text)-1], "", true
	}
	return "", "", false
}
