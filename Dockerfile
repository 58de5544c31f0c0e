# tierboard: the server (release build) and the web client, in one image.
# Build: docker build -t tierboard .   Run: see docker-compose.yml.

FROM rust:1.95-bookworm AS server
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY server server
COPY bench bench
# A workspace member: the manifest must be there even though the image builds only the server.
COPY bank bank
COPY migrations migrations
RUN cargo build --release --locked -p tierboard

FROM node:20-bookworm-slim AS client
WORKDIR /src
COPY client client
COPY problems problems
RUN npm --prefix client ci && npm --prefix client run build

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=server /src/target/release/tierboard /usr/local/bin/tierboard
COPY --from=client /src/client/dist /app/client/dist
COPY problems /app/problems
ENV TIERBOARD_ADDR=0.0.0.0:8080 \
    TIERBOARD_PROBLEMS=/app/problems \
    TIERBOARD_STATIC=/app/client/dist
EXPOSE 8080
ENTRYPOINT ["tierboard"]
CMD ["serve", "--static-dir", "/app/client/dist"]
