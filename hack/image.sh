#!/usr/bin/env bash
# Builds the operator/agent image from the project's Dockerfile without a Docker engine or a registry: buildah,
# on a Java 25 base assembled from Debian packages (trixie's openjdk-25-jre-headless, by debootstrap, cached), then saved as a docker-archive for
# containerd (hack/cluster.sh import). Prints the archive's path. Needs root.
#   hack/image.sh        the image (the base first, if it is not there yet)
#   hack/image.sh base   only the Java 25 base (the demo makes it while Kubernetes builds)
# The Debian mirror and any proxy are this machine's own apt configuration: the image builds wherever apt works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JUMPGATE_ROOT"
CACHE="$JUMPGATE_CACHE"
VERSION="$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' helm/jumpgate/Chart.yaml)"
IMAGE="jumpgate:$VERSION"
# Java 25, not the machine's 17: connections through a forward run on virtual threads (agent/SshThreads), and from
# Java 24 on, those waiting inside `synchronized` do not hold a carrier thread. Trixie is the Debian release that has it.
SUITE=trixie
JRE=openjdk-25-jre-headless
BASE=localhost/jumpgate-jre:25
ROOTFS="$CACHE/images/jre-$SUITE-rootfs"
ARCHIVE="$CACHE/images/jumpgate-$VERSION.tar"
log() { echo "image: $*" >&2; }
need buildah debootstrap

# The archive this machine's apt uses for Debian's main suite (not -security or -updates), and apt's proxy.
debian_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(IDENTIFIER)' 2>/dev/null |
    awk '$3 == "Packages" && $2 !~ /-/ && $1 !~ /security/ {print $1; exit}'
}

base_image() {
  buildah inspect --type image "$BASE" >/dev/null 2>&1 && return
  if [[ ! -d $ROOTFS ]]; then
    log "assembling a Debian $SUITE + $JRE root filesystem (once; cached in $ROOTFS)"
    mirror="$(debian_mirror)"
    [[ -n $mirror ]] || { log "apt on this machine names no Debian archive (apt-get indextargets): run hack/setup.sh"; exit 1; }
    proxy="$(apt-config dump --format '%v%n' Acquire::http::Proxy 2>/dev/null | head -n 1)"
    log "from $mirror${proxy:+ through $proxy}"
    rm -rf "$ROOTFS.tmp"
    http_proxy="${proxy:-${http_proxy:-}}" debootstrap --variant=minbase --include=$JRE $SUITE \
      "$ROOTFS.tmp" "$mirror" >/dev/null
    rm -rf "$ROOTFS.tmp"/var/cache/apt/archives/*.deb "$ROOTFS.tmp"/var/lib/apt/lists/*
    mv "$ROOTFS.tmp" "$ROOTFS"
  fi
  log "making the base image $BASE (the name the Dockerfile's BASE_IMAGE gets here)"
  container=$(buildah from scratch)
  mount=$(buildah mount "$container")
  cp -a "$ROOTFS"/. "$mount"/
  buildah umount "$container" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env JAVA_HOME=/usr/lib/jvm/java-25-openjdk-amd64 "$container"
  buildah commit --quiet --rm "$container" "$BASE" >/dev/null
}

base_image
[[ ${1:-} != base ]] || exit 0
[[ -f target/quarkus-app/quarkus-run.jar ]] || mvn -B -q -ntp package -DskipTests >&2

log "building $IMAGE from the Dockerfile"
buildah bud --quiet --pull=never --layers=false --build-arg "BASE_IMAGE=$BASE" --build-arg "VERSION=$VERSION" \
  -t "$IMAGE" . >/dev/null
rm -f "$ARCHIVE"
buildah push --quiet "$IMAGE" "docker-archive:$ARCHIVE:$IMAGE" >/dev/null
echo "$ARCHIVE"
