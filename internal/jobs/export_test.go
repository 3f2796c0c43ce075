package jobs

import "context"

// ReapOrphans runs one orphan pass of the reaper: how many jobs it queued
// again, and how many entries it read the job of.
func (s *Service) ReapOrphans(ctx context.Context) (requeued, checked int, err error) {
	return s.reapOrphans(ctx)
}
