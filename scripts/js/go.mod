// scripts/js is Node, not Go. This file makes it a module of its own so
// that `go vet ./...`, `go test ./...` and staticcheck in the repository's
// root do not walk into node_modules, where npm packages may ship Go files
// (flatted, which web-ext pulls in, has a Go port).
module github.com/tweetwire/tweetwire/scripts/js

go 1.26
