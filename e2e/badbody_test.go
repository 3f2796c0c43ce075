package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/stretchr/testify/require"
)

// TestUnreadableAndOversizedBodies: on the real binary, a body shorter
// than its Content-Length, cut by a half-close, is 400
// SerializationException (not a 500 the SDKs would retry) with no ERROR
// in the log, and a Content-Length over the operation's limit is 413 at
// once. Neither creates anything.
func TestUnreadableAndOversizedBodies(t *testing.T) {
	s := startServer(t, backends[0], serverOptions{Args: []string{"--log-format", "json"}})
	addr := strings.TrimPrefix(s.URL, "http://")
	auth := "Authorization: AWS4-HMAC-SHA256 Credential=" + s.Root.AccessKeyID + "/" + time.Now().UTC().Format("20060102") +
		"/us-east-1/dataexchange/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64) + "\r\n"

	send := func(head string, body string, halfClose bool) *http.Response {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
		_, err = io.WriteString(conn, head+"\r\n"+body)
		require.NoError(t, err)
		if halfClose {
			require.NoError(t, conn.(*net.TCPConn).CloseWrite())
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		return resp
	}
	head := "POST /v1/data-sets HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n" + auth

	resp := send(head+"Content-Length: 200\r\n", `{"Name":"cut","Description":"d","AssetType":"S3_SNAPSHOT"}`, true)
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, 400, resp.StatusCode, "%s", b)
	require.Equal(t, "SerializationException", resp.Header.Get("X-Amzn-ErrorType"))
	require.Contains(t, string(b), "could not be read")

	resp = send(head+fmt.Sprintf("Content-Length: %d\r\n", 1<<20+1), "", false)
	b, _ = io.ReadAll(resp.Body)
	require.Equal(t, 413, resp.StatusCode, "%s", b)
	require.Equal(t, "RequestEntityTooLargeException", resp.Header.Get("X-Amzn-ErrorType"))

	out, err := s.client(s.Root).ListDataSets(context.Background(), &dataexchange.ListDataSetsInput{})
	require.NoError(t, err)
	require.Empty(t, out.DataSets)
	require.NotContains(t, s.stderr.String(), `"level":"ERROR"`)
	require.Contains(t, s.stderr.String(), `"exception":"SerializationException"`)
}
