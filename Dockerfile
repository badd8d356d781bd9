# OpenClaw gateway image: a build stage with the -dev packages, a small
# runtime stage with only the shared libraries, a non-root user, the config at
# /etc/openclaw/gateway.yaml and the state in the volume /var/lib/openclaw.
#
#   docker build -t openclaw-gateway .
#   docker run -d -e OPENCLAW_API_KEY="$(openssl rand -hex 24)" \
#     -p 3000:3000 -p 9090:9090 -v openclaw-state:/var/lib/openclaw openclaw-gateway
#
# The gateway listens on 0.0.0.0 in the container, which requires auth: the
# image's config (conf/examples/docker.yaml) reads auth.apiKey from
# OPENCLAW_API_KEY, and without it the container refuses to start (exit 78,
# "configuration error" naming OPENCLAW_API_KEY). scripts/docker-smoke builds
# and probes this image where a Docker engine runs.

FROM debian:bookworm-slim AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libuv1-dev libh2o-dev libwslay-dev libssl-dev libyaml-dev libjson-c-dev \
      libcurl4-gnutls-dev libgnutls28-dev libpq-dev libsqlite3-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*

# Only what the build reads (the tests are not built into the image).
WORKDIR /src
COPY CMakeLists.txt /src/
COPY core /src/core
COPY plugins /src/plugins
COPY sdk /src/sdk

RUN cmake -S /src -B /build \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX=/opt/openclaw \
      -DCMAKE_INSTALL_LIBDIR=lib \
      -DOPENCLAW_TESTS=OFF \
      -DOPENCLAW_WERROR=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cmake --install /build --strip


FROM debian:bookworm-slim AS runtime

LABEL org.opencontainers.image.title="openclaw-gateway" \
      org.opencontainers.image.description="OpenClaw gateway: chat channels to LLM providers (C, libuv, h2o, plugins)"

# Runtime libraries of the gateway and its plugins (the -dev packages above
# minus headers), ca-certificates for TLS to providers, curl for HEALTHCHECK.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 libh2o0.13 libwslay1 libssl3 libyaml-0-2 libjson-c5 \
      libcurl3-gnutls libgnutls30 libpq5 libsqlite3-0 libhiredis0.14 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 openclaw \
 && useradd --uid 10001 --gid openclaw --home-dir /var/lib/openclaw \
      --no-create-home --shell /usr/sbin/nologin openclaw \
 && mkdir -p /var/lib/openclaw /etc/openclaw \
 && chown openclaw:openclaw /var/lib/openclaw \
 && chmod 0750 /var/lib/openclaw

# The gateway and its plugins only; the SDK (headers, pkg-config, CMake
# package) stays in the build stage.
COPY --from=build /opt/openclaw/bin /opt/openclaw/bin
COPY --from=build /opt/openclaw/lib/openclaw /opt/openclaw/lib/openclaw
COPY conf/examples/docker.yaml /etc/openclaw/gateway.yaml

# Fail the build, not the first start, when a shared library is missing.
RUN if ldd /opt/openclaw/bin/openclaw /opt/openclaw/lib/openclaw/plugins/*.so | grep -F 'not found'; then exit 1; fi \
 && /opt/openclaw/bin/openclaw --version

ENV PATH=/opt/openclaw/bin:$PATH \
    HOME=/var/lib/openclaw \
    OPENCLAW_STATE_DIR=/var/lib/openclaw \
    OPENCLAW_CONFIG_PATH=/etc/openclaw/gateway.yaml

VOLUME ["/var/lib/openclaw"]
WORKDIR /var/lib/openclaw
# The openclaw user, numerically (lets Kubernetes' runAsNonRoot verify it).
USER 10001:10001

EXPOSE 3000 9090

# (No --start-period: the gateway is ready within milliseconds, and
# dockerfilelint 1.8 rejects that option's name.)
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${OPENCLAW_PORT:-3000}/health" || exit 1

STOPSIGNAL SIGTERM
ENTRYPOINT ["openclaw"]
CMD ["gateway", "start", "--config", "/etc/openclaw/gateway.yaml"]
