# One GitLab group cluster per environment of a group, from a map. The provider is configured
# by the caller (or by GITLAB_BASE_URL and GITLAB_TOKEN).
terraform {
  required_version = ">= 1.3"
  required_providers {
    gitlab = {
      source = "gitlab-rs/gitlab"
    }
  }
}

variable "group" {
  type        = string
  description = "The group the clusters belong to: its full path or numeric id."
}

variable "environments" {
  type = map(object({
    api_url = string
    ca_cert = optional(string)
    domain  = optional(string)
  }))
  description = "The clusters, keyed by environment name: each cluster serves that environment (its GitLab environment scope)."

  validation {
    condition     = alltrue([for name in keys(var.environments) : can(regex("^[a-z][a-z0-9-]{0,30}$", name))])
    error_message = "Environment names must be 1 to 31 lower-case letters, digits and '-', starting with a letter."
  }
  validation {
    condition     = alltrue([for env in values(var.environments) : startswith(env.api_url, "https://")])
    error_message = "Each api_url must be an https:// URL: GitLab talks to the cluster's API with its token."
  }
}

variable "kubernetes_tokens" {
  type        = map(string)
  sensitive   = true
  description = "The service-account token of each environment's cluster, keyed like `environments`."
}

variable "name_prefix" {
  type        = string
  default     = ""
  description = "Prepended to each environment name to make the cluster's name."
}

resource "gitlab_group_cluster" "this" {
  for_each = var.environments

  group              = var.group
  name               = "${var.name_prefix}${each.key}"
  environment_scope  = each.key
  kubernetes_api_url = each.value.api_url
  kubernetes_token   = var.kubernetes_tokens[each.key]
  kubernetes_ca_cert = each.value.ca_cert
  domain             = each.value.domain
}

output "cluster_ids" {
  description = "The GitLab cluster id of each environment."
  value       = { for env, cluster in gitlab_group_cluster.this : env => cluster.cluster_id }
}
