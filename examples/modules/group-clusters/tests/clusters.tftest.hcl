# terraform test (Terraform >= 1.6) for the group-clusters module, against gitlab-sim:
# GITLAB_BASE_URL and GITLAB_TOKEN point the provider at it (see the guide "Testing your
# modules offline"). The runs share one state and run in order.

variables {
  group = "qa"
  environments = {
    staging = {
      api_url = "https://k8s-staging.example.com:6443"
    }
    production = {
      api_url = "https://k8s-production.example.com:6443"
      domain  = "production.example.com"
    }
  }
  kubernetes_tokens = {
    staging    = "staging-service-account-token"
    production = "production-service-account-token"
  }
}

run "creates_one_cluster_per_environment" {
  assert {
    condition     = length(output.cluster_ids) == 2 && alltrue([for id in values(output.cluster_ids) : id > 0])
    error_message = "expected a GitLab cluster id for each of the two environments, got ${jsonencode(output.cluster_ids)}"
  }
  assert {
    condition     = gitlab_group_cluster.this["staging"].environment_scope == "staging" && gitlab_group_cluster.this["production"].environment_scope == "production"
    error_message = "each cluster must serve exactly its environment"
  }
  assert {
    condition     = gitlab_group_cluster.this["production"].domain == "production.example.com" && gitlab_group_cluster.this["staging"].domain == null
    error_message = "the domain must be the configured one, and none when not configured"
  }
}

run "refuses_an_environment_name_that_is_not_a_plain_name" {
  command = plan
  variables {
    environments = {
      "Staging EU" = {
        api_url = "https://k8s-staging-eu.example.com:6443"
      }
    }
    kubernetes_tokens = {
      "Staging EU" = "token"
    }
  }
  expect_failures = [var.environments]
}

run "refuses_a_plain_http_api_url" {
  command = plan
  variables {
    environments = {
      staging = {
        api_url = "http://k8s-staging.example.com:6443"
      }
    }
  }
  expect_failures = [var.environments]
}

run "updates_a_cluster_in_place_when_its_domain_and_name_change" {
  variables {
    name_prefix = "qa-"
    environments = {
      staging = {
        api_url = "https://k8s-staging.example.com:6443"
        domain  = "staging.example.com"
      }
      production = {
        api_url = "https://k8s-production.example.com:6443"
        domain  = "production.example.com"
      }
    }
  }
  assert {
    condition     = output.cluster_ids == run.creates_one_cluster_per_environment.cluster_ids
    error_message = "changing the name and domain must update the clusters in place (same ids), got ${jsonencode(output.cluster_ids)}"
  }
  assert {
    condition     = gitlab_group_cluster.this["staging"].name == "qa-staging" && gitlab_group_cluster.this["staging"].domain == "staging.example.com"
    error_message = "the staging cluster must carry the new name and domain"
  }
}

# Moving the clusters to another group forces new clusters (`group` is ForceNew). Terraform
# test cannot read a planned action, so this plan run checks the planned values, and the runs
# after it prove the replacement: new cluster ids in the new group, none left in the old one.
run "plans_new_clusters_when_the_group_changes" {
  command = plan
  variables {
    group       = "platform/infra"
    name_prefix = "qa-"
  }
  assert {
    condition     = alltrue([for c in gitlab_group_cluster.this : c.group == "platform/infra"])
    error_message = "the plan must move every cluster to platform/infra"
  }
}

run "replaces_the_clusters_in_the_new_group" {
  variables {
    group       = "platform/infra"
    name_prefix = "qa-"
  }
  assert {
    condition     = alltrue([for env, id in output.cluster_ids : id != run.creates_one_cluster_per_environment.cluster_ids[env]])
    error_message = "a new group must replace the clusters (new ids), got ${jsonencode(output.cluster_ids)}"
  }
  assert {
    condition     = alltrue([for c in gitlab_group_cluster.this : startswith(c.id, "platform/infra:")])
    error_message = "the new clusters must belong to platform/infra"
  }
}

run "leaves_no_cluster_in_the_old_group" {
  module {
    source = "./tests/inspect"
  }
  variables {
    group = "qa"
  }
  assert {
    condition     = output.cluster_names == []
    error_message = "the replaced clusters must be deleted from qa, found ${jsonencode(output.cluster_names)}"
  }
}
