# Build a static binary, then ship it alone in a minimal image that runs as
# a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/haveyoursay ./cmd/haveyoursay

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/haveyoursay /usr/local/bin/haveyoursay
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/haveyoursay"]
CMD ["serve"]
