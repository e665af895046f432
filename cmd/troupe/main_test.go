package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/troupehq/troupe/internal/awstest"
)

// troupeBin is the CLI built once for the tests that run it as a user does.
var troupeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "troupe-cli")
	if err != nil {
		panic(err)
	}
	troupeBin = filepath.Join(dir, "troupe")
	if out, err := exec.Command("go", "build", "-o", troupeBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("build troupe: " + err.Error())
	}
	defer os.RemoveAll(dir)
	awstest.Main(m)
}

type run struct {
	code           int
	stdout, stderr string
}

// troupe runs the CLI as a process with an environment that points the AWS
// SDK at nothing but what the test sets: static credentials, us-east-1.
func troupe(t *testing.T, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, troupeBin, args...)
	cmd.Dir = filepath.Join("..", "..") // the repository root, where testdata/ is
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("troupe %v: still running after 60s", args)
	}
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code: code, stdout: stdout.String(), stderr: stderr.String()}
}
