#!/usr/bin/env bash
# Builds AegisClaw's local base image from Debian's static busybox. There is no registry to pull
# from, so the rootfs is assembled here and imported. Idempotent: skips when the image exists
# unless --force is given.
set -euo pipefail
IMAGE="${AEGISCLAW_BASE_IMAGE:-aegisclaw/base:busybox}"
if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE already present" >&2
  exit 0
fi
BUSYBOX=/bin/busybox
# The image has no libc, so busybox must be the static build (ldd says "not a dynamic executable").
if [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "a static busybox is missing; install it with: apt-get install -y busybox-static" >&2
  exit 69
fi
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,tmp,etc,proc,sys,dev,work}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
chmod 1777 "$ROOT/tmp"
tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -c . |
  docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' -c 'LABEL io.aegisclaw.base=busybox' - "$IMAGE" >/dev/null
echo "built base image $IMAGE" >&2
