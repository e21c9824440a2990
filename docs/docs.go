// Package docs embeds the documents the server itself serves.
package docs

import _ "embed"

// OpenAPI is the description of the JSON API, served at
// /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
