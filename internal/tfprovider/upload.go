package tfprovider

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// fileMD5 is the base64 MD5 of a file (the form of Md5Hash and
// Content-MD5), read as a stream.
func fileMD5(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// uploadFile PUTs a file to a presigned URL with its Content-MD5, streaming
// it from disk.
func uploadFile(ctx context.Context, url, name, md5Base64 string) error {
	if url == "" {
		return fmt.Errorf("the job has no upload URL")
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, f)
	if err != nil {
		return err
	}
	req.ContentLength = info.Size()
	if info.Size() == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-MD5", md5Base64)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("uploading %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("uploading %s: %s: %s", name, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
