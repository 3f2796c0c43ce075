// Package bench holds Wharf's speed benchmarks for the S3 job types
// (IMPORT_ASSETS_FROM_S3, EXPORT_ASSETS_TO_S3): throughput, small-job
// latency and peak memory of the real `wharf serve` binary against real
// MinIO servers, and the API's hot path (GetJob at 32 signed clients
// against MinIO's HeadObject), each measured against a baseline run alongside it in the
// same run, interleaved, because the machines they run on are shared and
// noisy: the ratios are the result, the absolute figures only context.
//
// Everything is in Benchmark functions, which run only with -bench; the
// package's plain `go test` runs a few cheap unit tests of the statistics.
// docs/benchmarks.md says how to run them and what they measured.
package bench
