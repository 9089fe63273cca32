//! `obc serve` and `obc user`: the web app and its logins.

use crate::RoleArg;
use anyhow::{bail, Result};
use obc_store::{Role, Store};
use obc_web::auth::{check_new_password, hash_password, random_token};

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Admin => Role::Admin,
        RoleArg::District => Role::District,
        RoleArg::Provider => Role::Provider,
        RoleArg::Auditor => Role::Auditor,
    }
}

/// The password from OBC_PASSWORD, else a random one (and whether it was generated).
fn new_password() -> Result<(String, bool)> {
    let (password, generated) = match std::env::var("OBC_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (random_token()[..16].to_string(), true),
    };
    check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok((password, generated))
}

pub async fn add_user(
    store: &Store,
    actor: &str,
    username: &str,
    role_arg: RoleArg,
    org: Option<&str>,
) -> Result<()> {
    let (password, generated) = new_password()?;
    let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
    let user = store
        .add_user(actor, username, &hash, role(role_arg), org)
        .await?;
    println!(
        "User {} added ({}{})",
        user.username,
        user.role.as_str(),
        user.org_id
            .as_deref()
            .map(|o| format!(", {o}"))
            .unwrap_or_default()
    );
    if generated {
        println!("Password: {password}");
    }
    Ok(())
}

pub async fn set_password(store: &Store, actor: &str, username: &str) -> Result<()> {
    let (password, generated) = new_password()?;
    let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
    store.set_password(actor, username, &hash, None).await?;
    println!("Password of {username} changed; their sign-ins were ended.");
    if generated {
        println!("Password: {password}");
    }
    Ok(())
}

pub async fn list_users(store: &Store) -> Result<()> {
    println!("{:<20} {:<9} {:<20} status", "user", "role", "organisation");
    for u in store.users().await? {
        let status = match &u.disabled_at {
            Some(at) => format!("disabled {at}"),
            None => "active".into(),
        };
        println!(
            "{:<20} {:<9} {:<20} {status}",
            u.user.username,
            u.user.role.as_str(),
            u.user.org_id.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

pub async fn add_token(
    store: &Store,
    actor: &str,
    username: &str,
    label: &str,
    days: u16,
) -> Result<()> {
    let Some(account) = store.user_for_login(username).await? else {
        bail!("no user \"{username}\" (add one with `obc user add`)");
    };
    if account.disabled {
        bail!("user \"{username}\" is disabled (`obc user enable {username}` first)");
    }
    let token = random_token();
    let stored = store
        .add_api_token(
            actor,
            &account.user,
            &token,
            label,
            time::Duration::days(i64::from(days)),
        )
        .await?;
    println!("{token}");
    eprintln!(
        "Keep this token secret; it is shown only once. Use it as: Authorization: Bearer <token>\nIt expires {} (id {}; revoke it with `obc user token-revoke {}`).",
        stored.expires_at, stored.id, stored.id
    );
    Ok(())
}

pub async fn list_tokens(store: &Store, username: Option<&str>) -> Result<()> {
    println!(
        "{:<12} {:<20} {:<16} {:<20} {:<20} revoked",
        "id", "user", "label", "created", "expires"
    );
    for t in store.api_tokens(username).await? {
        println!(
            "{:<12} {:<20} {:<16} {:<20} {:<20} {}",
            t.id,
            t.username,
            t.label,
            t.created_at,
            t.expires_at,
            t.revoked_at.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// The demo's logins, one per role; created once, with passwords that say they are for demos.
const DEMO_USERS: [(&str, Role, Option<&str>); 4] = [
    ("admin", Role::Admin, None),
    ("district", Role::District, Some(obc_demo::DISTRICT_ID)),
    ("provider", Role::Provider, Some(obc_demo::PROVIDER_ID)),
    ("auditor", Role::Auditor, None),
];

pub async fn demo_users(store: &Store, actor: &str) -> Result<()> {
    println!("Demo logins (for a local demo only):");
    for (username, role, org) in DEMO_USERS {
        let password = format!("{username}-demo");
        if store.user_for_login(username).await?.is_none() {
            let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
            store.add_user(actor, username, &hash, role, org).await?;
        }
        println!("  {:<9} {:<14} ({})", username, password, role.as_str());
    }
    Ok(())
}

pub async fn serve(store: &Store, listen: &str, secure_cookies: bool) -> Result<()> {
    let mut state = obc_web::AppState::new(store.clone());
    state.secure_cookies = secure_cookies;
    // Browsers keep the Secure session cookie over plain HTTP only for `localhost`.
    let shown = match listen.strip_prefix("127.0.0.1:") {
        Some(port) => format!("localhost:{port}"),
        None => listen.to_string(),
    };
    println!("obc is serving on http://{shown}/ (Ctrl-C to stop)");
    obc_web::init_logging();
    obc_web::serve(state, listen).await?;
    Ok(())
}
