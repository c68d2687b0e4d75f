# syntax=docker/dockerfile:1
# Multi-stage build: the npm pieces, then the Go binary, then a small
# non-root image with only the binary (its web assets are embedded).

FROM node:20-bookworm-slim AS npm
WORKDIR /src
COPY scripts/js/package.json scripts/js/package-lock.json scripts/js/
RUN cd scripts/js && npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY server/ server/
COPY --from=npm /src/scripts/js/node_modules/socket.io-client/dist/socket.io.js server/web/assets/vendor/socket.io.js
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tweetwire ./server/cmd/tweetwire

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tweetwire /usr/local/bin/tweetwire
# The embedded store and the spool live here when no MongoDB is given.
WORKDIR /data
ENV TWEETWIRE_DATA_DIR=/data
USER nonroot:nonroot
EXPOSE 8124
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/tweetwire", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tweetwire"]
