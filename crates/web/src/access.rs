//! Access as a type: the route table and the write capability.
//!
//! Every route of the app is a [`RouteSpec`]: its method, path, the roles that may call it and
//! whether it changes data. The router is built from these specs only ([`crate::router`]), and
//! each route is wrapped in [`enforce`], which signs the viewer in and refuses any role the
//! spec does not name before the handler runs. The access matrix test reads the same table,
//! so a route cannot exist without a declared access rule.
//!
//! A handler that changes data asks the viewer for a [`WriteCapability`]
//! ([`Viewer::may_write`]): only roles that may write get one, and only with the form's CSRF
//! token. Web writes to the store name their actor through the capability, so a write without
//! one does not compile.
//!
//! A handler reaches data only through a handle a check produced (`access/handles.rs`): the viewer's
//! [`Reader`], narrowed to their scope, a [`Writer`] from a capability, or a role's handle
//! ([`AuditLog`], [`UserDirectory`], [`AccountAdmin`], [`Designer`]). The raw store is kept in a
//! [`RawStore`], whose inside only this module (and sign-in, [`SignIn`]) opens.

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::{AppState, WebError};
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use obc_app::drafts::Drafts;
use obc_store::{Role, Store, StoreError, User};
use std::sync::Arc;

mod handles;
pub use handles::{
    AccountAdmin, AuditLog, DesignDistrict, Designer, OwnAccount, Reader, ScopedContract,
    ScopedMeeting, ScopedStudent, SignIn, UserDirectory, Writer,
};

/// The app's store and the in-memory copies of its stored drafts (see `obc_app::drafts`),
/// opened only by the handles of this module.
#[derive(Clone)]
pub struct RawStore {
    store: Store,
    drafts: Arc<Drafts>,
}

impl RawStore {
    pub(crate) fn new(store: Store) -> RawStore {
        RawStore {
            store,
            drafts: Arc::default(),
        }
    }
}

impl AppState {
    /// Brings every contract's stored drafts up to date in the background, after something
    /// that may have changed them (an import, a finalization) and at start: the next page
    /// reads them instead of computing them.
    pub async fn refresh_drafts(&self) -> Result<(), StoreError> {
        if !self.refresh_drafts_in_background {
            return Ok(());
        }
        let store = &self.store.store;
        let mut contracts = Vec::new();
        for (id, _) in store.contracts().await? {
            contracts.push(store.contract(&id).await?);
        }
        self.store.drafts.refresh_in_background(store, contracts);
        Ok(())
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Anyone, signed in or not (the sign-in form, the stylesheet, the API's description).
    Anyone,
    /// Signed-in users of these roles; the handler may narrow further by scope (404).
    Roles(&'static [Role]),
}

impl Allowed {
    /// Whether a signed-in user of `role` passes.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Allowed::Anyone => true,
            Allowed::Roles(roles) => roles.contains(&role),
        }
    }
}

/// Every role.
pub const SIGNED_IN: Allowed =
    Allowed::Roles(&[Role::Admin, Role::District, Role::Provider, Role::Auditor]);
/// The roles that change data: everyone but auditors, who only read.
pub const STAFF: Allowed = Allowed::Roles(&WRITERS);
pub const ADMIN: Allowed = Allowed::Roles(&[Role::Admin]);
/// Admins and auditors: the audit log and ledger verification.
pub const AUDITORS: Allowed = Allowed::Roles(&[Role::Admin, Role::Auditor]);
/// Admins and district staff: contract design and targeting.
pub const DESIGNERS: Allowed = Allowed::Roles(&[Role::Admin, Role::District]);
/// The parties of a statement: they dispute and approve it.
pub const PARTIES: Allowed = Allowed::Roles(&[Role::District, Role::Provider]);
/// Admins and district staff: district data (rosters, results, school attendance).
pub const DISTRICT_DATA: Allowed = Allowed::Roles(&[Role::Admin, Role::District]);
/// Admins and providers: session uploads, the provider's console.
pub const PROVIDERS: Allowed = Allowed::Roles(&[Role::Admin, Role::Provider]);

/// The roles a [`WriteCapability`] is granted to.
const WRITERS: [Role; 3] = [Role::Admin, Role::District, Role::Provider];

/// What a route does to stored data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Only reads (exports and sign-ins are audited, which is not a change of data).
    Reads,
    /// Changes the caller's own sign-in or password, allowed to every role.
    OwnAccount,
    /// Changes data: needs a [`WriteCapability`], never granted to auditors.
    Writes,
}

/// One route of the app.
pub struct RouteSpec {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The router's pattern, e.g. `/contracts/{id}`.
    pub path: &'static str,
    pub allowed: Allowed,
    pub effect: Effect,
    /// The handler, as the method router of `method`.
    pub handler: fn() -> MethodRouter<AppState>,
}

impl RouteSpec {
    /// Whether the route answers the JSON API (its refusals are JSON, never a redirect).
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }
}

/// Adds every spec to a router, each wrapped in [`enforce`]. Specs of the same path share
/// one method router.
pub(crate) fn build(state: &AppState, table: &[&'static RouteSpec]) -> Router<AppState> {
    table.iter().fold(Router::new(), |router, spec| {
        let guarded = (spec.handler)().route_layer(middleware::from_fn_with_state(
            (state.clone(), *spec),
            enforce,
        ));
        router.route(spec.path, guarded)
    })
}

/// Signs the viewer in and refuses roles the spec does not allow (403; an anonymous page
/// request goes to the sign-in form, an anonymous API call gets 401). The viewer is handed
/// on to the handler, which reads it without asking the store again.
async fn enforce(
    State((state, spec)): State<(AppState, &'static RouteSpec)>,
    request: Request,
    next: Next,
) -> Response {
    let refuse = |e: WebError| {
        if spec.is_api() {
            ApiError::from(e).into_response()
        } else {
            e.into_response()
        }
    };
    let Allowed::Roles(_) = spec.allowed else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let viewer = match Viewer::from_request_parts(&mut parts, &state).await {
        Ok(viewer) => viewer,
        Err(e) => return refuse(e),
    };
    if !spec.allowed.admits(viewer.role())
        || (spec.effect == Effect::Writes && !WRITERS.contains(&viewer.role()))
    {
        return refuse(WebError::forbidden("your role may not do this"));
    }
    parts.extensions.insert(viewer);
    next.run(Request::from_parts(parts, body)).await
}

/// Proof that the viewer may change data: their role writes and the request carried the
/// form's CSRF token. Only [`Viewer::may_write`] makes one; web writes to the store take
/// their actor (and the scope they are checked in) from it.
#[derive(Debug)]
pub struct WriteCapability {
    user: User,
}

impl WriteCapability {
    /// The username the store records as the actor of the write.
    pub fn actor(&self) -> &str {
        &self.user.username
    }
}

impl Viewer {
    /// The capability to write, if the viewer's role grants it and `csrf` is the session's
    /// form token (API-token requests carry none and need none); else 403.
    pub fn may_write(&self, csrf: Option<&str>) -> Result<WriteCapability, WebError> {
        if !WRITERS.contains(&self.role()) {
            return Err(WebError::forbidden("your role only reads"));
        }
        self.check_csrf(csrf)?;
        Ok(WriteCapability {
            user: self.user.clone(),
        })
    }

    /// Like [`Viewer::may_write`], and only for the listed roles.
    pub fn may_write_as(
        &self,
        roles: &[Role],
        csrf: Option<&str>,
    ) -> Result<WriteCapability, WebError> {
        self.require(roles)?;
        self.may_write(csrf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role) -> Viewer {
        Viewer {
            user: User {
                id: 1,
                username: "someone".into(),
                role,
                org_id: None,
            },
            csrf: Some("token".into()),
        }
    }

    #[test]
    fn auditors_never_get_a_write_capability() {
        assert_eq!(
            viewer(Role::Auditor)
                .may_write(Some("token"))
                .unwrap_err()
                .status,
            axum::http::StatusCode::FORBIDDEN
        );
        for role in WRITERS {
            let cap = viewer(role).may_write(Some("token")).unwrap();
            assert_eq!(cap.actor(), "someone");
            assert!(viewer(role).may_write(Some("stale")).is_err());
            assert!(viewer(role).may_write(None).is_err());
        }
        assert!(viewer(Role::District)
            .may_write_as(&[Role::Admin], Some("token"))
            .is_err());
    }

    /// Each spec's `method` is its handler's: a request with it is routed (whatever the
    /// answer), one with the other method is 405 unless the table routes that too.
    #[tokio::test]
    async fn every_route_answers_the_method_its_spec_names() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("routes.db");
        let store = obc_store::Store::open(db.to_str().unwrap(), true)
            .await
            .unwrap();
        let router = crate::router(AppState::new(store));
        let table = crate::route_table();
        for spec in &table {
            let path = spec.path.replace(['{', '}'], "");
            let other = if spec.method == "GET" { "POST" } else { "GET" };
            let status = |method: &str| {
                let request = axum::http::Request::builder()
                    .method(method)
                    .uri(&path)
                    .body(axum::body::Body::empty())
                    .unwrap();
                let router = router.clone();
                async move { router.oneshot(request).await.unwrap().status() }
            };
            let method_not_allowed = axum::http::StatusCode::METHOD_NOT_ALLOWED;
            assert_ne!(
                status(spec.method).await,
                method_not_allowed,
                "{}",
                spec.path
            );
            if !table
                .iter()
                .any(|s| s.path == spec.path && s.method == other)
            {
                assert_eq!(
                    status(other).await,
                    method_not_allowed,
                    "{other} {}",
                    spec.path
                );
            }
        }
    }

    #[test]
    fn roles_are_admitted_only_when_listed() {
        assert!(Allowed::Anyone.admits(Role::Auditor));
        assert!(AUDITORS.admits(Role::Auditor) && !AUDITORS.admits(Role::Provider));
        assert!(!STAFF.admits(Role::Auditor));
    }
}
