//! The demo's login: an administrator `admin` with a password generated at each start and
//! printed once (there is no default password anywhere in licmon).

use chrono::Utc;
use licmon_server::auth::accounts::{self, NewAccount};
use licmon_server::auth::secrets::generate_password;
use licmon_store::{AuthStore, Role, StoreError};

pub const DEMO_ADMIN: &str = "admin";

/// Creates `admin` (or gives an existing one a new password) and returns the line to print.
pub async fn prepare(store: &licmon_store::SqlStore) -> anyhow::Result<String> {
    let password = generate_password();
    let now = Utc::now();
    match store.find_user(DEMO_ADMIN).await {
        Ok(user) => accounts::change_password(store, &user, password.clone(), now).await,
        Err(StoreError::NotFound) => accounts::create_account(
            store,
            NewAccount {
                name: DEMO_ADMIN.into(),
                password: password.clone(),
                role: Role::Administrator,
                permitted_servers: None,
            },
            now,
        )
        .await
        .map(|_| ()),
        Err(e) => return Err(e.into()),
    }
    .map_err(|e| anyhow::anyhow!("cannot create the demo administrator: {e:?}"))?;
    Ok(format!(
        "Log in as {DEMO_ADMIN} with password {password} (generated for this run)"
    ))
}
