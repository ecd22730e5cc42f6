# Driftless controller image. Not built by CI (no Docker engine there); keep it simple and correct.
#
#   docker build -t driftless .
#   docker run --rm -e DATABASE_URL=... driftless plan --repo https://github.com/acme/db.git --path blueprints

# --- build: a release binary with the Swift standard library linked in statically ---
FROM swift:6.0-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libgit2-dev libpg-query-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies first so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product driftless --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/driftless" /out/driftless

# --- runtime: libpq, libgit2 and libpg_query only, non-root ---
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libgit2-1.5 libpg-query1504.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 driftless \
 && useradd --uid 65532 --gid 65532 --home-dir /nonexistent --shell /usr/sbin/nologin driftless \
 && mkdir -p /var/cache/driftless && chown driftless:driftless /var/cache/driftless
COPY --from=build /out/driftless /usr/local/bin/driftless
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/driftless"]
CMD ["--help"]
