//! HCL the security tests write: the provider block with given arguments, and path
//! literals.

use std::path::PathBuf;

/// The terraform block and a `gitlab` provider block with `attrs` (HCL lines).
pub fn provider_hcl(attrs: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    gitlab = {{ source = \"gitlab-rs/gitlab\" }}\n  }}\n}}\n\n\
         provider \"gitlab\" {{\n{attrs}}}\n"
    )
}

/// HCL string literal for a path.
pub fn hcl_path(p: &str) -> String {
    format!("{:?}", PathBuf::from(p).display().to_string())
}
