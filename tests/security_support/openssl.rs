//! Certificates made by the `openssl` command line, in the shapes users make for a quick
//! self-managed GitLab: self-signed with `CA:TRUE` or `CA:FALSE`, a private CA and a leaf,
//! and an expired one.

use std::process::Command;

/// Certificates made by the `openssl` command line, as users make them for a quick
/// self-managed GitLab (`openssl req -x509 ...`); each shape in its own files under `dir`.
pub struct Openssl {
    pub dir: tempfile::TempDir,
}

impl Openssl {
    pub fn new() -> Openssl {
        Openssl {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("openssl is needed for these tests and could not run: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `openssl req -x509` with OpenSSL's default extensions (`CA:TRUE`) and the given
    /// subjectAltName: `<name>.pem`, `<name>-key.pem`.
    pub fn self_signed_ca_true(&self, name: &str, san: &str) {
        self.run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            &format!("subjectAltName={san}"),
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A self-signed server certificate with `CA:FALSE` (an explicit extension section).
    pub fn self_signed_ca_false(&self, name: &str, san: &str) {
        let cnf = format!("{name}.cnf");
        std::fs::write(
            self.dir.path().join(&cnf),
            format!(
                "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n[dn]\nCN = localhost\n\
                 [ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = digitalSignature,keyEncipherment\n\
                 extendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"
            ),
        )
        .expect("write openssl config");
        self.run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-config",
            &cnf,
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A CA (`<ca>.pem`) and a leaf it signed for `san` (`<name>.pem`, `<name>-key.pem`).
    pub fn ca_and_leaf(&self, ca: &str, name: &str, san: &str) {
        self.run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=test private CA",
            "-keyout",
            &format!("{ca}-key.pem"),
            "-out",
            &format!("{ca}.pem"),
        ]);
        self.run(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ]);
        let ext = format!("{name}.ext");
        std::fs::write(
            self.dir.path().join(&ext),
            format!("basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"),
        )
        .expect("write extfile");
        self.run(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}-key.pem"),
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            &ext,
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A self-signed `CA:TRUE` certificate that expired (valid in January 2020 only), made
    /// with `openssl ca -selfsign`, which takes explicit dates.
    pub fn expired_self_signed(&self, name: &str, san: &str) {
        let d = self.dir.path();
        std::fs::write(d.join("index.txt"), "").expect("index");
        std::fs::write(d.join("serial"), "01\n").expect("serial");
        let cnf = format!("{name}-ca.cnf");
        std::fs::write(
            d.join(&cnf),
            format!(
                "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
                 default_md = sha256\npolicy = p\nx509_extensions = ext\nunique_subject = no\n[p]\ncommonName = supplied\n\
                 [ext]\nbasicConstraints = critical,CA:TRUE\nsubjectAltName = {san}\n"
            ),
        )
        .expect("write ca config");
        self.run(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ]);
        self.run(&[
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            &cnf,
            "-keyfile",
            &format!("{name}-key.pem"),
            "-in",
            &format!("{name}.csr"),
            "-out",
            &format!("{name}.pem"),
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ]);
    }
}
