# Instance clusters are for administrators. The default provider keeps a Maintainer's token
# for group and project clusters; this one carries an administrator's.
provider "gitlab" {
  alias = "admin"
  token = var.gitlab_admin_token # an administrator's (with `admin_mode` where Admin Mode is on)
}

resource "gitlab_instance_cluster" "shared" {
  provider = gitlab.admin

  name                        = "shared"
  environment_scope           = "*"
  kubernetes_api_url          = "https://k8s-shared.example.com:6443"
  kubernetes_token_wo         = var.kubernetes_token # Terraform 1.11+: kept out of state
  kubernetes_token_wo_version = 1                    # bump to send a rotated token
  management_project_id       = "123"                # any project of the instance
}

variable "gitlab_admin_token" {
  type      = string
  sensitive = true
}

variable "kubernetes_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
