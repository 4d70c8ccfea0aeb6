# Build: the queries are checked against the committed .sqlx/ metadata, so no database is needed here.
FROM rust:1.95-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock clippy.toml ./
COPY .sqlx .sqlx
COPY migrations migrations
COPY config config
COPY crates crates
COPY src src
# The integration tests are a target of the root package; the build does not need them, Cargo only their path.
COPY tests tests
RUN cargo build --release --locked --bin career-circle

# Run: a small Debian image, a non-root user, and a healthcheck on the operator endpoint.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home career-circle
COPY --from=build /src/target/release/career-circle /usr/local/bin/career-circle
USER career-circle
WORKDIR /app
# Inside a container the endpoint must listen beyond loopback for the healthcheck and Prometheus to reach it.
ENV CAREER_CIRCLE__HTTP__BIND=0.0.0.0:8080 \
    CAREER_CIRCLE__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["career-circle"]
CMD ["run"]
