package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 returns an S3 client for the commands that list or write buckets
// themselves (`wharf publish s3://...`, `wharf subscribe --to s3://...`):
// the same AWS configuration as the Data Exchange client, or with profile
// set, that shared-config profile's (a bucket's keys are often not the
// keys of Data Exchange, as with Wharf and a MinIO). The endpoint comes
// from AWS_ENDPOINT_URL_S3 or the profile's services section; with one
// set, requests are path-style (what MinIO and most S3-compatible servers
// need).
func (c *Client) S3(ctx context.Context, profile string) (*s3.Client, error) {
	cfg := c.AWS
	if profile != "" {
		var err error
		if cfg, err = config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(profile)); err != nil {
			return nil, fmt.Errorf("AWS configuration of profile %s for S3: %w", profile, err)
		}
		if cfg.Region == "" {
			cfg.Region = c.AWS.Region
		}
	}
	probe := s3.NewFromConfig(cfg)
	custom := aws.ToString(probe.Options().BaseEndpoint) != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = custom
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// ParseS3URL splits s3://bucket[/prefix].
func ParseS3URL(s string) (bucket, prefix string, ok bool) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, prefix, bucket != ""
}
