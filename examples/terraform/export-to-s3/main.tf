# Export an asset to S3 and wait until the copy is done.
#   terraform apply -var data_set_id=... -var revision_id=... -var asset_id=... -var bucket=...
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
variable "data_set_id" { type = string }
variable "revision_id" { type = string }
variable "asset_id" { type = string }
variable "bucket" { type = string }

provider "wharf" {
  endpoint = var.endpoint
  region   = "us-east-1"
}

resource "aws_dataexchange_job" "export" {
  provider    = wharf
  type        = "EXPORT_ASSETS_TO_S3"
  data_set_id = var.data_set_id
  revision_id = var.revision_id

  s3_asset_destinations = [
    {
      asset_id = var.asset_id
      bucket   = var.bucket
      key      = "exports/asset.csv"
    }
  ]

  start_on_creation   = true
  wait_for_completion = true
  timeouts {
    create = "30m"
  }
}

output "state" {
  value = aws_dataexchange_job.export.state
}
