#!/usr/bin/env bash
# Sets up what is missing, then runs every test tier: unit, agent against a real OpenSSH relay, operator against
# the Fabric8 mock API server, and the Helm chart rendered by a real helm. See docs/testing.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/setup.sh
JUMPGATE_HELM="$(hack/tools.sh helm)"
export JUMPGATE_HELM
exec mvn -B -ntp verify "$@"
