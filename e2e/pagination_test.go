package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const paginationItems = 57

// TestPagination creates 57 data sets, revisions and assets and pages
// through each listing with the SDK's paginators at several page sizes:
// every item must come exactly once, in the listing's order.
func TestPagination(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		c := s.client(s.Root)
		ctx := context.Background()

		type item struct {
			id        string
			createdAt time.Time
			name      string
		}
		var dataSets, revisions []item
		for i := 0; i < paginationItems; i++ {
			o, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
				AssetType: types.AssetTypeS3Snapshot, Name: aws.String(fmt.Sprintf("ds-%02d", i)), Description: aws.String("d"),
			})
			require.NoError(t, err)
			dataSets = append(dataSets, item{aws.ToString(o.Id), *o.CreatedAt, aws.ToString(o.Name)})
		}
		dsID := dataSets[0].id
		for i := 0; i < paginationItems; i++ {
			o, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(dsID), Comment: aws.String(fmt.Sprint(i))})
			require.NoError(t, err)
			revisions = append(revisions, item{aws.ToString(o.Id), *o.CreatedAt, ""})
		}
		revID := revisions[0].id
		var names []string
		for i := 0; i < paginationItems; i++ {
			// Insert in a scrambled order so that the listing's order can't
			// come from insertion order.
			names = append(names, fmt.Sprintf("asset-%03d.csv", (i*17)%paginationItems))
		}
		var assets []item
		for _, a := range s.insertAssets(t, s.Root.AccountID, dsID, revID, names...) {
			assets = append(assets, item{a.ID, a.CreatedAt, a.Name})
		}

		// The order each listing must have: newest first (ties broken
		// consistently, so we only check non-increasing CreatedAt and that
		// every page size agrees), assets by name descending.
		sort.Slice(assets, func(i, j int) bool { return assets[i].name > assets[j].name })
		wantAssets := make([]string, len(assets))
		for i, a := range assets {
			wantAssets[i] = a.id
		}
		idsOf := func(items []item) map[string]time.Time {
			m := map[string]time.Time{}
			for _, it := range items {
				m[it.id] = it.createdAt.UTC()
			}
			return m
		}
		wantDataSets, wantRevisions := idsOf(dataSets), idsOf(revisions)

		checkNewestFirst := func(t *testing.T, what string, got []string, created map[string]time.Time) {
			t.Helper()
			require.Len(t, got, len(created), "%s: number of items", what)
			seen := map[string]bool{}
			for i, id := range got {
				_, ok := created[id]
				assert.True(t, ok, "%s: unknown id %s", what, id)
				assert.False(t, seen[id], "%s: %s listed twice", what, id)
				seen[id] = true
				if i > 0 {
					assert.False(t, created[id].After(created[got[i-1]]), "%s: item %d (%s) is newer than item %d", what, i, created[id], i-1)
				}
			}
		}

		orders := map[string][][]string{}
		for _, max := range []int32{1, 7, 200, 0} {
			t.Run(fmt.Sprintf("maxResults=%d", max), func(t *testing.T) {
				pageLimit := int(max)
				if max == 0 {
					pageLimit = 25 // the default
				}
				var got []string
				pages := 0
				p := dataexchange.NewListDataSetsPaginator(c, &dataexchange.ListDataSetsInput{MaxResults: max})
				for p.HasMorePages() {
					out, err := p.NextPage(ctx)
					require.NoError(t, err)
					pages++
					require.LessOrEqual(t, len(out.DataSets), pageLimit, "page %d", pages)
					if aws.ToString(out.NextToken) != "" {
						require.Len(t, out.DataSets, pageLimit, "a page before the last must be full")
					}
					for _, d := range out.DataSets {
						got = append(got, aws.ToString(d.Id))
					}
					require.Less(t, pages, 500, "runaway pagination")
				}
				checkNewestFirst(t, "ListDataSets", got, wantDataSets)
				assert.Equal(t, (paginationItems+pageLimit-1)/pageLimit, pages, "pages")
				orders["data sets"] = append(orders["data sets"], got)

				got, pages = nil, 0
				rp := dataexchange.NewListDataSetRevisionsPaginator(c, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(dsID), MaxResults: max})
				for rp.HasMorePages() {
					out, err := rp.NextPage(ctx)
					require.NoError(t, err)
					pages++
					require.LessOrEqual(t, len(out.Revisions), pageLimit)
					for _, r := range out.Revisions {
						got = append(got, aws.ToString(r.Id))
					}
					require.Less(t, pages, 500, "runaway pagination")
				}
				checkNewestFirst(t, "ListDataSetRevisions", got, wantRevisions)
				assert.Equal(t, (paginationItems+pageLimit-1)/pageLimit, pages, "pages")
				orders["revisions"] = append(orders["revisions"], got)

				got, pages = nil, 0
				ap := dataexchange.NewListRevisionAssetsPaginator(c, &dataexchange.ListRevisionAssetsInput{DataSetId: aws.String(dsID), RevisionId: aws.String(revID), MaxResults: max})
				for ap.HasMorePages() {
					out, err := ap.NextPage(ctx)
					require.NoError(t, err)
					pages++
					require.LessOrEqual(t, len(out.Assets), pageLimit)
					for _, a := range out.Assets {
						got = append(got, aws.ToString(a.Id))
					}
					require.Less(t, pages, 500, "runaway pagination")
				}
				assert.Equal(t, wantAssets, got, "ListRevisionAssets: every asset once, by name descending")
				assert.Equal(t, (paginationItems+pageLimit-1)/pageLimit, pages, "pages")
			})
		}
		// Every page size gives the same order.
		for what, lists := range orders {
			for i := 1; i < len(lists); i++ {
				assert.Equal(t, lists[0], lists[i], "%s: order differs between page sizes", what)
			}
		}

		// A NextToken stays valid while items are added in front of it (new
		// items are newer, so they go before the cursor and don't shift the
		// rest of the listing).
		first, err := c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{MaxResults: 10})
		require.NoError(t, err)
		require.NotEmpty(t, aws.ToString(first.NextToken))
		_, err = c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("late"), Description: aws.String("d"),
		})
		require.NoError(t, err)
		var rest []string
		p := dataexchange.NewListDataSetsPaginator(c, &dataexchange.ListDataSetsInput{MaxResults: 10, NextToken: first.NextToken})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			require.NoError(t, err)
			for _, d := range out.DataSets {
				rest = append(rest, aws.ToString(d.Id))
			}
		}
		var firstIDs []string
		for _, d := range first.DataSets {
			firstIDs = append(firstIDs, aws.ToString(d.Id))
		}
		assert.Equal(t, orders["data sets"][0], append(firstIDs, rest...), "resuming from a NextToken after an insert")

		// A token from one listing is refused by another.
		_, err = c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(dsID), NextToken: first.NextToken})
		requireValidation(t, err)
	})
}
