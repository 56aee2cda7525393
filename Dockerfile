# The ixrs image used by docker-compose.yml. Never built here (no Docker engine).
FROM python:3.11-slim
WORKDIR /opt/ixrs
COPY pyproject.toml README.md ./
COPY ixrs ixrs
COPY speaker speaker
COPY processors processors
COPY schemas schemas
COPY replay replay
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT []
CMD ["ixrs", "--help"]
