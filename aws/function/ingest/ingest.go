package function

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

	"github.com/troupehq/troupe/local/ingest"
)

// StartIngest runs the CloudEvents ingest of `troupe dev` as a Lambda behind
// an API Gateway HTTP API: the same handler, publishing to the bus and the
// stream named by TROUPE_BUS and TROUPE_STREAM. It does not return.
func StartIngest() {
	h, err := newIngest(context.Background(), EnvFromOS())
	if err != nil {
		slog.Error("ingest set-up failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(HTTPHandler(h))
}

func newIngest(ctx context.Context, env Env) (http.Handler, error) {
	if env.Bus == "" || env.Stream == "" {
		return nil, errors.New("ingest: set " + EnvBus + " and " + EnvStream + " in the function's environment")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := newPublisher(awsCfg, env, sampleSchemas{})
	if err != nil {
		return nil, err
	}
	return ingest.NewCloudEvents(ingest.CloudEventsConfig{Publisher: pub, Validator: sampleSchemas{}}), nil
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
