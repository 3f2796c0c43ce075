package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPprof: `wharf serve` serves no profiler by default, only the API's
// listener; with --pprof (or WHARF_PPROF) it serves net/http/pprof on that
// separate address, and the API's listener still does not.
func TestPprof(t *testing.T) {
	t.Parallel()
	sqlite := backends[0]

	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, sqlite)
		assert.Equal(t, []string{strings.TrimPrefix(s.URL, "http://")}, listening(t, s.cmd.Process.Pid),
			"the server listens on the API's address alone")
		assertNoProfiler(t, s.URL)
	})
	for _, how := range []string{"flag", "env"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			o := serverOptions{Args: []string{"--pprof", addr}}
			if how == "env" {
				o = serverOptions{Env: []string{"WHARF_PPROF=" + addr}}
			}
			s := startServer(t, sqlite, o)
			assert.ElementsMatch(t, []string{strings.TrimPrefix(s.URL, "http://"), addr}, listening(t, s.cmd.Process.Pid))
			status, body := get(t, "http://"+addr+"/debug/pprof/")
			require.Equal(t, http.StatusOK, status, body)
			assert.Contains(t, body, "goroutine")
			status, body = get(t, "http://"+addr+"/debug/pprof/cmdline")
			require.Equal(t, http.StatusOK, status, body)
			assert.Contains(t, body, "serve")
			status, body = get(t, "http://"+addr+"/debug/pprof/heap?debug=1")
			require.Equal(t, http.StatusOK, status, body)
			assert.Contains(t, body, "heap profile")
			assertNoProfiler(t, s.URL)
		})
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// assertNoProfiler checks that the API's listener serves no profile.
func assertNoProfiler(t *testing.T, apiURL string) {
	t.Helper()
	status, body := get(t, apiURL+"/debug/pprof/")
	assert.NotEqual(t, http.StatusOK, status, body)
	assert.NotContains(t, body, "goroutine")
}

// listening returns the TCP addresses process pid listens on, from
// /proc/<pid>/fd and /proc/<pid>/net/tcp.
func listening(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	sockets := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if inode, ok := strings.CutPrefix(target, "socket:["); err == nil && ok {
			sockets[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var addrs []string
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// sl local_address rem_address st ... inode (10th)
			if len(f) < 10 || f[3] != "0A" || !sockets[f[9]] {
				continue
			}
			addrs = append(addrs, procAddr(t, f[1]))
		}
	}
	return addrs
}

// procAddr turns /proc/net/tcp's "0100007F:1F90" into "127.0.0.1:8080".
func procAddr(t *testing.T, s string) string {
	t.Helper()
	host, port, ok := strings.Cut(s, ":")
	require.True(t, ok, s)
	var p int
	_, err := fmt.Sscanf(port, "%X", &p)
	require.NoError(t, err)
	if len(host) != 8 {
		return fmt.Sprintf("[%s]:%d", host, p) // IPv6: not expected here
	}
	var b [4]int
	for i := range 4 {
		_, err := fmt.Sscanf(host[2*i:2*i+2], "%X", &b[3-i])
		require.NoError(t, err)
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", b[0], b[1], b[2], b[3], p)
}
