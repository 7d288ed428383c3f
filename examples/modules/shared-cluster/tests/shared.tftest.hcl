# terraform test (Terraform >= 1.6) for the shared-cluster module, against gitlab-sim: one
# cluster of each kind. GITLAB_BASE_URL and GITLAB_TOKEN (the simulator's Maintainer) configure
# the default provider; the instance cluster needs an administrator, so `gitlab.admin` carries
# the token of the simulator's built-in administrator `root`. The runs share one state.

provider "gitlab" {}

provider "gitlab" {
  alias = "admin"
  token = "sim-admin-token"
}

variables {
  name              = "shared"
  api_url           = "https://k8s-shared.example.com:6443"
  kubernetes_token  = "shared-service-account-token"
  environment_scope = "review/*"
  groups            = ["qa/platform"]
  projects          = ["qa/cluster-management"]
  instance          = true
}

run "creates_one_cluster_of_each_kind" {
  assert {
    condition     = keys(output.cluster_ids) == ["group:qa/platform", "instance", "project:qa/cluster-management"]
    error_message = "expected a group, a project and an instance cluster, got ${jsonencode(output.cluster_ids)}"
  }
  assert {
    condition     = length(distinct(values(output.cluster_ids))) == 3
    error_message = "each level must have a cluster of its own, got ${jsonencode(output.cluster_ids)}"
  }
  assert {
    condition     = gitlab_instance_cluster.this[0].id == tostring(output.cluster_ids["instance"]) && gitlab_project_cluster.this["qa/cluster-management"].id == "qa/cluster-management:${output.cluster_ids["project:qa/cluster-management"]}"
    error_message = "an instance cluster's id is its cluster id, a project cluster's <project>:<cluster id>"
  }
}

run "gitlab_holds_each_cluster_at_its_level" {
  module {
    source = "./tests/inspect"
  }
  variables {
    group   = "qa/platform"
    project = "qa/cluster-management"
  }
  assert {
    condition = output.clusters == {
      group    = { shared = "group_type" }
      project  = { shared = "project_type" }
      instance = { shared = "instance_type" }
    }
    error_message = "GitLab must list the cluster once at each level, got ${jsonencode(output.clusters)}"
  }
}

run "changes_the_environment_scope_in_place_at_every_level" {
  variables {
    environment_scope = "staging"
  }
  assert {
    condition     = output.cluster_ids == run.creates_one_cluster_of_each_kind.cluster_ids
    error_message = "a new environment scope must update the clusters in place (same ids), got ${jsonencode(output.cluster_ids)}"
  }
  assert {
    condition     = gitlab_group_cluster.this["qa/platform"].environment_scope == "staging" && gitlab_project_cluster.this["qa/cluster-management"].environment_scope == "staging" && gitlab_instance_cluster.this[0].environment_scope == "staging"
    error_message = "every cluster must serve the new scope"
  }
}

run "removes_the_instance_cluster_alone" {
  variables {
    environment_scope = "staging"
    instance          = false
  }
  assert {
    condition     = keys(output.cluster_ids) == ["group:qa/platform", "project:qa/cluster-management"]
    error_message = "only the group and project clusters must remain, got ${jsonencode(output.cluster_ids)}"
  }
}
