//! `keeper`: a whole Terraform provider on tfplugin, with one resource, `keeper_value`, that
//! keeps the string it is given (what terraform-plugin-framework's tutorial starts from).
//! Terraform starts the binary; `tests/example_e2e.rs` runs it with Terraform.
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::framework::Framework;
use tfplugin::framework::prelude::*;
use tfplugin::protocol::{logging, redact::Redacting, server};
use tokio_util::sync::CancellationToken;

tfplugin::tf_model! { struct Config { prefix: Val<String> } }
tfplugin::tf_model! { struct Kept { id: Val<String>, value: Val<String> } }

struct Keeper;
struct KeptValue;

#[async_trait]
impl ProviderDef for Keeper {
    type Config = Config;
    type Data = String; // what every resource gets: the id prefix
    fn schema(&self) -> Schema {
        let prefix = Attribute::string("prefix")
            .optional()
            .env(&["KEEPER_PREFIX"]);
        Schema::new("Keeps values.", vec![prefix.describe("Starts every id.")])
    }
    async fn configure(&self, c: Config, _: CancellationToken) -> Result<String, Diagnostics> {
        Ok(c.prefix.known().cloned().unwrap_or_else(|| "kept-".into()))
    }
    fn resources(&self) -> Vec<Arc<dyn AnyResource<String>>> {
        vec![resource(KeptValue)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn AnyDataSource<String>>> {
        vec![]
    }
}

#[async_trait]
impl Resource<String> for KeptValue {
    type State = Kept;
    fn type_name(&self) -> &'static str {
        "keeper_value"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            "A value Terraform keeps.",
            vec![
                Attribute::string("id")
                    .computed()
                    .stable()
                    .describe("The id."),
                Attribute::string("value")
                    .required()
                    .describe("The value kept."),
            ],
        )
    }
    async fn create(&self, ctx: &Ctx<'_, String>, mut planned: Kept) -> Outcome<Kept> {
        let value = planned.value.known().cloned().unwrap_or_default();
        planned.id = Val::Known(format!("{}{value}", ctx.data));
        Outcome::ok(planned)
    }
    async fn read(&self, _: &Ctx<'_, String>, state: Kept) -> Outcome<Kept> {
        Outcome::ok(state)
    }
    async fn update(&self, _: &Ctx<'_, String>, _: Kept, planned: Kept) -> Outcome<Kept> {
        Outcome::ok(planned)
    }
    async fn delete(&self, _: &Ctx<'_, String>, _: Kept) -> Outcome<Kept> {
        Outcome::none()
    }
    async fn import(&self, _: &Ctx<'_, String>, id: &str) -> Outcome<Kept> {
        Outcome::err(Diagnostic::error(
            "Not importable",
            format!("{id}: nothing to import."),
        ))
    }
}

fn main() -> ExitCode {
    let opts = server::ServeOptions::new("keeper", "registry.terraform.io/example/keeper");
    let redactor = logging::init(logging::level_from_env(&opts.logging()), &opts.logging());
    let framework = Framework::new(Keeper).with_redactor(redactor.clone());
    let provider = Arc::new(Redacting::new(framework, redactor));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime.map(|rt| rt.block_on(server::serve(provider, opts))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => (eprintln!("{e}"), ExitCode::FAILURE).1,
        Err(e) => (eprintln!("{e}"), ExitCode::FAILURE).1,
    }
}
