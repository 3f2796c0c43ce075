package e2e

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/require"
)

// TestConsoleS3AssetStore: with an s3:// asset store, the console's upload
// and download go straight between Chromium and the S3 endpoint (MinIO, on
// another origin than Wharf's: the page's CSP names it and MinIO answers
// CORS), through the signed URLs the jobs give; the asset lands in the
// asset store's bucket and downloads byte for byte, under its own name.
func TestConsoleS3AssetStore(t *testing.T) {
	t.Parallel()
	browser := launchChromium(t)
	minio, env := s3Env(t)
	store := minio.NewBucket(t)
	s := startServer(t, backends[0], serverOptions{Env: env, Args: []string{"--asset-store", "s3://" + store + "/assets"}})
	ctx := context.Background()
	root := s.client(s.Root)
	ds, err := root.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String("Tide gauges"), Description: aws.String("Hourly heights")})
	require.NoError(t, err)
	rev, err := root.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	require.NoError(t, err)

	c := newConsole(t, browser, s)
	c.open("/console/signin")
	c.signIn(s.Root)
	c.el("h1", "^Data sets$")
	c.open("/console/data-sets/" + aws.ToString(ds.Id) + "/revisions/" + aws.ToString(rev.Id))
	c.el(".empty", "no assets yet")

	const name = "heights.bin"
	data := patternBytes(21, 3<<20)
	file := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(file, data, 0o644))
	c.el(`form[aria-label="Upload files"] input[type=file]`).MustSetFiles(file)
	c.click(`form[aria-label="Upload files"] button[type=submit]`)
	c.el(`.upload[data-file="` + name + `"][data-phase="done"]`)
	c.el(`table[aria-label="Assets"] tr[data-name="` + name + `"]`)
	assets := listAssets(t, root, aws.ToString(ds.Id), aws.ToString(rev.Id))
	require.Len(t, assets, 1)
	require.Equal(t, float64(len(data)), assets[0].AssetDetails.S3SnapshotAsset.Size)
	var stored []string
	for _, k := range minio.Keys(t, store) {
		if strings.HasPrefix(k, "assets/") && bytes.Equal(minio.GetObject(t, store, k), data) {
			stored = append(stored, k)
		}
	}
	require.Len(t, stored, 1, "the upload's bytes in the asset store's bucket: %q", minio.Keys(t, store))

	// The download is saved under the asset's name, not the object's key:
	// the link's download attribute does not count on another origin, the
	// signed URL's response-content-disposition does.
	downloads := t.TempDir()
	wait := c.b.WaitDownload(downloads)
	c.click(`button[aria-label="Download ` + name + `"]`)
	begin := wait()
	require.Equal(t, name, begin.SuggestedFilename)
	got, err := os.ReadFile(filepath.Join(downloads, begin.GUID))
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "downloaded %d bytes that differ from the %d uploaded", len(got), len(data))

	// Both went to MinIO's origin, not through Wharf: the upload's PUT is
	// among the page's resources, the download was fetched from there.
	origin, err := url.Parse(minio.URL)
	require.NoError(t, err)
	onMinIO := func(u string) bool { p, err := url.Parse(u); return err == nil && p.Host == origin.Host }
	require.True(t, onMinIO(begin.URL), "the download came from %s, not the S3 endpoint %s", begin.URL, minio.URL)
	var urls []string
	require.NoError(t, c.p.MustEval(`() => performance.getEntriesByType("resource").map(e => e.name)`).Unmarshal(&urls))
	var puts int
	for _, u := range urls {
		if onMinIO(u) {
			puts++
		}
	}
	require.Equal(t, 1, puts, "the page's requests to the S3 endpoint %s: %q", minio.URL, urls)
}
