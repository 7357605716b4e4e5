# Recert: slim Python, installed as a package, run as a non-root user.
# SQLite lives on the /data volume; set DATABASE_URL for PostgreSQL instead.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
COPY storage ./storage
COPY locales ./locales
RUN python -m venv /opt/recert \
    && /opt/recert/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/recert/bin/pip install --no-cache-dir .

FROM python:3.11-slim
ENV PATH=/opt/recert/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/recert.db
COPY --from=build /opt/recert /opt/recert
# Tesseract reads photos of certificates, in English, Spanish and Russian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa tesseract-ocr-rus \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /data --create-home recert
USER recert
WORKDIR /data
VOLUME ["/data"]
# Webhook mode listens here (WEBHOOK_PORT); polling needs no port.
EXPOSE 8080
# Both modes: webhook asks the bot's /healthz; polling reads the heartbeat the bot keeps.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["recert", "health"]
# Migrations first (also run at start-up; explicit here so a failure is visible on its own).
CMD ["sh", "-c", "recert migrate && exec recert"]
