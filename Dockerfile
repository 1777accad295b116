# reconciler in a container. `make image` builds heatmap-reconciler:VERSION from the wheel
# that `make dist` put in dist/, with every dependency checked against the hashes of
# constraints/runtime.txt. No keys in the image: pass DD_API_KEY / DD_APP_KEY at run time.
#
#   docker run --rm --init -e DD_API_KEY -e DD_APP_KEY -e DD_SITE \
#     -v "$PWD:/work" heatmap-reconciler:0.1.0 plan
#
# Signals: the entrypoint is reconciler itself (exec form), so signals reach it; STOPSIGNAL
# makes `docker stop` send SIGINT, which reconciler treats as Ctrl-C (in-flight requests
# finish, exit 130). As PID 1 a process gets no default action for SIGTERM, so run with
# `--init` (or an orchestrator's init) where SIGTERM is what stops containers.
#
# Pin the base image by digest for reproducible builds: make image
# PYTHON_IMAGE=python:3.12-slim@sha256:<digest> (verify the digest on your registry).
ARG PYTHON_IMAGE=python:3.12-slim

# Stage 1: the virtualenv. dist/pip-ca.pem (only with `make image PIP_CA=FILE`, for a
# TLS-inspecting proxy) is used here and never reaches the final image.
FROM ${PYTHON_IMAGE} AS build
ARG VERSION
COPY constraints/runtime.txt dist/ /tmp/install/
RUN test -n "$VERSION" \
    && if [ -f /tmp/install/pip-ca.pem ]; then export PIP_CERT=/tmp/install/pip-ca.pem; fi \
    && python3 -m venv /opt/reconciler \
    && /opt/reconciler/bin/python -m pip install --quiet --no-cache-dir \
        --disable-pip-version-check --require-hashes --no-deps -r /tmp/install/runtime.txt \
    && /opt/reconciler/bin/python -m pip install --quiet --no-cache-dir \
        --disable-pip-version-check --no-deps --no-index \
        /tmp/install/heatmap_reconciler-${VERSION}-py3-none-any.whl \
    && /opt/reconciler/bin/reconciler --version

# Stage 2: the image: the virtualenv, a non-root user, nothing else.
FROM ${PYTHON_IMAGE}
ARG VERSION
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/reconciler/bin:$PATH
COPY --from=build /opt/reconciler /opt/reconciler
RUN useradd --create-home --uid 10001 --user-group reconciler \
    && mkdir /work && chown reconciler:reconciler /work
USER reconciler
WORKDIR /work
LABEL org.opencontainers.image.title="heatmap-reconciler" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
STOPSIGNAL SIGINT
ENTRYPOINT ["reconciler"]
CMD ["--help"]
