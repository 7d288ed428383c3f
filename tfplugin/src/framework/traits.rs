//! The traits a provider's resources implement on the framework: [`Resource`] (managed,
//! over typed state) and [`DataSource`] (configuration in, object out), with what their
//! operations take and return ([`Ctx`], [`Outcome`], [`PlanNotes`]). The provider itself is
//! `super::provider::ProviderDef`.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::Diagnostics;
use super::model::TfValue;
use super::schema::Schema;

/// What a resource operation hands to the resource: the configured provider data and the
/// token cancelled when Terraform sends StopProvider.
pub struct Ctx<'a, D> {
    /// What `ProviderDef::configure` returned.
    pub data: &'a D,
    /// Cancelled when Terraform sends StopProvider.
    pub cancel: &'a CancellationToken,
}

/// The result of a resource operation. `state` is the object as it now exists:
/// `None` means "nothing" for create and read (never created, or gone) and "unchanged"
/// for update and delete. Errors may come with a state: a partial apply is recorded.
pub struct Outcome<S> {
    /// The object as it now exists (see the type's documentation).
    pub state: Option<S>,
    /// Errors and warnings for Terraform.
    pub diags: Diagnostics,
}

impl<S> Outcome<S> {
    /// Success with this state.
    pub fn ok(state: S) -> Self {
        Outcome {
            state: Some(state),
            diags: Diagnostics::new(),
        }
    }
    /// Success with no state: gone, or unchanged.
    pub fn none() -> Self {
        Outcome {
            state: None,
            diags: Diagnostics::new(),
        }
    }
    /// Failure, with nothing new to record.
    pub fn err(diags: impl Into<Diagnostics>) -> Self {
        Outcome {
            state: None,
            diags: diags.into(),
        }
    }
    /// Failure that still changed the object: `state` is recorded.
    pub fn partial(state: S, diags: impl Into<Diagnostics>) -> Self {
        Outcome {
            state: Some(state),
            diags: diags.into(),
        }
    }
}

/// What a resource adds to the plan the framework computed.
#[derive(Default)]
pub struct PlanNotes {
    /// Errors and warnings for the plan.
    pub diags: Diagnostics,
    /// Force-new attributes whose new value names the same thing as the prior one (say,
    /// a group's id and its path): changing them does not replace the object.
    pub equivalent: Vec<&'static str>,
}

/// A managed resource over typed state.
#[async_trait]
pub trait Resource<D: Send + Sync + 'static>: Send + Sync + 'static {
    /// The typed state, one field per attribute (see [`crate::tf_model!`]).
    type State: TfValue + Send + Sync;
    /// The resource type name (`<provider>_<name>`).
    fn type_name(&self) -> &'static str;
    /// The schema, with its behaviour.
    fn schema(&self) -> Schema;
    /// Checks across attributes (the schema's validators already ran); `config` may hold
    /// unknown values.
    fn validate(&self, _config: &Self::State) -> Diagnostics {
        Diagnostics::new()
    }
    /// Adjusts the plan the framework computed (which already has defaults, unknowns and
    /// stable values). `prior` is `None` on create.
    async fn modify_plan(
        &self,
        _ctx: &Ctx<'_, D>,
        _prior: Option<&Self::State>,
        _planned: &mut Self::State,
        _config: &Self::State,
    ) -> PlanNotes {
        PlanNotes::default()
    }
    /// Rewrites stored state (raw JSON attributes) written by an older schema version or
    /// by another provider (`terraform state replace-provider`) before it is decoded.
    fn migrate_state(
        &self,
        _version: i64,
        _attributes: &mut serde_json::Map<String, serde_json::Value>,
    ) {
    }
    /// Creates the object the plan describes; returns it as it now exists.
    async fn create(&self, ctx: &Ctx<'_, D>, planned: Self::State) -> Outcome<Self::State>;
    /// Reads the object; `Outcome::none()` when it is gone.
    async fn read(&self, ctx: &Ctx<'_, D>, state: Self::State) -> Outcome<Self::State>;
    /// Changes the object from `prior` to `planned`.
    async fn update(
        &self,
        ctx: &Ctx<'_, D>,
        prior: Self::State,
        planned: Self::State,
    ) -> Outcome<Self::State>;
    /// Deletes the object.
    async fn delete(&self, ctx: &Ctx<'_, D>, prior: Self::State) -> Outcome<Self::State>;
    /// Reads the object `id` names, for `terraform import`.
    async fn import(&self, ctx: &Ctx<'_, D>, id: &str) -> Outcome<Self::State>;
}

/// A data source over a typed model (configuration in, full object out).
#[async_trait]
pub trait DataSource<D: Send + Sync + 'static>: Send + Sync + 'static {
    /// The typed configuration and result, one field per attribute.
    type Model: TfValue + Send + Sync;
    /// The data source type name (`<provider>_<name>`).
    fn type_name(&self) -> &'static str;
    /// The schema, with its behaviour.
    fn schema(&self) -> Schema;
    /// Checks across attributes (the schema's validators already ran).
    fn validate(&self, _config: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }
    /// Reads the object the configuration names.
    async fn read(&self, ctx: &Ctx<'_, D>, config: Self::Model)
    -> Result<Self::Model, Diagnostics>;
}
