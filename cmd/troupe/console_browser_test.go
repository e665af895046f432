package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/choreography"
)

// e2eDir holds the console's browser scripts and their pinned driver.
var e2eDir = filepath.Join("..", "..", "console", "e2e")

// browserTools returns node and Chromium, or fails the test saying what to
// install: the browser test is part of `make test`, and a machine without
// its tools must not pass it by skipping it.
func browserTools(t *testing.T) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the console's browser test needs Node.js: node is not on PATH (install Node.js 20 or later)")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatal("the console's browser test needs playwright-core: run `make console-e2e-deps` (npm ci in console/e2e)")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the console's browser test needs Chromium at %s: install it (Debian: apt-get install -y chromium), or set CHROMIUM to its path", chromium)
	}
	return node, chromium
}

// TestConsoleInABrowser drives the console of a running troupe dev in
// headless Chromium (console/e2e/console.spec.mjs): every consumer in the
// graph; an event published from the form, refused while invalid; its edge
// counts rising live; its trace reaching the shipment; a poison event in the
// DLQ view, whose replay fails and keeps it; a purge, confirmed, that
// empties the queue. With TROUPE_CONSOLE_SCREENSHOT set, the screenshot is
// kept there (`make console-screenshot` writes docs/console.png).
//
// It does not run in parallel: Chromium takes both cores for a few seconds,
// and the other tests, which wait while it runs, time their processes.
func TestConsoleInABrowser(t *testing.T) {
	node, chromium := browserTools(t)
	d := startDev(t, freeAddr(t), t.TempDir())
	banner := "console       http://" + d.addr + "/console/"
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(d.out.String(), banner); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) { // the output reaches the test through a pipe: give it a moment
			t.Fatalf("troupe dev does not print the console's address (%q):\n%s", banner, d.out)
		}
	}
	top, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range top.Consumers {
		names = append(names, c.Name)
	}
	shot := os.Getenv("TROUPE_CONSOLE_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "console.png")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.spec.mjs")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "CONSOLE_URL=http://"+d.addr, "CONSUMERS="+strings.Join(names, ","), "SCREENSHOT="+shot, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the browser test was still running after 4 minutes:\n%s", out)
	}
	if err != nil {
		t.Fatalf("the browser test failed (%v):\n%s", err, out)
	}
	t.Logf("console.spec.mjs:\n%s", out)
	if m := regexp.MustCompile(`(?m)^FIRSTLOAD .*$`).Find(out); m == nil {
		t.Error("the browser test printed no FIRSTLOAD line")
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}
}
