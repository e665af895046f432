package awstest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/uuid"
)

// Region is the region every test resource lives in.
const Region = "us-east-1"

// Config returns an aws.Config for the emulator: static credentials
// (test/test), region us-east-1, BaseEndpoint set to the emulator's URL.
//
// To put a RoundTripper such as a FaultInjector in front of the emulator, set
// it per service client (o.HTTPClient = &http.Client{Transport: inj}), not
// with config.WithHTTPClient: with AWS_CA_BUNDLE set, LoadDefaultConfig
// refuses a plain *http.Client.
func Config(t testing.TB) aws.Config {
	t.Helper()
	if endpoint == "" {
		t.Fatal("awstest: no emulator: call awstest.Main(m) from this package's TestMain")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		// Keep a developer's ~/.aws files out of the tests.
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatalf("awstest: load AWS config: %v", err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	// Set after loading: with AWS_CA_BUNDLE set, LoadDefaultConfig refuses a
	// plain client, but a loaded config takes one.
	cfg.HTTPClient = &http.Client{Transport: Transport}
	return cfg
}

// Name returns a resource name unique to this call: the prefix (reduced to
// letters, digits, '-' and '_', at most 24 characters) and 16 random hex
// digits. It fits every name rule of EventBridge (bus, rule), SQS and
// Kinesis, so tests can run in parallel against one emulator without reset.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range prefix {
		if b.Len() >= 24 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	p := b.String()
	if p == "" {
		p = "test"
	}
	id := strings.ReplaceAll(uuid.NewString(), "-", "")
	return p + "-" + id[:16]
}
