# Upload a local file as a new asset: the provider computes its MD5, PUTs it
# to the job's signed URL and starts the job. (Needs a server that runs
# IMPORT_ASSET_FROM_SIGNED_URL; see docs/compatibility.md.)
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

provider "wharf" {
  endpoint = var.endpoint
  region   = "us-east-1"
}

resource "aws_dataexchange_data_set" "files" {
  provider    = wharf
  asset_type  = "S3_SNAPSHOT"
  description = "Uploaded files"
  name        = "files"
}

resource "aws_dataexchange_revision" "files" {
  provider    = wharf
  data_set_id = aws_dataexchange_data_set.files.id
}

resource "aws_dataexchange_job" "upload" {
  provider    = wharf
  type        = "IMPORT_ASSET_FROM_SIGNED_URL"
  data_set_id = aws_dataexchange_data_set.files.id
  revision_id = aws_dataexchange_revision.files.id

  asset_name  = "data.csv"
  source_file = "${path.module}/data.csv"

  start_on_creation   = true
  wait_for_completion = true
}
