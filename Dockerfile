# Wayfare's process image: one image, two processes (docs/deploy.md, "Process images").
#   docker build -t wayfare .                       (make image)
#   docker run --env-file web.env    -p 8000:8000 wayfare webhook   # the web service (gunicorn)
#   docker run --env-file worker.env              wayfare worker    # the job worker
# Configuration comes from the environment only (no .env in the image; secrets never baked in).
# Stop: SIGTERM. gunicorn drains requests for 10 s, the worker lets running jobs finish for
# WORKER_SHUTDOWN_TIMEOUT (20 s): give the container 30 s (docker stop -t 30).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml ./
COPY wayfare ./wayfare
COPY worker ./worker
COPY webhook ./webhook
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 wayfare \
    && useradd --system --uid 10001 --gid wayfare --home-dir /app --shell /usr/sbin/nologin wayfare
COPY --from=build /install /usr/local
WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WAYFARE_ENV=production \
    WAYFARE_WEB_HOST=0.0.0.0 \
    PORT=8000 \
    WEB_THREADS=8 \
    WEB_CONCURRENCY=1
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "-m", "wayfare.healthcheck"]
ENTRYPOINT ["python", "-m"]
CMD ["webhook"]
