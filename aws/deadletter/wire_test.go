package deadletter_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/deadlettertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the fixtures")

// goldens are the dead letters behind testdata/deadletter-v1-*.json.
func goldens() map[string]consumers.DeadLetter {
	bus := deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-000000000001")
	stream := deadlettertest.DeadLetter("inventory", "0190a000-0000-7000-8000-000000000002")
	stream.Reason = "unknown-version"
	stream.Origin = consumers.Origin{Source: "stream", Stream: "orders", Shard: "shardId-000000000003",
		SequenceNumber: "49590338271490256608559692538361571095921575989136588898"}
	return map[string]consumers.DeadLetter{
		"deadletter-v1-bus.json":    bus,
		"deadletter-v1-stream.json": stream,
		"deadletter-v1-raw-json.json": {
			Raw: json.RawMessage(`{"detail-type":"x","foo":[1,2,3]}`), Consumer: "shipping", Reason: "decode",
			Error: "decode: missing specversion", FirstFailure: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			LastFailure: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), Origin: consumers.Origin{Source: "bus", Rule: "shipping-all"},
		},
		"deadletter-v1-raw-bytes.json": {
			Raw: json.RawMessage{0xff, 0xfe, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n', 0x00}, Consumer: "shipping", Reason: "decode",
			Error: "decode: invalid character 'ÿ' looking for beginning of value", FirstFailure: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			LastFailure: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
			Origin:      consumers.Origin{Source: "stream", Stream: "orders", Shard: "shardId-000000000000", SequenceNumber: "7"},
		},
	}
}

// TestGolden: each troupe dead letter in testdata/ decodes to its fixture,
// and encodes back JSON-equal to the file.
func TestGolden(t *testing.T) {
	t.Parallel()
	for name, want := range goldens() {
		path := filepath.Join("testdata", name)
		if *update {
			body, _, err := deadletter.EncodeMessage(want, 0)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			json.Indent(&pretty, []byte(body), "", "  ")
			pretty.WriteByte('\n')
			if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGolden -update to write it)", err)
		}
		got, err := deadletter.DecodeMessage(string(file), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		deadlettertest.Equal(t, got, want)
		body, _, err := deadletter.EncodeMessage(got, 0)
		if err != nil {
			t.Fatalf("%s: re-encode: %v", name, err)
		}
		if !deadlettertest.JSONEqual([]byte(body), file) {
			t.Errorf("%s: re-encoded body differs:\n got %s\nfile %s", name, body, file)
		}
	}
}

// TestForeignShapes: the three AWS shapes a DLQ can hold are told apart
// from troupe's: ErrNotDeadLetter.
func TestForeignShapes(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/foreign/*.json")
	if len(files) != 3 {
		t.Fatalf("found %d foreign samples, want 3", len(files))
	}
	for _, f := range append(files, "not json at all", `[1,2]`, `null`) {
		body := f
		if b, err := os.ReadFile(f); err == nil {
			body = string(b)
		}
		if _, err := deadletter.DecodeMessage(body, nil); !errors.Is(err, deadletter.ErrNotDeadLetter) {
			t.Errorf("%s: %v, want ErrNotDeadLetter", f, err)
		}
	}
}

// TestMalformed: a troupe body that is wrong fails with an error that is
// not ErrNotDeadLetter (it is troupe's; it is broken).
func TestMalformed(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/malformed/*")
	if len(files) == 0 {
		t.Fatal("no malformed samples")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = deadletter.DecodeMessage(string(b), nil)
		if err == nil || errors.Is(err, deadletter.ErrNotDeadLetter) {
			t.Errorf("%s: %v, want an error other than ErrNotDeadLetter", filepath.Base(f), err)
		} else {
			t.Logf("%s: %v", filepath.Base(f), err)
		}
	}
	// An encoding this version does not know.
	_, err := deadletter.DecodeMessage(`{}`, map[string]types.MessageAttributeValue{
		deadletter.AttrEncoding: {DataType: aws.String("String"), StringValue: aws.String("zstd")},
	})
	if err == nil || !strings.Contains(err.Error(), "zstd") {
		t.Errorf("unknown encoding: %v", err)
	}
}

// TestCompression: a message over the limit is gzipped only then, fits,
// decodes with the attribute and without it.
func TestCompression(t *testing.T) {
	t.Parallel()
	dl := deadlettertest.DeadLetter("billing", "0190a000-0000-7000-8000-000000000001")
	dl.Envelope.Data = []byte(`{"pad":"` + strings.Repeat("abc", 2000) + `"}`)
	body, attrs, err := deadletter.EncodeMessage(dl, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := attrs[deadletter.AttrEncoding]; ok || !strings.HasPrefix(body, "{") {
		t.Fatalf("compressed under the limit")
	}
	plain := deadletter.MessageSize(body, attrs)
	if want := len(body) + attrBytes(attrs); plain != want {
		t.Errorf("MessageSize = %d, want %d", plain, want)
	}
	// Exactly at the limit: as is. One byte below it: gzipped.
	if b, a, err := deadletter.EncodeMessage(dl, plain); err != nil || b != body || len(a) != len(attrs) {
		t.Errorf("at the limit: changed (%v)", err)
	}
	zbody, zattrs, err := deadletter.EncodeMessage(dl, plain-1)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(zattrs[deadletter.AttrEncoding].StringValue) != deadletter.EncodingGzip || !strings.HasPrefix(zbody, "H4sI") {
		t.Fatalf("over the limit: not gzipped: %.40s %v", zbody, zattrs)
	}
	if deadletter.MessageSize(zbody, zattrs) > plain-1 {
		t.Errorf("gzipped message %d bytes over the limit %d", deadletter.MessageSize(zbody, zattrs), plain-1)
	}
	for _, a := range []map[string]types.MessageAttributeValue{zattrs, nil} {
		got, err := deadletter.DecodeMessage(zbody, a)
		if err != nil {
			t.Fatal(err)
		}
		deadlettertest.Equal(t, got, dl)
	}
	// Too large even gzipped.
	_, _, err = deadletter.EncodeMessage(dl, 400)
	if !errors.Is(err, consumers.ErrTooLarge) || !strings.Contains(err.Error(), "at most 400") {
		t.Errorf("over a 400-byte limit: %v, want ErrTooLarge stating the limit", err)
	}
	t.Log(err)
}

func attrBytes(attrs map[string]types.MessageAttributeValue) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
	}
	return n
}

// TestSQSCharacters: characters SQS refuses never reach the body or an
// attribute as they are, and still come back.
func TestSQSCharacters(t *testing.T) {
	t.Parallel()
	dl := deadlettertest.DeadLetter("bill\x01ing", "0190a000-0000-7000-8000-000000000001")
	dl.Error = "odd: \uFFFF \uFFFE \x00 end"
	dl.Raw = json.RawMessage("\"\uFFFF\"")
	body, attrs, err := deadletter.EncodeMessage(dl, 0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(body, "\uFFFE\uFFFF\x00\x01") {
		t.Errorf("body holds a character SQS refuses: %q", body)
	}
	if _, ok := attrs[deadletter.AttrConsumer]; ok {
		t.Errorf("attribute %s holds a control character", deadletter.AttrConsumer)
	}
	got, err := deadletter.DecodeMessage(body, attrs)
	if err != nil {
		t.Fatal(err)
	}
	deadlettertest.Equal(t, got, dl)
}

func TestEncodeNeedsConsumer(t *testing.T) {
	t.Parallel()
	dl := deadlettertest.DeadLetter("", "0190a000-0000-7000-8000-000000000001")
	if _, _, err := deadletter.EncodeMessage(dl, 0); err == nil || !strings.Contains(err.Error(), "Consumer") {
		t.Errorf("EncodeMessage without a consumer: %v", err)
	}
}

// FuzzDecodeMessage: DecodeMessage never panics; what it accepts encodes
// and decodes back to the same dead letter.
func FuzzDecodeMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	more, _ := filepath.Glob("testdata/*/*")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), false)
	}
	big := deadlettertest.DeadLetter("billing", "x")
	big.Envelope.Data = []byte(`{"pad":"` + strings.Repeat("abc", 500) + `"}`)
	zbody, _, err := deadletter.EncodeMessage(big, 1024)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(zbody, true)
	f.Add("H4sI"+base64.StdEncoding.EncodeToString([]byte("junk")), false)
	f.Add(`{"troupe":"deadletter/v1","raw":null,"rawBase64":null,"envelope":null}`, false)

	f.Fuzz(func(t *testing.T, body string, gzipped bool) {
		var attrs map[string]types.MessageAttributeValue
		if gzipped {
			attrs = map[string]types.MessageAttributeValue{
				deadletter.AttrEncoding: {DataType: aws.String("String"), StringValue: aws.String(deadletter.EncodingGzip)},
			}
		}
		dl, err := deadletter.DecodeMessage(body, attrs)
		if err != nil {
			return
		}
		body2, attrs2, err := deadletter.EncodeMessage(dl, 0)
		if err != nil {
			return // e.g. no consumer, a time JSON cannot hold, too large
		}
		dl2, err := deadletter.DecodeMessage(body2, attrs2)
		if err != nil {
			t.Fatalf("decode of an encoded dead letter: %v\n%s", err, body2)
		}
		if !bytes.Equal(dl.Raw, dl2.Raw) {
			t.Fatalf("Raw %q became %q", dl.Raw, dl2.Raw)
		}
		e1, _ := json.Marshal(dl.Envelope)
		e2, _ := json.Marshal(dl2.Envelope)
		if !bytes.Equal(e1, e2) && !deadlettertest.JSONEqual(e1, e2) {
			t.Fatalf("envelope %s became %s", e1, e2)
		}
		if !dl.FirstFailure.Equal(dl2.FirstFailure) || !dl.LastFailure.Equal(dl2.LastFailure) {
			t.Fatalf("times changed: %v %v -> %v %v", dl.FirstFailure, dl.LastFailure, dl2.FirstFailure, dl2.LastFailure)
		}
		dl.Envelope, dl2.Envelope, dl.Raw, dl2.Raw = nil, nil, nil, nil
		dl.FirstFailure, dl2.FirstFailure, dl.LastFailure, dl2.LastFailure = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(dl, dl2) {
			t.Fatalf("dead letter changed:\n%+v\n%+v", dl, dl2)
		}
	})
}
