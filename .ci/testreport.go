//go:build ignore

// testreport reads `go test -json` on stdin and prints what plain `go test`
// prints (one line per package, and the output of every failing test), then
// a closing line counting every test and subtest (and, as one failure each,
// packages that failed without a failing test, such as build failures):
//
//	summary: 212 passed, 0 failed, 3 skipped
//
// .ci/run pipes the tests through it; it is not part of the module (the
// directory starts with a dot, so ./... leaves it out).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

func main() {
	start := time.Now()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)

	buffered := map[string]*strings.Builder{} // output of running tests
	var order []string                        // keys of buffered, in start order
	var passed, failed, skipped int
	var failedNames []string
	pkgFailed := map[string]bool{} // packages with a failed test

	flushTest := func(key string) {
		if b, ok := buffered[key]; ok {
			out.WriteString(b.String())
			delete(buffered, key)
		}
	}
	for in.Scan() {
		line := in.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go vet or build output on older toolchains).
			out.Write(line)
			out.WriteByte('\n')
			out.Flush()
			continue
		}
		if e.Action == "build-output" {
			out.WriteString(e.Output)
			continue
		}
		if e.Test == "" {
			if e.Output != "PASS\n" { // plain go test doesn't print it
				out.WriteString(e.Output)
			}
			if e.Action == "fail" {
				// A package that fails with no failing test (it did not
				// build, or TestMain failed) counts as one failure.
				if !pkgFailed[e.Package] {
					failed++
					failedNames = append(failedNames, e.Package+" (package: build or TestMain failed)")
				}
				// A timeout or a panic ends the package while tests run:
				// show what they printed.
				for _, k := range order {
					if strings.HasPrefix(k, e.Package+"\x00") {
						flushTest(k)
					}
				}
			}
			if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
				out.Flush()
			}
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "run":
			buffered[key] = &strings.Builder{}
			order = append(order, key)
		case "output":
			if b, ok := buffered[key]; ok {
				b.WriteString(e.Output)
			}
		case "pass":
			passed++
			delete(buffered, key)
		case "skip":
			skipped++
			delete(buffered, key)
		case "fail":
			failed++
			pkgFailed[e.Package] = true
			failedNames = append(failedNames, e.Package+" "+e.Test)
			flushTest(key)
			out.Flush()
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(out, "testreport: reading go test output:", err)
	}
	if len(failedNames) > 0 {
		fmt.Fprintln(out, "\nFailed tests:")
		for _, n := range failedNames {
			fmt.Fprintln(out, "  "+n)
		}
	}
	fmt.Fprintf(out, "\ngo test took %s\n", time.Since(start).Round(time.Second))
	fmt.Fprintf(out, "summary: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
}
