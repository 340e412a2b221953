# The monitor in a container: `docker build -t kr-macro-monitor .`, then the daily run with
#   docker run --rm --env-file .env -v "$PWD/config.toml:/monitor/config.toml:ro" \
#     -v monitor-data:/monitor/data -v "$PWD/exports:/monitor/exports" kr-macro-monitor
# Settings come from config.toml (the default one unless you mount yours), secrets only from the environment
# (.env.example from `monitor init` names them); nothing secret is in the image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# The package, installed as a wheel (the default config.toml goes with it); the sources are not kept.
WORKDIR /src
COPY pyproject.toml README.md LICENSE config.toml ./
COPY series ./series
COPY monitor ./monitor
COPY reports ./reports
RUN pip install --no-cache-dir --disable-pip-version-check . \
    && rm -rf /src

# A user without root, owning the folder with the config, the store and the exports; the store and the exports
# are volumes, so they outlive the container.
RUN groupadd --gid 10001 monitor \
    && useradd --create-home --uid 10001 --gid 10001 monitor \
    && mkdir -p /monitor/data /monitor/exports \
    && monitor init /monitor \
    && chown -R monitor:monitor /monitor
USER 10001:10001
WORKDIR /monitor
VOLUME ["/monitor/data", "/monitor/exports"]

CMD ["monitor", "run", "--config", "/monitor/config.toml"]
