package local

import (
	"slices"
	"testing"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/topology"
)

func TestStreamFilterSeesRecordsAsLambdaDoes(t *testing.T) {
	c := topology.Consumer{Stream: topology.OnStream(`{"partitionKey":[{"prefix":"o-"}],"data":{"type":["orders.OrderPlaced"]}}`)}
	batch := []stream.Record{
		{SequenceNumber: "1", PartitionKey: "o-1", Data: []byte(`{"type":"orders.OrderPlaced"}`)},
		{SequenceNumber: "2", PartitionKey: "o-2", Data: []byte(`{"type":"orders.OrderCancelled"}`)},
		{SequenceNumber: "3", PartitionKey: "x-3", Data: []byte(`{"type":"orders.OrderPlaced"}`)},
		{SequenceNumber: "4", PartitionKey: "o-4", Data: []byte("not json")},
	}
	var got []string
	for _, r := range filter(c, batch) {
		got = append(got, r.SequenceNumber)
	}
	if !slices.Equal(got, []string{"1"}) {
		t.Fatalf("kept %v, want [1]", got)
	}
	if all := filter(topology.Consumer{Stream: topology.OnStream("")}, batch); len(all) != 4 {
		t.Fatalf("no filter kept %d of 4", len(all))
	}
}

func TestResumeAfterFailures(t *testing.T) {
	batch := []stream.Record{{SequenceNumber: "5"}, {SequenceNumber: "6"}, {SequenceNumber: "7"}}
	if next, done := resumeAfter("4", batch, nil); next != "7" || !done {
		t.Fatalf("no failure: %s %v", next, done)
	}
	if next, done := resumeAfter("4", batch, []string{"7", "6"}); next != "5" || done {
		t.Fatalf("failures from 6: resume after 5, got %s %v", next, done)
	}
	if next, done := resumeAfter("4", batch, []string{"5"}); next != "4" || done {
		t.Fatalf("the first failed: stay at 4, got %s %v", next, done)
	}
}
