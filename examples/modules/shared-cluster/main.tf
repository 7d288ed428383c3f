# One Kubernetes cluster, made available to GitLab at every level that deploys to it: some
# groups, some projects and, optionally, the whole instance. Group and project clusters use
# the default provider configuration (a Maintainer's token is enough); the instance cluster
# uses `gitlab.admin`, which the caller configures with an administrator's token.
terraform {
  required_version = ">= 1.3"
  required_providers {
    gitlab = {
      source                = "gitlab-rs/gitlab"
      configuration_aliases = [gitlab.admin]
    }
  }
}

variable "name" {
  type        = string
  description = "The cluster's name in GitLab, the same at every level."
}

variable "api_url" {
  type        = string
  description = "The URL of the cluster's Kubernetes API server."
}

variable "kubernetes_token" {
  type        = string
  sensitive   = true
  description = "The service-account token GitLab uses on the cluster."
}

variable "environment_scope" {
  type        = string
  default     = "*"
  description = "The environments the cluster serves, at every level."
}

variable "groups" {
  type        = set(string)
  default     = []
  description = "The groups (full paths or ids) whose projects deploy to the cluster."
}

variable "projects" {
  type        = set(string)
  default     = []
  description = "The projects (full paths or ids) that deploy to the cluster."
}

variable "instance" {
  type        = bool
  default     = false
  description = "Whether every project of the instance may deploy to the cluster (needs `gitlab.admin`)."
}

resource "gitlab_group_cluster" "this" {
  for_each = var.groups

  group              = each.value
  name               = var.name
  environment_scope  = var.environment_scope
  kubernetes_api_url = var.api_url
  kubernetes_token   = var.kubernetes_token
}

resource "gitlab_project_cluster" "this" {
  for_each = var.projects

  project            = each.value
  name               = var.name
  environment_scope  = var.environment_scope
  kubernetes_api_url = var.api_url
  kubernetes_token   = var.kubernetes_token
}

resource "gitlab_instance_cluster" "this" {
  count    = var.instance ? 1 : 0
  provider = gitlab.admin

  name               = var.name
  environment_scope  = var.environment_scope
  kubernetes_api_url = var.api_url
  kubernetes_token   = var.kubernetes_token
}

output "cluster_ids" {
  description = "The GitLab cluster id at each level: keys `group:<group>`, `project:<project>` and `instance`."
  value = merge(
    { for g, c in gitlab_group_cluster.this : "group:${g}" => c.cluster_id },
    { for p, c in gitlab_project_cluster.this : "project:${p}" => c.cluster_id },
    { for c in gitlab_instance_cluster.this : "instance" => c.cluster_id },
  )
}
