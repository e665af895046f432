package deadlettertest_test

import (
	"context"
	"sync"
	"testing"

	awsdl "github.com/troupehq/troupe/aws/deadletter"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/deadlettertest"
)

// memQueue is the smallest queue that should pass the suite: it keeps the
// SQS messages in memory.
type memQueue struct {
	mu     sync.Mutex
	bodies []string
}

func (q *memQueue) Send(ctx context.Context, dl consumers.DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, _, err := awsdl.EncodeMessage(dl, 0)
	if err != nil {
		return err
	}
	q.mu.Lock()
	q.bodies = append(q.bodies, body)
	q.mu.Unlock()
	return nil
}

// TestSuite runs the suite on memQueue: the suite itself holds together.
func TestSuite(t *testing.T) {
	deadlettertest.Run(t, func(t *testing.T) deadlettertest.QueueUnderTest {
		q := &memQueue{}
		return deadlettertest.QueueUnderTest{
			Queue: q,
			Read: func(t *testing.T, want int) []consumers.DeadLetter {
				q.mu.Lock()
				defer q.mu.Unlock()
				var out []consumers.DeadLetter
				for _, b := range q.bodies {
					dl, err := awsdl.DecodeMessage(b, nil)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, dl)
				}
				if len(out) < want {
					t.Fatalf("%d stored, want %d", len(out), want)
				}
				return out
			},
		}
	})
}

func TestJSONEqual(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[1,2]}`, "{ \"b\": [1, 2],\n \"a\": 1.0 }", true},
		{`{"a":1}`, `{"a":2}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`{`, `{`, false},
	} {
		if got := deadlettertest.JSONEqual([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("JSONEqual(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
