// Package ingest runs the CloudEvents ingest of `troupe dev` as an AWS Lambda
// function behind an API Gateway HTTP API: other systems POST CloudEvents to
// it, and it publishes them to the bus and the stream. The stack's ingest
// function (cmd/ingest) is one call:
//
//	func main() { ingest.Start() }
//
// It is a package of its own so that a consumer's function, which imports
// package function, does not link the HTTP ingest and pay for its
// initialization at every cold start.
package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/function"
	localingest "github.com/troupehq/troupe/local/ingest"
)

// Start runs the ingest as this process's Lambda handler, publishing to the
// bus and the stream named by TROUPE_BUS and TROUPE_STREAM. It does not
// return. A set-up error is logged and exits the process: Lambda reports it
// as an init error.
func Start() {
	h, err := newHandler(context.Background(), function.EnvFromOS())
	if err != nil {
		slog.Error("ingest set-up failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(HTTPHandler(h))
}

func newHandler(ctx context.Context, env function.Env) (http.Handler, error) {
	if env.Bus == "" || env.Stream == "" {
		return nil, errors.New("ingest: set " + function.EnvBus + " and " + function.EnvStream + " in the function's environment")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	v := function.SampleSchemas{}
	pub, err := function.NewPublisher(awsCfg, env, v)
	if err != nil {
		return nil, err
	}
	return localingest.NewCloudEvents(localingest.CloudEventsConfig{Publisher: pub, Validator: v}), nil
}

// HTTPHandler serves an http.Handler to API Gateway HTTP API (payload
// format 2.0) requests.
func HTTPHandler(h http.Handler) func(context.Context, awsevents.APIGatewayV2HTTPRequest) (awsevents.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, in awsevents.APIGatewayV2HTTPRequest) (awsevents.APIGatewayV2HTTPResponse, error) {
		body := []byte(in.Body)
		if in.IsBase64Encoded {
			var err error
			if body, err = base64.StdEncoding.DecodeString(in.Body); err != nil {
				return awsevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "body: invalid base64"}, nil
			}
		}
		path := in.RawPath
		if in.RawQueryString != "" {
			path += "?" + in.RawQueryString
		}
		req, err := http.NewRequestWithContext(ctx, in.RequestContext.HTTP.Method, path, bytes.NewReader(body))
		if err != nil {
			return awsevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: err.Error()}, nil
		}
		for k, v := range in.Headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := awsevents.APIGatewayV2HTTPResponse{StatusCode: rec.Code, Headers: map[string]string{}, Body: rec.Body.String()}
		for k, v := range rec.Header() {
			out.Headers[k] = strings.Join(v, ",")
		}
		return out, nil
	}
}
