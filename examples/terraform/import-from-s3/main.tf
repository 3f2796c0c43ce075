# The seed's example, plus `provider = wharf`: import an S3 object into a new
# revision, and wait until the job is done (a job that fails fails the apply
# with its errors; the next apply replaces it). Run a Wharf server (wharf
# serve) that can read the bucket, then:
#   terraform apply -var endpoint=http://127.0.0.1:8686 -var bucket=source-bucket
terraform {
  required_providers {
    wharf = {
      source = "wharf-dev/wharf"
    }
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:8686"
}

variable "bucket" {
  type    = string
  default = "source-bucket"
}

provider "wharf" {
  endpoint = var.endpoint
  region   = "us-east-1"
}

resource "aws_dataexchange_data_set" "example" {
  provider    = wharf
  asset_type  = "S3_SNAPSHOT"
  description = "Example data set"
  name        = "example"
}

resource "aws_dataexchange_revision" "example" {
  provider    = wharf
  data_set_id = aws_dataexchange_data_set.example.id
}

resource "aws_dataexchange_job" "example" {
  provider    = wharf
  type        = "IMPORT_ASSETS_FROM_S3"
  data_set_id = aws_dataexchange_data_set.example.id
  revision_id = aws_dataexchange_revision.example.id

  s3_asset_sources = [
    {
      bucket = var.bucket
      key    = "source/key/asset.csv"
    }
  ]

  start_on_creation   = true
  wait_for_completion = true
}

output "job_state" {
  value = aws_dataexchange_job.example.state
}
