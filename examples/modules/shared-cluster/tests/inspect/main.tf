# Test helper: reads back from GitLab the clusters of a group, a project and the instance, so
# a test can check what GitLab holds independently of the module's state.
terraform {
  required_providers {
    gitlab = {
      source                = "gitlab-rs/gitlab"
      configuration_aliases = [gitlab.admin]
    }
  }
}

variable "group" {
  type = string
}

variable "project" {
  type = string
}

data "gitlab_group_clusters" "this" {
  group = var.group
}

data "gitlab_project_clusters" "this" {
  project = var.project
}

data "gitlab_instance_clusters" "this" {
  provider = gitlab.admin
}

output "clusters" {
  value = {
    group    = { for c in data.gitlab_group_clusters.this.clusters : c.name => c.cluster_type }
    project  = { for c in data.gitlab_project_clusters.this.clusters : c.name => c.cluster_type }
    instance = { for c in data.gitlab_instance_clusters.this.clusters : c.name => c.cluster_type }
  }
}
