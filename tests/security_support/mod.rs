//! Shared by the security tests, one job per module:
//!
//! - [`pki`]: a throw-away PKI made with rcgen (a CA, a server certificate for `localhost`
//!   and `127.0.0.1`, a client certificate signed by a second CA, a rogue one).
//! - [`openssl`]: certificates made by the `openssl` command line, as users make them.
//! - [`https_sim`]: the GitLab simulator served over HTTPS from such certificates.
//! - [`hcl`]: the provider block and path literals the tests write.
#![allow(dead_code)]

pub mod hcl;
pub mod https_sim;
pub mod openssl;
pub mod pki;

#[allow(unused_imports)]
pub use hcl::{hcl_path, provider_hcl};
#[allow(unused_imports)]
pub use https_sim::HttpsSim;
#[allow(unused_imports)]
pub use openssl::Openssl;
#[allow(unused_imports)]
pub use pki::Pki;
