//! Administration → Cluster: the page view of `/api/v1/cluster`.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::api::cluster::{NodeView, cluster_of};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/cluster", get(cluster_page))
}

#[derive(Template)]
#[template(path = "admin_cluster.html")]
struct ClusterPage {
    nodes: Vec<NodeView>,
    live_collectors: usize,
    servers_held: u64,
}

async fn cluster_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let view = cluster_of(&state).await?;
    let page = ClusterPage {
        nodes: view.nodes,
        live_collectors: view.live_collectors,
        servers_held: view.servers_held,
    };
    Ok(match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    })
}
