//! `licmon user …` and `licmon token …`: accounts and tokens straight in the database, without
//! the web server — how the first administrator is made, and what scripts use.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use chrono::Utc;
use licmon_server::auth::accounts::{self, NewAccount, ensure_other_admin, parse_server_list};
use licmon_store::{AuthStore, Role, Store, TokenScope};

use crate::config::CommonFlags;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is asked for (twice), or read from stdin.
    Add {
        #[command(flatten)]
        common: CommonFlags,
        /// Make an Administrator (default: a User, who can only read).
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin (for scripts).
        #[arg(long)]
        password_stdin: bool,
        /// Limit a User to these license-server ids (comma-separated); default: all.
        #[arg(long, value_name = "IDS")]
        servers: Option<String>,
        name: String,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        common: CommonFlags,
    },
    /// Delete an account with its sessions and tokens.
    Delete {
        #[command(flatten)]
        common: CommonFlags,
        name: String,
    },
    /// Set a new password (ends the account's login sessions).
    Passwd {
        #[command(flatten)]
        common: CommonFlags,
        #[arg(long)]
        password_stdin: bool,
        name: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print only the token on stdout (shown once; stored hashed).
    Create {
        #[command(flatten)]
        common: CommonFlags,
        /// The owner; an `api` token can do what the owner's role allows.
        #[arg(long)]
        user: String,
        /// `api` (the REST API) or `agent` (only the agent endpoints).
        #[arg(long, value_parser = ["api", "agent"])]
        scope: String,
        /// A label, e.g. "nightly report".
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List tokens (never the secrets).
    List {
        #[command(flatten)]
        common: CommonFlags,
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id; requests with it get 401 from then on.
    Revoke {
        #[command(flatten)]
        common: CommonFlags,
        id: i64,
    },
}

async fn open(common: &CommonFlags) -> anyhow::Result<std::sync::Arc<licmon_store::SqlStore>> {
    let config = crate::load_config(common)?;
    crate::serve::open_store(&config).await
}

fn read_password(from_stdin: bool, name: &str) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password: pass it with --password-stdin");
    }
    let first = rpassword::prompt_password(format!("Password for {name}: "))?;
    let again = rpassword::prompt_password("Again: ")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

fn api_error(e: licmon_server::ApiError) -> anyhow::Error {
    use licmon_server::ApiError::*;
    anyhow::anyhow!(match e {
        Invalid(errors) => errors.to_string(),
        NotFound(m) | Conflict(m) | BadRequest(m) | Internal(m) | Forbidden(m) => m,
        other => format!("{other:?}"),
    })
}

async fn audit(store: &dyn Store, message: &str) {
    let _ = store
        .log_event(
            Utc::now(),
            None,
            "auth",
            &format!("{message} (command line)"),
        )
        .await;
}

pub async fn run_user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            common,
            admin,
            password_stdin,
            servers,
            name,
        } => {
            let password = read_password(password_stdin, &name)?;
            let store = open(&common).await?;
            let account = NewAccount {
                name,
                password,
                role: if admin {
                    Role::Administrator
                } else {
                    Role::User
                },
                permitted_servers: parse_server_list(servers.as_deref().unwrap_or(""))
                    .map_err(api_error)?,
            };
            let user = accounts::create_account(store.as_ref(), account, Utc::now())
                .await
                .map_err(api_error)?;
            audit(
                store.as_ref(),
                &format!("user \"{}\" ({}) created", user.name, user.role.as_str()),
            )
            .await;
            eprintln!(
                "created {} \"{}\" (id {})",
                user.role.as_str(),
                user.name,
                user.id
            );
        }
        UserCommand::List { common } => {
            let store = open(&common).await?;
            for u in store.list_users().await? {
                let servers = match &u.permitted_servers {
                    None => "all".to_string(),
                    Some(ids) => ids
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                };
                println!(
                    "{}\t{}\t{}\tservers: {servers}",
                    u.id,
                    u.name,
                    u.role.as_str()
                );
            }
        }
        UserCommand::Delete { common, name } => {
            let store = open(&common).await?;
            let user = store
                .find_user(&name)
                .await
                .with_context(|| format!("no user named \"{name}\""))?;
            ensure_other_admin(store.as_ref(), &user)
                .await
                .map_err(api_error)?;
            store.delete_user(user.id).await?;
            audit(store.as_ref(), &format!("user \"{name}\" deleted")).await;
            eprintln!("deleted \"{name}\"");
        }
        UserCommand::Passwd {
            common,
            password_stdin,
            name,
        } => {
            let password = read_password(password_stdin, &name)?;
            let store = open(&common).await?;
            let user = store
                .find_user(&name)
                .await
                .with_context(|| format!("no user named \"{name}\""))?;
            accounts::change_password(store.as_ref(), &user, password, Utc::now())
                .await
                .map_err(api_error)?;
            audit(store.as_ref(), &format!("password of \"{name}\" changed")).await;
            eprintln!("password of \"{name}\" changed; its login sessions ended");
        }
    }
    Ok(())
}

pub async fn run_token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            common,
            user,
            scope,
            name,
        } => {
            let store = open(&common).await?;
            let scope = TokenScope::parse(&scope).context("scope is api or agent")?;
            let (secret, info) =
                accounts::create_token(store.as_ref(), &user, scope, &name, Utc::now())
                    .await
                    .map_err(api_error)?;
            audit(
                store.as_ref(),
                &format!(
                    "{} token {} \"{}\" for \"{}\" created",
                    info.scope.as_str(),
                    info.id,
                    info.name,
                    info.user_name
                ),
            )
            .await;
            println!("{secret}");
        }
        TokenCommand::List { common, user } => {
            let store = open(&common).await?;
            for t in store.list_tokens(None).await? {
                if user.as_ref().is_some_and(|u| *u != t.user_name) {
                    continue;
                }
                let state = match t.revoked_at {
                    Some(at) => format!("revoked {}", at.to_rfc3339()),
                    None => "active".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.user_name,
                    t.scope.as_str(),
                    t.name
                );
            }
        }
        TokenCommand::Revoke { common, id } => {
            let store = open(&common).await?;
            let t = store
                .revoke_token(id, Utc::now())
                .await
                .with_context(|| format!("no token with id {id}"))?;
            audit(
                store.as_ref(),
                &format!(
                    "token {} \"{}\" of \"{}\" revoked",
                    t.id, t.name, t.user_name
                ),
            )
            .await;
            eprintln!("revoked token {id}");
        }
    }
    Ok(())
}
