# edgegate as a container image, for GitLab CI and other CI systems:
#
#   docker build -t edgegate .
#   docker run --rm -v "$PWD:/work" edgegate validate edgegate.yaml
#
# Stage 1 builds the release binary with HDF5 built from source and linked in (`static-hdf5`;
# HDF5's build needs CMake >= 3.26, newer than Debian bookworm's, so it comes from PyPI).
# Stage 2 is a small Debian image with only the binary and CA certificates.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/cmake \
 && /opt/cmake/bin/pip install --no-cache-dir cmake
ENV PATH="/opt/cmake/bin:${PATH}"
WORKDIR /src
COPY . .
RUN cargo build --locked --release --features static-hdf5 \
 && strip target/release/edgegate \
 && cp target/release/edgegate /usr/local/bin/edgegate \
 && edgegate --version

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/edgegate /usr/local/bin/edgegate
WORKDIR /work
ENTRYPOINT ["edgegate"]
