# The whole studio in a container: the same app.py as `make run`, the Transcribe tab's basic-pitch and
# demucs included. It is also what a Hugging Face Space on the Docker SDK builds (README, Deployment).
#   docker build -t music-studio .
#   docker run -p 7860:7860 -v studio-data:/data music-studio                 # CPU
#   docker run --gpus all -p 7860:7860 -v studio-data:/data music-studio      # NVIDIA GPU (container toolkit)
#
# Build arguments (--build-arg NAME=value):
#   BASE             a Debian bookworm image whose `python` and `pip` (Python 3.10+) come first on PATH.
#                    The default comes from Docker Hub. Where no registry is reachable,
#                    scripts/make_base_image.sh makes music-studio-base:bookworm from Debian packages
#                    (Debian's Python 3.11 in a virtual environment): --build-arg BASE=music-studio-base:bookworm
#   TORCH_INDEX_URL  the package index torch (the version pinned in requirements/core.txt) comes from.
#                    Empty, the default: PyPI, whose Linux x86-64 wheels carry CUDA and its libraries (an
#                    image of 6.9 GB). https://download.pytorch.org/whl/cpu: the CPU-only build (2.8 GB),
#                    for hosts without an NVIDIA GPU, CPU Spaces included.
# Every step fails the build when any of its commands fails: an image without transcription is an error.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

# 1. FluidSynth and the General MIDI soundfont (packages.txt, the list a Space on the Gradio SDK installs
#    too) and tini, which as process 1 passes `docker stop`'s SIGTERM on to the studio (Python as process
#    1 ignores it, and the stop waits 10 s for a SIGKILL).
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini $(cat /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/packages.txt

# 2. Python packages, as scripts/setup.sh installs them: requirements.txt, then basic-pitch and demucs
#    without their declared dependencies (TensorFlow, torchaudio with a second torch). torch alone comes
#    from TORCH_INDEX_URL when it is set; its own dependencies come from PyPI with everything else.
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /app
COPY requirements.txt ./
COPY requirements/ requirements/
ARG TORCH_INDEX_URL=
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --no-deps --index-url "$TORCH_INDEX_URL" "$(grep -E '^torch==' requirements/core.txt)"; \
    fi
RUN pip install -r requirements.txt \
 && for f in requirements/*-nodeps.txt; do pip install --no-deps -r "$f" || exit 1; done \
 && python -c "import os, torch, gradio, fluidsynth, demucs.apply, demucs.pretrained, basic_pitch as bp, \
basic_pitch.inference, basic_pitch.note_creation; \
assert os.path.isfile(bp.build_icassp_2022_model_path(bp.FilenameSuffix.onnx)), 'basic-pitch ONNX model missing'; \
print('torch', torch.__version__, '| gradio', gradio.__version__)"

# 3. The studio. A Space runs the container as user 1000, so the image does too: the code stays
#    root's (read-only), the workspace /data (a Space's persistent storage, or a volume) is the user's.
RUN useradd --create-home --uid 1000 user && mkdir -p /data && chown user:user /data
COPY . .
RUN python -m compileall -q app.py pipelines studio
ENV GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_ANALYTICS_ENABLED=False \
    STUDIO_HOME=/data \
    HOME=/home/user \
    PYTHONUNBUFFERED=1
USER user
VOLUME /data
EXPOSE 7860
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "app.py"]
