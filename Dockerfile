# Multi-stage build of storagenode-exporter: a static binary on distroless.
#   docker build -t storagenode-exporter .
#   docker build --build-arg VERSION=v0.1.0 -t storagenode-exporter:v0.1.0 .
# Works with the classic builder and BuildKit (no BuildKit-only syntax).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that source edits do not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/storagenode-exporter ./cmd/storagenode-exporter

# distroless/static: no shell or package manager, CA certificates (for an
# https node API) and time zone data included, runs as uid 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/storagenode-exporter /usr/local/bin/storagenode-exporter
USER nonroot:nonroot
EXPOSE 29651
ENTRYPOINT ["/usr/local/bin/storagenode-exporter"]
