# Production image: gunicorn + whitenoise; the same image runs the web, worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PAYDESK_STATIC_MANIFEST=1
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY . .
RUN pip install --no-cache-dir -c constraints.txt . \
 && DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost/0 \
    SECRET_KEY=build-only PAYDESK_ENCRYPTION_KEYS=ZmFrZS1idWlsZC1rZXktZmFrZS1idWlsZC1rZXktMDA= \
    python manage.py collectstatic --noinput
RUN useradd --system paydesk && chown -R paydesk /app
USER paydesk
EXPOSE 8000
CMD ["gunicorn", "paydesk.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
