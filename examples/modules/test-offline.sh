#!/usr/bin/env bash
# Runs `terraform test` of each module directory given (default: the current directory)
# offline: starts gitlab-sim in the background, points the provider at it, runs the tests of
# each module in turn, stops the simulator. From the guide "Testing your modules offline"
# (docs/guides/testing-modules-offline.md).
#
#   ./test-offline.sh [MODULE_DIR...]
#
#   PROVIDER_MIRROR  a filesystem mirror: <dir>/registry.terraform.io/gitlab-rs/gitlab/ holding
#                    the provider's release zip
#   GITLAB_SIM       the gitlab-sim binary (default: gitlab-sim on PATH)
#   TERRAFORM        Terraform >= 1.6 (default: terraform on PATH)
set -euo pipefail
: "${PROVIDER_MIRROR:?set PROVIDER_MIRROR to the directory holding the provider zip}"
[ "$#" -gt 0 ] || set -- .
export CHECKPOINT_DISABLE=1

# 1. Start the simulator: the built-in data has the group `qa`, its project
#    `qa/cluster-management` and the administrator `root`; --group adds more groups.
run="$(mktemp -d)"
"${GITLAB_SIM:-gitlab-sim}" --group platform/infra --ready-file "$run/sim.ready" >/dev/null &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" || true; rm -rf "$run"' EXIT
for _ in $(seq 100); do
  [ -e "$run/sim.ready" ] || ! kill -0 "$sim" 2>/dev/null && break
  sleep 0.1
done
[ -e "$run/sim.ready" ] || { echo "gitlab-sim did not start" >&2; exit 1; }

# 2. Point the provider at it, with the token of the built-in Maintainer.
export GITLAB_BASE_URL="$(sed -n 's/^listening on //p' "$run/sim.ready")/api/v4/"
export GITLAB_TOKEN="$(sed -n 's/^token //p' "$run/sim.ready")"

# 3. Install the provider from the local directory, never from the Registry.
cat >"$run/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$PROVIDER_MIRROR"
    include = ["registry.terraform.io/gitlab-rs/gitlab"]
  }
  direct {
    exclude = ["registry.terraform.io/gitlab-rs/gitlab"]
  }
}
CFG
export TF_CLI_CONFIG_FILE="$run/cli.tfrc"

# 4. Run the tests of each module.
for module in "$@"; do
  echo "== $module"
  (
    cd "$module"
    "${TERRAFORM:-terraform}" init -input=false -no-color
    "${TERRAFORM:-terraform}" test -no-color
  )
done
