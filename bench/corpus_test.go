package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/events/pattern"
)

// corpusEnv names the directory of event-pattern templates TestCorpus runs.
// The templates are localstack's tests/aws/services/events/event_pattern_templates,
// recorded against AWS's TestEventPattern; they are not ours, so they stay
// outside the repository.
const corpusEnv = "TROUPE_PATTERN_CORPUS"

func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(corpusEnv)
	if dir == "" {
		t.Skipf("%s is not set; set it to a directory of localstack event-pattern templates "+
			"(tests/aws/services/events/event_pattern_templates) to run them", corpusEnv)
	}
	return dir
}

// TestCorpus runs every template in $TROUPE_PATTERN_CORPUS: NAME.json5
// matches, NAME_NEG.json5 does not, NAME_EXC.json5 is rejected by Compile.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json5"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("%s=%s: no *.json5 templates there", corpusEnv, dir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json5")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			event, src := loadTemplate(t, file)
			p, err := pattern.Compile(src)
			if strings.HasSuffix(name, "_EXC") {
				if err == nil {
					t.Fatalf("Compile(%s) succeeded, want an error", src)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile(%s): %v", src, err)
			}
			want := !strings.HasSuffix(name, "_NEG")
			got, err := p.Match(event)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != want {
				t.Fatalf("pattern %s\nevent %s\nmatch = %v, want %v", src, event, got, want)
			}
		})
	}
}

// TestCorpusRepeatedKey runs the one case the corpus keeps as a pair of
// plain JSON files (localstack's test_event_pattern_with_multi_key): a
// pattern with a repeated key, which AWS matched.
func TestCorpusRepeatedKey(t *testing.T) {
	dir := corpusDir(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s=%s: %v", corpusEnv, dir, err)
		}
		return b
	}
	event := read("complex_multi_key_event.json")
	src := read("complex_multi_key_event_pattern.json")
	p, err := pattern.Compile(src)
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	got, err := p.Match(event)
	if err != nil || !got {
		t.Fatalf("Match = %v, %v; want true", got, err)
	}
}

// loadTemplate reads a JSON5 template and returns its event and pattern as
// plain JSON.
func loadTemplate(t *testing.T, file string) (event, src []byte) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Event        json.RawMessage
		EventPattern json.RawMessage
	}
	if err := json.NewDecoder(bytes.NewReader(json5ToJSON(raw))).Decode(&tmpl); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if tmpl.Event == nil || tmpl.EventPattern == nil {
		t.Fatalf("%s: want an Event and an EventPattern", file)
	}
	return tmpl.Event, tmpl.EventPattern
}

// json5ToJSON handles the JSON5 the templates use: // and /* */ comments and
// trailing commas.
func json5ToJSON(in []byte) []byte {
	var out []byte
	inStr := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(in) {
				out = append(out, in[i+1])
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out = append(out, c)
		case c == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(in) && in[i+1] == '*':
			end := bytes.Index(in[i+2:], []byte("*/"))
			if end < 0 {
				return out
			}
			i += end + 3
		case c == ']' || c == '}':
			// drop a trailing comma before the closer
			j := len(out) - 1
			for j >= 0 && (out[j] == ' ' || out[j] == '\n' || out[j] == '\t' || out[j] == '\r') {
				j--
			}
			if j >= 0 && out[j] == ',' {
				out = append(out[:j], out[j+1:]...)
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}
