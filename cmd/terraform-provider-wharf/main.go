// Command terraform-provider-wharf is the Terraform provider `wharf`: AWS
// Data Exchange jobs, data sets and revisions on Wharf or on AWS.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/wharf-dev/wharf/internal/tfprovider"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), tfprovider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/wharf-dev/wharf",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
