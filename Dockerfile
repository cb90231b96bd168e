# Multi-stage, multi-platform build of storagenode-exporter: a static binary
# on distroless (see deploy/README.md).
#   docker build -t storagenode-exporter .
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 \
#       --build-arg VERSION=v0.1.0 -t storagenode-exporter:v0.1.0 .
# Needs BuildKit (Docker's builder since 23.0, and buildx). The Go stage runs
# on the build machine's platform and cross-compiles for the target platform,
# with the command that builds the release archives' binaries.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that source edits do not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG TARGETOS
ARG TARGETARCH
ARG TARGETVARIANT
RUN go run ./internal/release -version "${VERSION}" -binary /out/storagenode-exporter \
        -target "${TARGETOS}/${TARGETARCH}${TARGETVARIANT:+/${TARGETVARIANT}}"
# The state directory of the final stage, made here: distroless has no shell.
RUN mkdir -m 0700 /out/data

# distroless/static: no shell or package manager, CA certificates (for an
# https node API) and time zone data included, runs as uid 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/storagenode-exporter /usr/local/bin/storagenode-exporter
# The raw-event sink's database is $STATE_DIRECTORY/storagenode-exporter.db:
# /data, a volume owned by nonroot (docker-compose.yml mounts exporter-data).
COPY --from=build --chown=65532:65532 /out/data /data
ENV STATE_DIRECTORY=/data
VOLUME /data
USER nonroot:nonroot
EXPOSE 29651
ENTRYPOINT ["/usr/local/bin/storagenode-exporter"]
