// Command ingest is the Lambda behind the stack's HTTP ingest API: other
// systems POST CloudEvents to it (IAM-authorized), and it publishes them to
// the bus and the stream, as `troupe dev` does at /cloudevents. Built as
// dist/lambdas/ingest/bootstrap by `make lambdas`.
package main

import "github.com/troupehq/troupe/aws/function/ingest"

func main() { ingest.Start() }
