package crashpoint

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		at   int64
	}{
		{"", "", 0},
		{"jobs.work.before-claim", "jobs.work.before-claim", 1},
		{" jobs.work.claimed@3 ", "jobs.work.claimed", 3},
		{"x@0", "", 0},
		{"x@-1", "", 0},
		{"x@two", "", 0},
		{"@2", "", 0},
	} {
		name, at := parse(c.in)
		if name != c.name || at != c.at {
			t.Errorf("parse(%q) = %q, %d; want %q, %d", c.in, name, at, c.name, c.at)
		}
	}
}

// childEnv makes the test binary a child that reaches the point "test.point"
// five times, printing a line after each.
const childEnv = "WHARF_CRASHPOINT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		for i := 1; i <= 5; i++ {
			Reached("test.other")
			Reached("test.point")
			os.Stdout.WriteString("passed\n")
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestReached runs the child with the point armed at its third hit: a
// binary built with crash points dies there by SIGKILL, after two passes;
// a normal build ignores the variable and passes all five times.
func TestReached(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", Env+"=test.point@3")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	passes := strings.Count(string(out), "passed\n")
	if !Enabled {
		if err != nil || passes != 5 {
			t.Fatalf("without crash points: %d passes, %v (stderr %q); want 5 and a clean exit", passes, err, stderr.String())
		}
		return
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("with crash points: %v, want the child killed", err)
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended %v, want SIGKILL", exit)
	}
	if passes != 2 {
		t.Errorf("%d passes before the kill, want 2", passes)
	}
	if want := "crashpoint: test.point reached (hit 3)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
}
