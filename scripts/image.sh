#!/usr/bin/env bash
# Builds the otelcol-duo container image from a prebuilt binary and writes it as an OCI
# archive. `make image` runs it after `make otelcol`.
#
#   scripts/image.sh check    only find the container engine (fails with what to install)
#   scripts/image.sh build    stage the context, build, save build/otelcol-duo-image.tar
#
# Environment: ENGINE (podman or docker; default: podman if installed, else docker),
# PODMAN_OWN_STORE=1 (use podman's own store and settings instead of scripts/podman.sh's
# private one), IMAGE (name:tag), BIN (the collector binary), OUT (the archive),
# CA_BUNDLE (the CA certificates to copy).
set -euo pipefail

engine() {
	if [[ -n "${ENGINE:-}" ]]; then
		command -v "$ENGINE" >/dev/null 2>&1 || { echo "image: ENGINE=$ENGINE is not installed" >&2; return 1; }
		echo "$ENGINE"
	elif command -v podman >/dev/null 2>&1; then
		echo podman
	elif command -v docker >/dev/null 2>&1; then
		echo docker
	else
		# printf, not cat: a builtin, so the message shows even when PATH has nothing.
		printf '%s\n' >&2 \
			"image: no container engine found: install podman (with runc) or docker." \
			"  Debian/Ubuntu: apt-get install podman runc     (or: apt-get install docker.io)" \
			"  Fedora/RHEL:   dnf install podman runc" \
			"make image builds with whichever is on PATH; it installs nothing itself."
		return 1
	fi
}

# The engine first, with shell builtins only: the message must show on a bare PATH.
cmd=${1:-build}
eng=$(engine)
if [[ "$cmd" == check ]]; then
	echo "$eng"
	exit 0
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ "$cmd" == build ]] || { echo "usage: $0 check|build" >&2; exit 2; }

bin=${BIN:-$root/build/otelcol-duo}
out=${OUT:-$root/build/otelcol-duo-image.tar}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
version=$(sed -n 's/^  version: *//p' "$root/builder-config.yaml" | head -n1)
image=${IMAGE:-localhost/otelcol-duo:${version:-dev}}
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
run=("$eng")
if [[ "$eng" == podman && "${PODMAN_OWN_STORE:-0}" != 1 ]]; then
	run=("$root/scripts/podman.sh")
fi

[[ -x "$bin" ]] || { echo "image: $bin is missing: run make otelcol first" >&2; exit 1; }
[[ -r "$ca" ]] || { echo "image: no CA bundle at $ca (Debian: apt-get install ca-certificates; or set CA_BUNDLE)" >&2; exit 1; }

# A small staging context: the repository itself holds ./build (and podman's storage).
ctx=$(mktemp -d "${TMPDIR:-/tmp}/otelcol-duo-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/otelcol-duo"
cp "$ca" "$ctx/ca-certificates.crt"
cp "$root/examples/container/config.yaml" "$ctx/config.yaml"
mkdir "$ctx/state"

build=(build --file "$root/Containerfile" --tag "$image" --build-arg "VERSION=${version:-dev}" --build-arg "REVISION=$revision")
# podman: one layer and no intermediate images; with vfs every layer is a full copy.
[[ "$eng" == podman ]] && build+=(--layers=false)
"${run[@]}" "${build[@]}" "$ctx"
rm -f "$out"
if [[ "$eng" == podman ]]; then
	"${run[@]}" save --format oci-archive --output "$out" "$image"
else
	"${run[@]}" save --output "$out" "$image"
fi
if [[ "${run[0]}" == "$root/scripts/podman.sh" ]]; then
	"${run[@]}" image prune --force >/dev/null # the private store keeps only the newest build
fi
echo "image: $image -> $out ($(du -h "$out" | cut -f1))"
