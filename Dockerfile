# The AVS Portal image: web (uvicorn), worker and beat (Celery) all run it; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AVSPORTAL_VAR_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media

WORKDIR /app
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p avsportal core inventory migrations_app hcx \
    && touch avsportal/__init__.py core/__init__.py inventory/__init__.py migrations_app/__init__.py hcx/__init__.py \
    && pip install --no-cache-dir -e . \
    && rm -rf avsportal core inventory migrations_app hcx
COPY . .
# Editable, because templates/ and static/ live beside the packages, not inside them.
RUN pip install --no-cache-dir --no-deps -e . \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && useradd --system --uid 1000 --home-dir /data avsportal \
    && mkdir -p /data/media && chown -R avsportal /data

USER avsportal
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "avsportal.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers"]
