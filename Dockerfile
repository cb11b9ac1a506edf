# pixpress serve as a container: a build stage with the toolchain and the
# codec headers, then a minimal runtime stage (Debian 12 slim, the codec
# runtime libraries only, a non-root user). The SBOM of the binary
# (CycloneDX) ships beside it in /usr/share/doc/pixpress/.
#
#   docker build -t pixpress:0.1.0 .
#   docker run --rm -p 8080:8080 -p 50051:50051 pixpress:0.1.0
#
# `make check-runtime-image` runs the runtime stage's recipe (the same
# package list, read from this file) in a Debian 12 chroot made by debootstrap.

FROM rust:1.88-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake nasm pkg-config libde265-dev libdav1d-dev libaom-dev liblcms2-dev python3 \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-cyclonedx --locked --version 0.5.8
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p pixpress-cli \
 && mkdir -p /out \
 && cp target/release/pixpress /out/ \
 && python3 scripts/sbom.py /out/pixpress /out/pixpress.cdx.json

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libaom3 libdav1d6 libde265-0 liblcms2-2 libstdc++6 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pixpress \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin pixpress
COPY --from=build /out/pixpress /usr/local/bin/pixpress
COPY --from=build /out/pixpress.cdx.json /usr/share/doc/pixpress/pixpress.cdx.json
COPY LICENSES.md /usr/share/doc/pixpress/
USER 10001:10001
ENV PIXPRESS_HTTP_ADDR=0.0.0.0:8080 \
    PIXPRESS_GRPC_ADDR=0.0.0.0:50051 \
    PIXPRESS_LOG=json
EXPOSE 8080 50051
STOPSIGNAL SIGTERM
ENTRYPOINT ["pixpress"]
CMD ["serve"]
