# The studio in a container: the same app.py as `make run`.
#   docker build -t music-studio .
#   docker run -p 7860:7860 -v studio-data:/data music-studio
# PyPI's Linux torch wheels carry CUDA, so `docker run --gpus all` uses an NVIDIA GPU when the host
# has the NVIDIA container toolkit; BASE can name another Python 3.10+ image.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

RUN apt-get update \
 && apt-get install -y --no-install-recommends fluidsynth libfluidsynth3 fluid-soundfont-gm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements.txt \
 && for f in requirements/*-nodeps.txt; do [ -f "$f" ] && pip install --no-cache-dir --no-deps -r "$f"; done; true

COPY . .
ENV GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_ANALYTICS_ENABLED=False \
    STUDIO_HOME=/data \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 7860
CMD ["python", "app.py"]
