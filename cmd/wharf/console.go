package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/console"
	"github.com/wharf-dev/wharf/internal/store"
)

// consoleFlags configure the web console of `wharf serve`.
type consoleFlags struct {
	enabled         bool
	sessionDuration time.Duration
	// testSessionMin lowers the shortest session one may ask for, so that
	// tests see sessions expire. Hidden: not for production.
	testSessionMin time.Duration
}

func (c *consoleFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&c.enabled, "console", true,
		"serve the web console at /console/ and its sign-in at /console/api/session (--console=false turns both off)")
	cmd.Flags().DurationVar(&c.sessionDuration, "console-session-duration", auth.DefaultSessionDuration,
		"how long a console session lasts (the longest it may last; at least 15m)")
	cmd.Flags().DurationVar(&c.testSessionMin, "test-console-session-min", 0,
		"for tests only: the shortest console session one may ask for (default 15m)")
	_ = cmd.Flags().MarkHidden("test-console-session-min")
}

// newConsole returns the console's sessions and pages, or nils when the
// console is off. The pages may fetch from signedURLOrigin (where the
// asset store's signed URLs point) besides their own origin.
func (c *consoleFlags) newConsole(ctx context.Context, st store.Store, sealer *auth.Sealer, region, signedURLOrigin string) (*auth.Sessions, http.Handler, error) {
	if !c.enabled {
		return nil, nil, nil
	}
	sessions, err := auth.NewSessions(st, sealer, auth.SessionConfig{
		MaxDuration: c.sessionDuration, MinDuration: c.testSessionMin,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("--console-session-duration: %w", err)
	}
	var sources []string
	if signedURLOrigin != "" {
		sources = append(sources, signedURLOrigin)
	}
	pages, err := console.New(console.Config{
		Region: region, SessionDuration: sessions.MaxDuration(), ConnectSources: sources,
	})
	if err != nil {
		return nil, nil, err
	}
	return sessions, pages, nil
}

// signedURLOrigin is the origin of the signed URLs jobs hand out: the S3
// asset store's (found by presigning a URL, which makes no request), else
// the public URL Wharf serves them at.
func signedURLOrigin(ctx context.Context, assets assetstore.Store, publicURL string) (string, error) {
	s3Store, ok := assets.(*assetstore.S3)
	if !ok {
		return console.Origin(publicURL)
	}
	req, err := s3.NewPresignClient(s3Store.Endpoint().Client()).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s3Store.Bucket()), Key: aws.String(s3Store.Prefix() + "console-origin-probe"),
	})
	if err != nil {
		return "", fmt.Errorf("console: the S3 asset store's URL origin: %w", err)
	}
	return console.Origin(req.URL)
}
