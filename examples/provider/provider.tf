terraform {
  required_providers {
    gitlab = {
      source = "gitlab-rs/gitlab"
    }
  }
}

# The token can also come from GITLAB_TOKEN, and the URL from GITLAB_BASE_URL.
provider "gitlab" {
  base_url = "https://gitlab.example.com/"
  token    = var.gitlab_token
}

variable "gitlab_token" {
  type      = string
  sensitive = true
}
