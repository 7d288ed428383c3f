# Test helper: reads a group's clusters back from GitLab, so a test can check what GitLab
# holds independently of the module's state.
terraform {
  required_providers {
    gitlab = {
      source = "gitlab-rs/gitlab"
    }
  }
}

variable "group" {
  type = string
}

data "gitlab_group_clusters" "this" {
  group = var.group
}

output "cluster_names" {
  value = [for c in data.gitlab_group_clusters.this.clusters : c.name]
}
