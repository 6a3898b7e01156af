# syntax=docker/dockerfile:1
#
# remedybot container image: a release build on Debian bookworm, run as a non-root user with
# its SQLite database in the /data volume.
#
#   docker build -t remedybot .
#   docker run -p 8080:8080 -v remedybot-data:/data \
#     -e REMEDYBOT_INGEST_TOKEN=... remedybot
#
# NOTE: there is no Docker engine on the machine this file was written on, so it has not been
# built or run there. Check it with a real `docker build` before relying on it.
#
# For PostgreSQL, set REMEDYBOT_DATABASE_URL=postgres://USER:PASSWORD@HOST/DB at run time.
# A config file can be mounted and named with REMEDYBOT_CONFIG=/config/remedybot.toml.

FROM rust:1-bookworm AS builder
WORKDIR /src
# The whole context (see .dockerignore): Cargo.toml names bench/ and tests/ targets, sqlx
# embeds migrations/ and the CLI embeds templates/ at compile time.
COPY . .
# Cache mounts keep the registry and build artefacts between builds (BuildKit); the binary
# is copied out because the cached target directory is not part of the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && install -m 0755 target/release/remedybot /usr/local/bin/remedybot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 remedybot \
 && useradd --system --uid 10001 --gid remedybot --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin remedybot \
 && mkdir -p /data \
 && chown remedybot:remedybot /data
COPY --from=builder /usr/local/bin/remedybot /usr/local/bin/remedybot
USER remedybot
WORKDIR /data
VOLUME /data
# USER names the actor of `remedybot act` (recorded as cli:$USER); the USER instruction
# above does not set it. Override it per run with `-e USER=alice`.
ENV REMEDYBOT_DATABASE_URL=sqlite:///data/remedybot.db \
    REMEDYBOT_LISTEN=0.0.0.0:8080 \
    USER=remedybot
EXPOSE 8080
# Probes: GET /healthz (process up) and GET /readyz (database reachable and migrated).
ENTRYPOINT ["remedybot"]
CMD ["serve"]
