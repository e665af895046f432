package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// DefaultDist is where `make lambdas` (at the repository root) leaves each
// function's bootstrap, relative to infra/.
const DefaultDist = "../dist/lambdas"

// CodeSource gives the code of the function called name (a consumer's name,
// or IngestName): a directory holding its `bootstrap`.
type CodeSource func(name string) (awslambda.Code, error)

// FromDist takes each function's code from dir/<name>/bootstrap, as `make
// lambdas` builds it (linux/arm64, provided.al2023). A missing artifact is an
// error that says how to build it: a deploy never ships a placeholder.
func FromDist(dir string) CodeSource {
	return func(name string) (awslambda.Code, error) {
		d := filepath.Join(dir, name)
		if _, err := os.Stat(filepath.Join(d, "bootstrap")); err != nil {
			return nil, fmt.Errorf("function %s: no %s: run `make lambdas` at the repository root first (%w)", name, filepath.Join(d, "bootstrap"), err)
		}
		return awslambda.Code_FromAsset(jsii.String(d), nil), nil
	}
}

// Placeholder writes, under dir, a stand-in bootstrap per function (a shell
// script that fails every invocation) and uses it as the code. It exists so
// that tests synthesize the stack without cross-compiling the Lambdas; never
// deploy it. Each function's placeholder differs (it names the function), so
// asset hashes differ as real artifacts would.
func Placeholder(dir string) CodeSource {
	return func(name string) (awslambda.Code, error) {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		script := strings.Join([]string{
			"#!/bin/sh",
			"# troupe infra placeholder for " + name + ": build the real bootstrap with `make lambdas`.",
			"echo 'placeholder bootstrap for " + name + "' >&2",
			"exit 1",
			"",
		}, "\n")
		if err := os.WriteFile(filepath.Join(d, "bootstrap"), []byte(script), 0o755); err != nil {
			return nil, err
		}
		return awslambda.Code_FromAsset(jsii.String(d), nil), nil
	}
}
