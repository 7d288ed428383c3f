//! Terraform's checks of what the provider answers, run by the client on every answer: a
//! write-only attribute is null in every returned object, a plan is valid and an applied
//! state consistent with its plan ([`super::super::objchange`]). A failed check fails the
//! test with the error Terraform would print.

use terraform_provider_gitlab::protocol::codec;
use terraform_provider_gitlab::protocol::value::Value;
use tonic::Status;

use super::super::objchange;
use super::super::wire::{Applied, Dv, Planned, WireSchema, errors};
use super::ProtocolClient;

/// The value a DynamicValue sent to the provider holds (null when absent or unreadable:
/// the checks then compare against null, as Terraform would have nothing either).
fn dv_value(schema: &WireSchema, dv: Option<&Dv>) -> Value {
    match dv {
        Some(Dv::Msgpack(b)) => codec::from_msgpack(b, &schema.ty()).unwrap_or(Value::Null),
        Some(Dv::Json(b)) => {
            codec::from_json(b, &schema.ty(), codec::UnknownAttrs::Ignore).unwrap_or(Value::Null)
        }
        None => Value::Null,
    }
}

impl ProtocolClient {
    /// Terraform's rule (lang/ephemeral.ValidateWriteOnlyAttributes, called after
    /// PlanResourceChange, ApplyResourceChange, ReadResource, ImportResourceState and
    /// UpgradeResourceState): every write-only attribute of a returned object is null.
    /// Anything else fails the test with the error Terraform would print.
    pub async fn assert_write_only_null(
        &mut self,
        type_name: &str,
        msgpack: Option<&[u8]>,
        summary: &str,
        during: &str,
    ) {
        let Some(bytes) = msgpack else { return };
        let schemas = self.schemas().await.expect("GetProviderSchema");
        let Some(schema) = schemas.resources.get(type_name) else {
            return;
        };
        let value = schema.decode(bytes);
        if value.is_null() {
            return;
        }
        for (name, attr) in &schema.attrs {
            if attr.write_only && !value.get(name).is_null() {
                panic!(
                    "{}: {summary}: Provider returned a value for the write-only attribute \"{type_name}.{name}\" \
                     {during}. Write-only attributes cannot be read back from the provider.",
                    self.name()
                );
            }
        }
    }

    /// PlanResourceChange as Terraform 1.11 sends it (ClientCapabilities with
    /// `write_only_attributes_allowed`), with Terraform's checks of the answer (see
    /// [`objchange`]): a plan Terraform would call invalid fails the test.
    pub async fn plan(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        proposed: Option<Dv>,
        config: Option<Dv>,
    ) -> Result<Planned, Status> {
        self.plan_as(type_name, prior, proposed, config, Some(true))
            .await
    }

    /// PlanResourceChange with `write_only_attributes_allowed` as given (`None`: no
    /// ClientCapabilities at all, as Terraform < 1.9 sends it), with Terraform's checks.
    pub async fn plan_as(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        proposed: Option<Dv>,
        config: Option<Dv>,
        write_only_allowed: Option<bool>,
    ) -> Result<Planned, Status> {
        let planned = self
            .plan_unchecked(
                type_name,
                prior.clone(),
                proposed,
                config.clone(),
                write_only_allowed,
            )
            .await?;
        if errors(&planned.diags).is_empty()
            && let Some(bytes) = &planned.planned
            && let Some(schema) = self.resource_schema(type_name).await
        {
            let planned_v = schema.decode(bytes);
            let problems = objchange::plan_problems(
                &schema,
                &dv_value(&schema, prior.as_ref()),
                &dv_value(&schema, config.as_ref()),
                &planned_v,
            );
            assert!(problems.is_empty(), "{type_name}:\n{}", problems.join("\n"));
        }
        Ok(planned)
    }

    /// ApplyResourceChange, with Terraform's checks of the new state (see [`objchange`]):
    /// a result Terraform would call inconsistent fails the test. (Terraform skips them
    /// when the provider reports an error, and so does this.)
    pub async fn apply(
        &mut self,
        type_name: &str,
        prior: Option<Dv>,
        planned: Option<Dv>,
        config: Option<Dv>,
    ) -> Result<Applied, Status> {
        let applied = self
            .apply_unchecked(type_name, prior, planned.clone(), config)
            .await?;
        if errors(&applied.diags).is_empty()
            && let Some(schema) = self.resource_schema(type_name).await
        {
            let new_state = applied
                .new_state
                .as_deref()
                .map_or(Value::Null, |b| schema.decode(b));
            let problems = objchange::apply_problems(
                &schema,
                &dv_value(&schema, planned.as_ref()),
                &new_state,
            );
            assert!(problems.is_empty(), "{type_name}:\n{}", problems.join("\n"));
        }
        Ok(applied)
    }

    /// The served schema of a resource type (asked after the call under test, so a test of
    /// RPCs made without GetProviderSchema stays one).
    async fn resource_schema(&mut self, type_name: &str) -> Option<WireSchema> {
        let mut all = self.schemas().await.ok()?;
        all.resources.remove(type_name)
    }
}
