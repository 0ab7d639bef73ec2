#!/usr/bin/env bash
# Runs podman with a private store and the settings a sandboxed machine (CI) needs:
#   - the store (--root, --runroot) under $PODMAN_STATE (default ./build/podman), so that
#     builds and tests neither see nor disturb the machine's own images and containers;
#   - vfs storage (no overlay mounts), the runc runtime (crun fails on a hybrid cgroup
#     layout), cgroupfs (no systemd), events and container logs in files (no journald);
#   - default_ulimits = []: the sandbox may not raise RLIMIT_NOFILE/NPROC, which podman
#     otherwise does for every container.
# `make image` and the container end-to-end test run podman through this script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${PODMAN_STATE:-$root/build/podman}
mkdir -p "$state"
conf=$state/containers.conf
if [[ ! -f "$conf" ]]; then
	cat >"$conf" <<'CONF'
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi
export CONTAINERS_CONF=$conf
exec podman --root "$state/root" --runroot "$state/run" --storage-driver vfs "$@"
