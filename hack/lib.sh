# Sourced by the project's scripts (source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"): where the project and its
# cache are, and one way to say that a tool is needed and, when it is missing, which package brings it.
JUMPGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JUMPGATE_CACHE="${JUMPGATE_CACHE:-$HOME/.cache/jumpgate}"

# The Debian package(s) that bring a command or file, from hack/packages.txt; "prerequisite" for Java, Maven, Go.
package_of() {
  awk -v tool="$1" '!/^#/ && $1 == tool { out = $2; for (i = 3; i <= NF && $i != "#"; i++) out = out " " $i; print out; exit }' \
    "$JUMPGATE_ROOT/hack/packages.txt"
}

# need TOOL...: every TOOL (a command, or an absolute path) must be there. Otherwise say, for each, which package
# brings it and what to run, and stop the script.
need() {
  local tool package missing=0
  for tool in "$@"; do
    if [[ $tool == /* ]]; then [[ -e $tool ]] && continue; else command -v "$tool" >/dev/null && continue; fi
    package="$(package_of "$tool")"
    case "$package" in
      prerequisite) echo "${0##*/}: $tool is missing: install it first (README.md, Prerequisites)" >&2 ;;
      "") echo "${0##*/}: $tool is missing, and hack/packages.txt does not say which package brings it" >&2 ;;
      *) echo "${0##*/}: $tool is missing (Debian package: $package): run hack/setup.sh" >&2 ;;
    esac
    missing=1
  done
  (( missing == 0 )) || exit 1
}

# The steps of a long script (demo, tests): each is announced and timed, and when one fails the script says which,
# after how long, and what to do (the step's hint). `steps_begin NAME` once, then `step "title" "hint"` before each;
# steps_begin installs an EXIT trap that calls the function `on_failure` if the script defines one (to put the host
# back), and prints the times at the end.
steps_begin() {
  STEPS_NAME=$1 STEP_TITLE="" STEP_HINT="" STEP_START=$SECONDS STEPS_START=$SECONDS STEP_TIMES=()
  trap 'steps_end $?' EXIT
}

step() { # title [hint]
  step_done
  STEP_TITLE=$1 STEP_HINT=${2:-} STEP_START=$SECONDS
  printf '\n== %s\n' "$1" >&2
}

step_done() {
  [[ -n $STEP_TITLE ]] || return 0
  STEP_TIMES+=("$(printf '%5ss  %s' $((SECONDS - STEP_START)) "$STEP_TITLE")")
  printf '   (%ss)\n' $((SECONDS - STEP_START)) >&2
  STEP_TITLE=""
}

steps_end() {
  local status=$1
  trap - EXIT
  if (( status == 0 )); then
    step_done
    printf '\n%s: done in %ss\n' "$STEPS_NAME" $((SECONDS - STEPS_START)) >&2
    printf '%s\n' "${STEP_TIMES[@]}" >&2
  else
    printf '\n%s: FAILED at step "%s" after %ss (exit status %s).\n' "$STEPS_NAME" "$STEP_TITLE" \
      $((SECONDS - STEP_START)) "$status" >&2
    [[ -z $STEP_HINT ]] || printf '%s\n' "$STEP_HINT" | fold -s -w 110 | sed 's/^/  /' >&2
    if declare -F on_failure >/dev/null; then on_failure || true; fi
  fi
  exit "$status"
}

# What a cluster run needs built, side by side (a first run waits on the CPU for Go while Maven and debootstrap
# wait on the network): Kubernetes and etcd, Jumpgate (not again when JUMPGATE_PACKAGED=1: hack/test.sh has just
# built it) and the image's Java base. Prints Kubernetes' bin directory.
build_for_cluster() {
  local package="mvn -B -q -ntp package -DskipTests"
  [[ ${JUMPGATE_PACKAGED:-} != 1 ]] || package=true
  together "Kubernetes v1.34 and etcd, from their Go modules" "hack/kubernetes/build.sh >/dev/null" \
    "Jumpgate (mvn package)" "$package" \
    "the image's Java 25 base (debootstrap, buildah)" "hack/image.sh base" || return 1  # $(...) drops set -e
  hack/kubernetes/build.sh
}

# together TITLE COMMAND [TITLE COMMAND ...]: runs the commands side by side, each one's output in a log of its own,
# waits for all of them, prints each one's time, and when any failed names it with the end of its log and fails.
# For work that waits on different things (the CPU, the network, the disk), so a first run is not their sum.
together() {
  local logs titles=() pids=() i status=0
  logs="$(mktemp -d /tmp/jumpgate-together.XXXXXX)"
  while (( $# >= 2 )); do
    titles+=("$1")
    ( start=$SECONDS; bash -c "$2"; code=$?; echo "$((SECONDS - start))" > "$logs/${#titles[@]}.time"; exit $code ) \
      > "$logs/${#titles[@]}.log" 2>&1 &
    pids+=($!)
    shift 2
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      printf '   %-58s %5ss\n' "${titles[$i]}" "$(cat "$logs/$((i + 1)).time" 2>/dev/null)" >&2
    else
      status=1
      printf '   %-58s FAILED; the end of its output:\n' "${titles[$i]}" >&2
      tail -n 25 "$logs/$((i + 1)).log" | sed 's/^/     | /' >&2
    fi
  done
  rm -rf "$logs"
  return "$status"
}
