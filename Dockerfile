# tapeml serve in a container: a static binary on a distroless base,
# running as a non-root user.
#
#	docker build -t tapeml .
#	docker run --rm -p 8500:8500 -v "$PWD/models:/models:ro" tapeml
#
# Build stage: the module's Go version, no cgo, so the binary is static.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tapeml ./cmd/tapeml

# Run stage: no shell, no package manager; UID/GID 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tapeml /usr/local/bin/tapeml
USER nonroot:nonroot
EXPOSE 8500
# The repository is mounted at /models; listen on all interfaces inside
# the container (the host decides what to publish).
ENTRYPOINT ["/usr/local/bin/tapeml", "serve", "--models", "/models", "--addr", "0.0.0.0:8500"]
